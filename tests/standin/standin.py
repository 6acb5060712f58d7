#!/usr/bin/python3
"""Stand-in kubeadm, kubelet and kubectl for kindling's tests, and a stand-in API server.

Installed as /usr/bin/{kubeadm,kubelet,kubectl} (symlinks: the tool is argv[0]'s name) in the
stand-in node image. No Kubernetes server binary exists on the test machines, so these answer
the calls kindling makes the way the real tools do, log every call for the tests to read, and
fail or hang on request. Everything around them is real: systemd, TLS (OpenSSL), certificates.

    standin.py apiserver     runs the stand-in API server (started by the stand-in kubeadm)
"""

import base64
import calendar
import fcntl
import http.client
import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml

CALLS_LOG = "/var/log/kindling-standin/calls.jsonl"
# One line per finished invocation (start, end, exit code), so tests can check what overlapped.
EXITS_LOG = "/var/log/kindling-standin/exits.jsonl"
DIRECTIVES_FILE = "/kind/standin/directives"
DIRECTIVES_ENV = "KINDLING_STANDIN_DIRECTIVES"
VERSION_FILE = "/kind/version"
PKI = "/etc/kubernetes/pki"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
KUBEADM_FLAGS = "/var/lib/kubelet/kubeadm-flags.env"
APISERVER_UNIT = "standin-apiserver.service"
APISERVER_PORT = 6443
HERE = os.path.realpath(__file__)


def kube_version():
    try:
        with open(VERSION_FILE) as f:
            return f.read().strip() or "v0.0.0"
    except OSError:
        return "v0.0.0"


def hostname():
    return socket.gethostname()


def err(*lines):
    for line in lines:
        print(line, file=sys.stderr)
    sys.stderr.flush()


# --- invocation log and directives ----------------------------------------------------------


def containerd_answers():
    """Whether containerd's socket accepts a connection, as the kubelet's CRI client needs;
    systemd started it (Type=notify), so systemd also runs. Recorded with every call so tests
    can tell whether kindling used a node before it was ready."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect("/run/containerd/containerd.sock")
        return True
    except OSError:
        return False
    finally:
        sock.close()


def log_call(tool, argv, stdin, files):
    """Appends one JSON line to the call log."""
    append_record(CALLS_LOG, {
        "tool": tool,
        "argv": argv,
        "stdin": stdin,
        "files": files,
        "node": hostname(),
        "time_ms": int(time.time() * 1000),
        "containerd_ready": containerd_answers(),
    })


def log_exit(tool, argv, code, start_ms):
    """Appends one JSON line to the exit log when an invocation returns."""
    append_record(EXITS_LOG, {
        "tool": tool,
        "argv": argv,
        "exit_code": code,
        "node": hostname(),
        "start_ms": start_ms,
        "end_ms": int(time.time() * 1000),
    })


def append_record(path, record):
    """A single write under an exclusive lock keeps lines whole."""
    line = (json.dumps(record) + "\n").encode()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        os.close(fd)


def read_directives():
    """Directive lines from the directives file and the environment, in that order."""
    text = ""
    try:
        with open(DIRECTIVES_FILE) as f:
            text += f.read() + "\n"
    except OSError:
        pass
    text += os.environ.get(DIRECTIVES_ENV, "")
    directives = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("fail", "hang") and len(words) > 1:
            directives.append((words[0], words[1:]))
        elif words == ["notready"]:
            directives.append(("notready", []))
        else:
            err("standin: ignoring unknown directive: " + line)
    return directives


def matches(prefix, tool, argv):
    """True when the words of prefix start "<tool> <argv...>", or the same without options
    (so that "kubectl taint" matches "kubectl --kubeconfig=F taint nodes ...")."""
    words = [tool] + argv
    bare = [tool] + [a for a in argv if not a.startswith("-")]
    return words[: len(prefix)] == prefix or bare[: len(prefix)] == prefix


FAILURE_TEXT = {
    "kubeadm": [
        "I0000 00:00:00.000000     100 waitcontrolplane.go:83] [wait-control-plane] Waiting for the API server",
        "[kubelet-check] The kubelet is not healthy after 4m0s",
        "",
        "Unfortunately, an error has occurred:",
        "\tcontext deadline exceeded",
        "",
        "This error is likely caused by:",
        "\t- The kubelet is not running",
        "\t- The kubelet is unhealthy due to a misconfiguration of the node in some way",
        "error execution phase wait-control-plane: could not initialize a Kubernetes cluster",
        "To see the stack trace of this error execute with --v=5 or higher",
    ],
    "kubectl": [
        'Error from server (InternalError): error when creating "STDIN": Internal error occurred: '
        "failed calling webhook: context deadline exceeded",
    ],
    "kubelet": [
        'E0000 00:00:00.000000     100 run.go:72] "command failed" err="failed to run Kubelet: '
        'validate service connection: validate CRI v1 runtime API for endpoint"',
    ],
}


def apply_directives(tool, argv):
    """Fails or hangs when a directive asks for it; returns whether "notready" is set."""
    notready = False
    for action, prefix in read_directives():
        if action == "notready":
            notready = True
        elif matches(prefix, tool, argv):
            what = " ".join(prefix)
            if action == "hang":
                while True:
                    time.sleep(3600)
            err(*FAILURE_TEXT[tool])
            err("standin: failing on request: " + what)
            sys.exit(1)
    return notready


# --- shared helpers ---------------------------------------------------------------------------


def flag_value(argv, *names):
    """The value of the last --name=V / --name V / -n V among argv, or None."""
    value = None
    for i, arg in enumerate(argv):
        for name in names:
            if arg.startswith(name + "="):
                value = arg[len(name) + 1 :]
            elif arg == name and i + 1 < len(argv):
                value = argv[i + 1]
    return value


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def run(cmd, timeout=60, check=True):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(
            "%s failed: %s" % (" ".join(cmd), (result.stderr or result.stdout).strip())
        )
    return result


def wait_for_systemd():
    """kindling may exec into a node as soon as the entrypoint logged "detected cgroup v1",
    before systemd is up: wait (bounded) before talking to it."""
    try:
        run(["systemctl", "is-system-running", "--wait"], timeout=90, check=False)
    except subprocess.TimeoutExpired:
        pass


def version_info(version):
    m = re.match(r"v?(\d+)\.(\d+)", version)
    major, minor = (m.group(1), m.group(2)) if m else ("0", "0")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


# --- kubeadm ----------------------------------------------------------------------------------


class KubeadmError(Exception):
    """A failure reported the way kubeadm reports one: message lines, exit status 1."""


def load_kubeadm_config(path):
    if path is None:
        raise KubeadmError("standin: this stand-in kubeadm needs --config")
    try:
        text = read_text(path)
    except OSError as e:
        raise KubeadmError(
            'unable to read config from "%s" : open %s: %s' % (path, path, e.strerror.lower())
        )
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise KubeadmError("error converting YAML to JSON: yaml: %s" % str(e).replace("\n", " "))
    by_kind = {}
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise KubeadmError(
                'couldn\'t decode config file "%s": Object \'Kind\' is missing in \'%s\''
                % (path, json.dumps(doc))
            )
        group = str(doc["apiVersion"]).split("/")[0]
        if group == "kubeadm.k8s.io" and doc["apiVersion"] not in (
            "kubeadm.k8s.io/v1beta3",
            "kubeadm.k8s.io/v1beta4",
        ):
            raise KubeadmError(
                'no kind "%s" is registered for version "%s" in scheme'
                % (doc["kind"], doc["apiVersion"])
            )
        by_kind[doc["kind"]] = doc
    return by_kind


def kubelet_extra_args(node_registration):
    """kubeletExtraArgs as (name, value) pairs: a map in v1beta3, a list in v1beta4."""
    args = (node_registration or {}).get("kubeletExtraArgs") or {}
    if isinstance(args, dict):
        return sorted((str(k), str(v)) for k, v in args.items())
    return [(str(a.get("name")), str(a.get("value", ""))) for a in args]


def write_kubelet_files(config, section):
    kubelet = config.get("KubeletConfiguration")
    if kubelet is None:
        kubelet = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
    os.makedirs(os.path.dirname(KUBELET_CONFIG), exist_ok=True)
    with open(KUBELET_CONFIG, "w") as f:
        yaml.safe_dump(kubelet, f, default_flow_style=False)
    registration = (config.get(section) or {}).get("nodeRegistration") or {}
    flags = ["--container-runtime-endpoint=%s" % registration.get(
        "criSocket", "unix:///run/containerd/containerd.sock")]
    flags += ["--%s=%s" % (k, v) for k, v in kubelet_extra_args(registration)]
    with open(KUBEADM_FLAGS, "w") as f:
        f.write('KUBELET_KUBEADM_ARGS="%s"\n' % " ".join(flags))
    print('[kubelet-start] Writing kubelet environment file with flags to file "%s"' % KUBEADM_FLAGS)
    print('[kubelet-start] Writing kubelet configuration to file "%s"' % KUBELET_CONFIG)
    print("[kubelet-start] Starting the kubelet")
    wait_for_systemd()
    run(["systemctl", "restart", "kubelet"])


CERTS = [
    ("ca", "ca", True),
    ("apiserver", "apiserver", False),
    ("apiserver-kubelet-client", "apiserver-kubelet-client", False),
    ("front-proxy-ca", "front-proxy-ca", True),
    ("front-proxy-client", "front-proxy-client", False),
    ("etcd/ca", "etcd/ca", True),
    ("etcd/server", "etcd/server", False),
    ("etcd/peer", "etcd/peer", False),
    ("etcd/healthcheck-client", "etcd/healthcheck-client", False),
    ("apiserver-etcd-client", "apiserver-etcd-client", False),
]
KUBECONFIGS = ["admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf",
               "scheduler.conf"]


def report_pki():
    print('[certs] Using certificateDir folder "%s"' % PKI)
    for name, label, is_ca in CERTS:
        if os.path.exists(os.path.join(PKI, name + ".crt")):
            if is_ca:
                print("[certs] Using existing %s certificate authority" % label)
            else:
                print("[certs] Using existing %s certificate and key on disk" % label)
    if os.path.exists(os.path.join(PKI, "sa.key")):
        print('[certs] Using the existing "sa" key')
    print('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"')
    for name in KUBECONFIGS:
        path = os.path.join("/etc/kubernetes", name)
        if os.path.exists(path):
            print('[kubeconfig] Using existing kubeconfig file: "%s"' % path)


def require_files(paths, why):
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        lines = []
        for p in missing:
            lines.append("%s: couldn't load %s: open %s: no such file or directory" % (why, p, p))
        raise KubeadmError(*lines)


def start_apiserver():
    """Runs the stand-in API server as a systemd service, so that it outlives this exec and
    comes back after a node restart (as a static pod would), and waits until it serves TLS."""
    require_files(
        [os.path.join(PKI, f) for f in ("ca.crt", "apiserver.crt", "apiserver.key")],
        "[control-plane] standin: the stand-in cannot generate certificates",
    )
    unit = """[Unit]
Description=kindling stand-in Kubernetes API server
After=network.target

[Service]
ExecStart=/usr/bin/python3 %s apiserver
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
""" % HERE
    with open("/etc/systemd/system/" + APISERVER_UNIT, "w") as f:
        f.write(unit)
    print('[control-plane] Using manifest folder "/etc/kubernetes/manifests"')
    print('[control-plane] Creating static Pod manifest for "kube-apiserver" (stand-in: %s)'
          % APISERVER_UNIT)
    wait_for_systemd()
    run(["systemctl", "daemon-reload"])
    run(["systemctl", "enable", APISERVER_UNIT])
    run(["systemctl", "restart", APISERVER_UNIT])
    print("[wait-control-plane] Waiting for the kubelet to boot up the control plane as static "
          'Pods from directory "/etc/kubernetes/manifests"')
    start = time.time()
    while True:
        try:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", APISERVER_PORT), timeout=2) as s:
                with ctx.wrap_socket(s):
                    break
        except OSError:
            if time.time() - start > 30:
                raise KubeadmError(
                    "[api-check] The API server is not healthy after 30s",
                    "error execution phase wait-control-plane: could not initialize a "
                    "Kubernetes cluster: context deadline exceeded",
                )
            time.sleep(0.2)
    print("[api-check] The API server is healthy after %.3fs" % (time.time() - start))


def spki_hash(cert_pem):
    """sha256:<hex> of the certificate's SubjectPublicKeyInfo, as kubeadm pins CAs."""
    p1 = subprocess.run(["openssl", "x509", "-noout", "-pubkey"], input=cert_pem,
                        capture_output=True, text=True, check=True)
    p2 = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                        input=p1.stdout.encode(), capture_output=True, check=True)
    p3 = subprocess.run(["sha256sum"], input=p2.stdout, capture_output=True, check=True)
    return "sha256:" + p3.stdout.decode().split()[0]


def is_ca(cert_pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-ext", "basicConstraints"],
                         input=cert_pem, capture_output=True, text=True).stdout
    return "CA:TRUE" in out


def fetch_chain(endpoint):
    """The certificates the server at host:port presents, leaf first (real TLS via OpenSSL)."""
    # endpoint is host:port or [v6]:port, which is also what s_client's -connect takes
    result = subprocess.run(["openssl", "s_client", "-connect", endpoint, "-showcerts"],
                            input="", capture_output=True, text=True, timeout=20)
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                      result.stdout, re.S)


def discover_ca(join):
    """kubeadm's token discovery, emulated over real TLS: the CA is taken from the chain the
    endpoint presents and checked against the pinned public-key hashes."""
    discovery = (join.get("discovery") or {}).get("bootstrapToken") or {}
    endpoint = discovery.get("apiServerEndpoint")
    if not endpoint:
        raise KubeadmError("discovery.bootstrapToken.apiServerEndpoint: Required value")
    token = str(discovery.get("token") or (join.get("discovery") or {}).get("tlsBootstrapToken") or "")
    if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token):
        raise KubeadmError('discovery.bootstrapToken.token: Invalid value: "%s": the bootstrap '
                           'token is invalid' % token)
    skip = bool(discovery.get("unsafeSkipCAVerification"))
    pins = [str(h) for h in (discovery.get("caCertHashes") or [])]
    if not skip and not pins:
        raise KubeadmError(
            'discovery.bootstrapToken.caCertHashes: Invalid value: "": using token-based discovery '
            "without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your "
            "kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to "
            "continue"
        )
    print("[discovery] Trying to connect to API Server \"%s\"" % endpoint)
    start = time.time()
    chain = []
    while True:
        try:
            chain = fetch_chain(endpoint)
        except subprocess.TimeoutExpired:
            chain = []
        if len(chain) >= 2:
            break
        if time.time() - start > 60:
            raise KubeadmError(
                "[discovery] Failed to request cluster-info, will try again: Get "
                '"https://%s/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": '
                "dial tcp %s: connect: connection refused" % (endpoint, endpoint),
                "error execution phase preflight: couldn't validate the identity of the API "
                "Server: failed to request the cluster-info ConfigMap: context deadline exceeded",
            )
        time.sleep(1)
    leaf = chain[0]
    cas = [c for c in chain[1:] if is_ca(c)] or chain[-1:]
    ca = cas[-1]
    print('[discovery] Created cluster-info discovery client, requesting info from "%s"' % endpoint)
    if not skip:
        found = spki_hash(ca)
        if found not in pins:
            raise KubeadmError(
                "error execution phase preflight: couldn't validate the identity of the API "
                'Server: cluster CA found in cluster-info ConfigMap is invalid: none of the '
                'public keys "%s" are pinned' % found
            )
    with tempfile.TemporaryDirectory() as tmp:
        ca_path, leaf_path = os.path.join(tmp, "ca.crt"), os.path.join(tmp, "leaf.crt")
        with open(ca_path, "w") as f:
            f.write(ca)
        with open(leaf_path, "w") as f:
            f.write(leaf)
        verify = subprocess.run(["openssl", "verify", "-CAfile", ca_path, leaf_path],
                                capture_output=True, text=True)
        if verify.returncode != 0:
            raise KubeadmError(
                "error execution phase preflight: couldn't validate the identity of the API "
                'Server: Get "https://%s/api/v1/namespaces/kube-public/configmaps/cluster-info": '
                "tls: failed to verify certificate: x509: certificate signed by unknown "
                "authority" % endpoint
            )
    print('[discovery] Cluster info signature and contents are valid and %s, will use API Server "%s"'
          % ("no TLS pinning was specified" if skip else "TLS certificate validates against "
             "pinned roots", endpoint))
    print('[discovery] Successfully established connection with API Server "%s"' % endpoint)
    return ca


def kubeadm_init(argv):
    config = load_kubeadm_config(flag_value(argv, "--config"))
    cluster = config.get("ClusterConfiguration") or {}
    print("[init] Using Kubernetes version: %s" % cluster.get("kubernetesVersion", kube_version()))
    if not os.path.exists(os.path.join(PKI, "ca.crt")):
        raise KubeadmError(
            '[certs] Using certificateDir folder "%s"' % PKI,
            "standin: %s/ca.crt is missing and the stand-in cannot generate certificates" % PKI,
            "error execution phase certs/ca: failure loading ca certificate: couldn't load the "
            "certificate file %s/ca.crt: open %s/ca.crt: no such file or directory" % (PKI, PKI),
        )
    report_pki()
    check_existing_pki(config, joining=False)
    write_kubelet_files(config, "InitConfiguration")
    init = config.get("InitConfiguration") or {}
    record_control_plane([str(t.get("token", "")) for t in init.get("bootstrapTokens") or []
                          if isinstance(t, dict)], advertise_address(init.get("localAPIEndpoint")))
    start_apiserver()
    # the kubelet registers its Node with the credentials kubeadm wrote for it
    server, ca, cert, key = kubeconfig_credentials("/etc/kubernetes/kubelet.conf")
    register_node(server, ca, node_object(config, "InitConfiguration", True), client=(cert, key))
    store_cluster_configuration(config)
    print("[upload-config] Storing the configuration used in ConfigMap \"kubeadm-config\" in the "
          "\"kube-system\" Namespace")
    print("[mark-control-plane] Marking the node %s as control-plane by adding the labels: "
          "[node-role.kubernetes.io/control-plane "
          "node.kubernetes.io/exclude-from-external-load-balancers]" % hostname())
    print("[bootstrap-token] Using token: <value withheld>")
    print("[addons] Applied essential addon: CoreDNS")
    print("[addons] Applied essential addon: kube-proxy")
    print()
    print("Your Kubernetes control-plane has initialized successfully!")
    print()
    endpoint = cluster.get("controlPlaneEndpoint") or "%s:%d" % (hostname(), APISERVER_PORT)
    ca_hash = spki_hash(read_text(os.path.join(PKI, "ca.crt")))
    print("Then you can join any number of worker nodes by running the following on each as root:")
    print()
    print("kubeadm join %s --token <value withheld> \\\n\t--discovery-token-ca-cert-hash %s"
          % (endpoint, ca_hash))


SHARED_CONTROL_PLANE_FILES = ["ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt",
                              "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key"]


def kubeadm_join(argv):
    config = load_kubeadm_config(flag_value(argv, "--config"))
    join = config.get("JoinConfiguration")
    if join is None:
        raise KubeadmError("standin: no JoinConfiguration in the kubeadm config")
    control_plane = join.get("controlPlane") is not None
    print("[preflight] Running pre-flight checks")
    if control_plane:
        missing = [f for f in SHARED_CONTROL_PLANE_FILES if not os.path.exists(os.path.join(PKI, f))]
        if missing:
            first = os.path.join(PKI, missing[0])
            raise KubeadmError(
                "error execution phase preflight: ",
                "One or more conditions for hosting a new control plane instance is not satisfied.",
                "",
                "[failure loading certificate for CA: couldn't load the certificate file %s: "
                "open %s: no such file or directory]" % (first, first),
                "",
                "Please ensure that:",
                "* The cluster has a stable controlPlaneEndpoint address.",
                "* The certificates that must be shared among control plane instances are provided.",
            )
    elif os.path.exists(os.path.join(PKI, "ca.crt")):
        raise KubeadmError(
            "error execution phase preflight: [preflight] Some fatal errors occurred:",
            "\t[ERROR FileAvailable--etc-kubernetes-pki-ca.crt]: %s/ca.crt already exists" % PKI,
            "[preflight] If you know what you are doing, you can make a check non-fatal with "
            "`--ignore-preflight-errors=...`",
        )
    ca = discover_ca(join)
    if control_plane:
        print("[preflight] Running pre-flight checks before initializing the new control plane instance")
        report_pki()
        check_existing_pki(config, joining=True)
    else:
        os.makedirs(PKI, exist_ok=True)
        with open(os.path.join(PKI, "ca.crt"), "w") as f:
            f.write(ca)
    write_kubelet_files(config, "JoinConfiguration")
    print("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    discovery = join.get("discovery") or {}
    endpoint = (discovery.get("bootstrapToken") or {}).get("apiServerEndpoint")
    token = str(discovery.get("tlsBootstrapToken") or
                (discovery.get("bootstrapToken") or {}).get("token") or "")
    if control_plane:
        # this API server shares the cluster's state in a real cluster (etcd): it knows the
        # token the node joined with
        record_control_plane([token], advertise_address(
            (join.get("controlPlane") or {}).get("localAPIEndpoint")))
        start_apiserver()
    # the joining kubelet registers its Node with the API server it discovered
    register_node(endpoint, ca, node_object(config, "JoinConfiguration", control_plane),
                  token=token)
    if control_plane:
        print("[mark-control-plane] Marking the node %s as control-plane" % hostname())
        print()
        print("This node has joined the cluster and a new control plane instance was created:")
    else:
        print()
        print("This node has joined the cluster:")
    print("* Certificate signing request was sent to apiserver and a response was received.")
    print("* The Kubelet was informed of the new secure connection details.")


def kubeadm(argv):
    sub = [a for a in argv if not a.startswith("-")]
    verb = sub[0] if sub else ""
    if verb == "version":
        version = kube_version()
        output = flag_value(argv, "-o", "--output")
        if output == "short":
            print(version)
        elif output in ("json", "yaml"):
            info = {"clientVersion": version_info(version)}
            print(json.dumps(info, indent=2) if output == "json" else yaml.safe_dump(info), end="\n")
        else:
            print("kubeadm version: &version.Info{Major:\"%s\", Minor:\"%s\", GitVersion:\"%s\"}"
                  % (version_info(version)["major"], version_info(version)["minor"], version))
        return 0
    try:
        if verb == "init" and (len(sub) < 2 or sub[1] != "phase"):
            kubeadm_init(argv)
        elif verb == "join" and (len(sub) < 2 or sub[1] != "phase"):
            kubeadm_join(argv)
    except KubeadmError as e:
        sys.stdout.flush()
        err(*e.args)
        return 1
    except (RuntimeError, subprocess.SubprocessError) as e:
        sys.stdout.flush()
        err("standin: %s" % e)
        return 1
    return 0


# --- node registration (the kubelet's first call to the API server) -----------------------------


def go_arch():
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def node_info():
    """What a kubelet reports about its node, read from this node."""
    os_image = "Linux"
    try:
        for line in read_text("/etc/os-release").splitlines():
            if line.startswith("PRETTY_NAME="):
                os_image = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    runtime = "containerd://unknown"
    try:
        words = run(["containerd", "--version"], timeout=10).stdout.split()
        if len(words) >= 3:
            runtime = "containerd://" + words[2]
    except (OSError, RuntimeError, subprocess.SubprocessError):
        pass
    return {"kubeletVersion": kube_version(), "osImage": os_image,
            "kernelVersion": os.uname().release, "containerRuntimeVersion": runtime,
            "operatingSystem": "linux", "architecture": go_arch()}


def node_object(config, section, control_plane):
    """The Node a kubelet with this kubeadm config registers: its name, kubelet labels and
    --node-labels, the control-plane role label kubeadm adds, --node-ip and --provider-id."""
    registration = (config.get(section) or {}).get("nodeRegistration") or {}
    name = registration.get("name") or hostname()
    args = dict(kubelet_extra_args(registration))
    labels = {"beta.kubernetes.io/arch": go_arch(), "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": go_arch(), "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux"}
    for pair in filter(None, args.get("node-labels", "").split(",")):
        key, _, value = pair.partition("=")
        labels[key] = value
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    ips = [ip for ip in args.get("node-ip", "").split(",") if ip]
    if not ips:
        try:
            ips = [socket.gethostbyname(hostname())]
        except OSError:
            ips = []
    addresses = [{"type": "InternalIP", "address": ip} for ip in ips]
    addresses.append({"type": "Hostname", "address": name})
    spec = {"providerID": args["provider-id"]} if args.get("provider-id") else {}
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "labels": labels},
            "spec": spec, "status": {"addresses": addresses, "nodeInfo": node_info()}}


def kubeconfig_credentials(path):
    """(server, CA PEM, client cert PEM, client key PEM) of a kubeconfig's first entries."""
    def data_or_file(entry, key):
        if entry.get(key + "-data"):
            return base64.b64decode(entry[key + "-data"]).decode()
        if entry.get(key):
            return read_text(entry[key])
        raise KeyError(key)
    try:
        text = read_text(path)
    except OSError:
        raise KubeadmError("standin: %s is missing and the stand-in cannot generate kubeconfig "
                           "files" % path)
    try:
        config = yaml.safe_load(text) or {}
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        return (cluster.get("server", ""), data_or_file(cluster, "certificate-authority"),
                data_or_file(user, "client-certificate"), data_or_file(user, "client-key"))
    except (OSError, ValueError, yaml.YAMLError, KeyError, IndexError, TypeError) as e:
        raise KubeadmError("standin: %s is not a kubeconfig the kubelet could use: %s: %s"
                           % (path, type(e).__name__, e))


def register_node(server, ca_pem, node, token=None, client=None):
    """POSTs the Node to the API server at server (https://host:port or host:port) over TLS
    verified against ca_pem (host name included), as a kubelet registers itself; retried while
    the server cannot be reached (60 s), as the kubelet keeps trying."""
    url = urllib.parse.urlsplit(server if "://" in server else "https://" + server)
    name = node["metadata"]["name"]
    context = ssl.create_default_context(cadata=ca_pem)
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": "kubelet/%s (linux/%s) kindling-standin" % (kube_version(), go_arch())}
    if token:
        headers["Authorization"] = "Bearer " + token
    deadline = time.time() + 60
    with tempfile.TemporaryDirectory() as tmp:
        if client:
            cert, key = os.path.join(tmp, "client.crt"), os.path.join(tmp, "client.key")
            for path, pem in ((cert, client[0]), (key, client[1])):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                    f.write(pem)
            context.load_cert_chain(cert, key)
        while True:
            problem = None
            try:
                conn = http.client.HTTPSConnection(url.hostname, url.port or 443,
                                                   context=context, timeout=10)
                conn.request("POST", "/api/v1/nodes", body=json.dumps(node), headers=headers)
                response = conn.getresponse()
                code, body = response.status, response.read().decode(errors="replace")
                conn.close()
            except ssl.SSLCertVerificationError as e:
                raise KubeadmError('[kubelet-start] standin: node "%s" cannot register with %s: '
                                   "%s" % (name, server, e))
            except (OSError, http.client.HTTPException) as e:
                code, body, problem = None, "", str(e)
            if code in (201, 409):
                print('[kubelet-start] standin: node "%s" registered with the API server at %s'
                      % (name, server))
                return
            if code is not None and code < 500:
                raise KubeadmError('[kubelet-start] standin: node "%s" was refused by %s: HTTP %d '
                                   "%s" % (name, server, code, body.strip()))
            if time.time() > deadline:
                raise KubeadmError('[kubelet-start] standin: node "%s" could not register with '
                                   "%s: %s" % (name, server, problem or "HTTP %d" % code))
            time.sleep(0.5)
# --- kubeadm's checks of existing certificates ------------------------------------------------
# kubeadm validates the PKI it finds before it uses it, and the stand-in repeats those checks on
# kindling's pre-made files so that end-to-end tests catch a PKI real kubeadm would refuse:
#  - init (1.31+, phases/init/certs.go): each existing leaf must verify against its CA at the
#    node's current time, so a certificate that is not yet valid fails; each existing kubeconfig
#    must carry the CA in ca.crt ("exists already but has got the wrong CA cert").
#  - join --control-plane (phases/certs CreatePKIAssets): each existing leaf's key must load and
#    its chain verify, and it must hold every name kubeadm expects, computed from the cluster's
#    ClusterConfiguration (the one init stored, cmd/join.go) and this node's own endpoint.
# Missing leaves are left alone: real kubeadm would make them (the CA keys are there).
# Every path is under ClusterConfiguration.certificatesDir. init stores its ClusterConfiguration
# in SHARED_CLUSTER_CONFIG when a test mounts that directory into the control planes, standing
# in for the kubeadm-config ConfigMap that joining control planes read. A test can also mount
# NODE_CLOCK_OFFSET_FILE (seconds, e.g. -10800) to make the checks run at a node clock that is
# off by that much, as on an engine whose clock drifted.

import ipaddress  # noqa: E402 (kept with the code that uses it)

SHARED_CLUSTER_CONFIG = "/kind/standin-shared/kubeadm-config.yaml"
NODE_CLOCK_OFFSET_FILE = "/kind/standin/clock-offset"
DEFAULT_CERTIFICATES_DIR = "/etc/kubernetes/pki"
KUBEADM_CONFIG = "/kind/kubeadm.conf"
LEAF_CAS = [
    ("apiserver", "ca"),
    ("apiserver-kubelet-client", "ca"),
    ("front-proxy-client", "front-proxy-ca"),
    ("etcd/server", "etcd/ca"),
    ("etcd/peer", "etcd/ca"),
    ("etcd/healthcheck-client", "etcd/ca"),
    ("apiserver-etcd-client", "etcd/ca"),
]


def own_documents(path=KUBEADM_CONFIG):
    try:
        with open(path) as f:
            return {d.get("kind"): d for d in yaml.safe_load_all(f) if isinstance(d, dict)}
    except (OSError, yaml.YAMLError):
        return {}


def cluster_configuration(config=None):
    """The cluster's ClusterConfiguration: the one init stored when a test shares it, else the
    one in this node's own config (`config`, or /kind/kubeadm.conf)."""
    try:
        with open(SHARED_CLUSTER_CONFIG) as f:
            doc = yaml.safe_load(f)
        if isinstance(doc, dict):
            return doc
    except (OSError, yaml.YAMLError):
        pass
    return (config or own_documents()).get("ClusterConfiguration") or {}


def configured_certificates_dir():
    """ClusterConfiguration.certificatesDir, cleaned as Go's filepath.Join would."""
    return os.path.normpath(cluster_configuration().get("certificatesDir")
                            or DEFAULT_CERTIFICATES_DIR)


def store_cluster_configuration(config):
    """init's upload-config, for tests that share SHARED_CLUSTER_CONFIG's directory."""
    if os.path.isdir(os.path.dirname(SHARED_CLUSTER_CONFIG)):
        with open(SHARED_CLUSTER_CONFIG, "w") as f:
            yaml.safe_dump(config.get("ClusterConfiguration") or {}, f)


def openssl(*args, input=None):
    return subprocess.run(["openssl"] + list(args), input=input, capture_output=True, text=True)


def node_time():
    """The node's clock for kubeadm's checks: this clock, shifted when a test asks."""
    try:
        offset = int(read_text(NODE_CLOCK_OFFSET_FILE).strip())
    except (OSError, ValueError):
        offset = 0
    return int(time.time()) + offset


def verify_chain(name, ca):
    """x509 verification of a leaf against its CA at the node's current time."""
    leaf_path, ca_path = os.path.join(PKI, name + ".crt"), os.path.join(PKI, ca + ".crt")
    now = node_time()
    result = openssl("verify", "-attime", str(now), "-CAfile", ca_path, leaf_path)
    if result.returncode != 0:
        detail = " ".join((result.stdout + result.stderr).split())
        raise KubeadmError(
            "error execution phase certs/%s: [certs] certificate %s not signed by CA certificate "
            "%s: x509: %s (node time %s)"
            % (name.replace("/", "-"), name, ca, detail,
               time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))))


def certificate_sans(path):
    """(DNS names, IP addresses) of a certificate's subjectAltName."""
    out = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", path).stdout
    dns, ips = set(), set()
    for entry in re.split(r",\s*", " ".join(out.splitlines()[1:]).strip()):
        if entry.startswith("DNS:"):
            dns.add(entry[4:])
        elif entry.startswith("IP Address:"):
            ips.add(ipaddress.ip_address(entry[len("IP Address:"):]))
    return dns, ips


def default_route_address(prefer_v6):
    """The address of the default route's interface, as kubeadm finds it."""
    for family in (["-6", "-4"] if prefer_v6 else ["-4", "-6"]):
        routes = subprocess.run(["ip", "-j", family, "route", "show", "default"],
                                capture_output=True, text=True).stdout or "[]"
        for route in json.loads(routes):
            addrs = subprocess.run(["ip", "-j", family, "addr", "show", "dev", route["dev"],
                                    "scope", "global"], capture_output=True, text=True).stdout
            for iface in json.loads(addrs or "[]"):
                for info in iface.get("addr_info", []):
                    return info["local"]
    raise KubeadmError("unable to select an IP from default routes.")


def resolved_advertise_address(endpoint):
    """SetAPIEndpointDynamicDefaults: empty or unspecified means the default-route address."""
    raw = str((endpoint or {}).get("advertiseAddress") or "")
    if not raw:
        return ipaddress.ip_address(default_route_address(False))
    ip = ipaddress.ip_address(raw)
    if ip.is_unspecified:
        return ipaddress.ip_address(default_route_address(ip.version == 6))
    if ip.is_loopback:
        raise KubeadmError("unable to select an IP from lo network interface")
    return ip


def add_san(names, value):
    dns, ips = names
    try:
        ips.add(ipaddress.ip_address(value))
    except ValueError:
        dns.add(value)


def expected_names(cluster, node_name, advertise):
    """pkiutil GetAPIServerAltNames and getAltNames for the etcd certificates."""
    networking = cluster.get("networking") or {}
    domain = networking.get("dnsDomain") or "cluster.local"
    subnet = (networking.get("serviceSubnet") or "10.96.0.0/12").split(",")[0].strip()
    api = ({node_name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc." + domain},
           {ipaddress.ip_network(subnet, strict=False).network_address + 1, advertise})
    endpoint = str(cluster.get("controlPlaneEndpoint") or "")
    if endpoint:
        host = endpoint[1:].split("]")[0] if endpoint.startswith("[") else endpoint.rsplit(":", 1)[0]
        add_san(api, host)
    for san in (cluster.get("apiServer") or {}).get("certSANs") or []:
        add_san(api, str(san).lower())
    local = (cluster.get("etcd") or {}).get("local") or {}
    wanted = {"apiserver": api}
    for name, key in (("etcd/server", "serverCertSANs"), ("etcd/peer", "peerCertSANs")):
        names = ({node_name, "localhost"},
                 {advertise, ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")})
        for san in local.get(key) or []:
            add_san(names, str(san))
        wanted[name] = names
    return wanted


def dns_matches(name, present):
    if name in present:
        return True
    head, _, rest = name.partition(".")
    return bool(rest) and "*." + rest in present


def check_kubeconfig_cas():
    ca = read_text(os.path.join(PKI, "ca.crt")).strip()
    for name in KUBECONFIGS:
        path = os.path.join("/etc/kubernetes", name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            kubeconfig = yaml.safe_load(f) or {}
        context = next((c.get("context") or {} for c in kubeconfig.get("contexts") or []
                        if c.get("name") == kubeconfig.get("current-context")), {})
        cluster = next((c.get("cluster") or {} for c in kubeconfig.get("clusters") or []
                        if c.get("name") == context.get("cluster")), {})
        data = base64.b64decode(cluster.get("certificate-authority-data") or "").decode().strip()
        if data != ca:
            raise KubeadmError(
                "error execution phase kubeconfig/%s: a kubeconfig file \"%s\" exists already "
                "but has got the wrong CA cert" % (name.split(".")[0], path))


def check_existing_pki(config, joining):
    """What kubeadm checks of the certificates it finds (see above); raises KubeadmError."""
    for name, ca in LEAF_CAS:
        if os.path.exists(os.path.join(PKI, name + ".crt")):
            verify_chain(name, ca)
    check_kubeconfig_cas()
    if not joining:
        return
    join = config.get("JoinConfiguration") or {}
    registration = join.get("nodeRegistration") or {}
    node_name = (str(registration.get("name") or "").strip() or hostname()).lower()
    advertise = resolved_advertise_address((join.get("controlPlane") or {}).get("localAPIEndpoint"))
    cluster = cluster_configuration(config)
    for name, (dns, ips) in expected_names(cluster, node_name, advertise).items():
        path = os.path.join(PKI, name + ".crt")
        if not os.path.exists(path):
            continue
        if openssl("pkey", "-noout", "-in", os.path.join(PKI, name + ".key")).returncode != 0:
            raise KubeadmError("failure loading key for %s: couldn't load the private key file" % name)
        have_dns, have_ips = certificate_sans(path)
        missing = sorted([d for d in dns if not dns_matches(d, have_dns)] +
                         [str(i) for i in ips if i not in have_ips])
        if missing:
            raise KubeadmError(
                "error execution phase control-plane-prepare/certs: error creating PKI assets: "
                "failed to write or validate certificate \"%s\": certificate %s is invalid: "
                "x509: certificate is not valid for %s" % (name, name, ", ".join(missing)))


# --- kubectl ----------------------------------------------------------------------------------


def kubectl_objects(text):
    """(kind, apiVersion, name, object) of every object in a YAML stream, Lists expanded."""
    objects = []
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        if not isinstance(doc, dict) or not doc.get("kind"):
            raise ValueError('error validating "STDIN": error validating data: kind not set')
        items = doc["items"] if doc["kind"].endswith("List") and isinstance(
            doc.get("items"), list) else [doc]
        objects.extend((i.get("kind", ""), i.get("apiVersion", ""),
                        (i.get("metadata") or {}).get("name", ""), i)
                       for i in items if isinstance(i, dict))
    return objects


class KubectlError(Exception):
    """A failure reported the way kubectl reports one: one message line, exit status 1."""


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


# what client-go takes for a connection the server side dropped (IsConnectionReset, IsProbableEOF)
DROPPED = (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError,
           http.client.RemoteDisconnected, http.client.IncompleteRead)


class ApiClient:
    """Requests to the API server a kubeconfig names, as kubectl (client-go) makes them: over
    TLS checked against its CA (host name included), with its client certificate, on one
    connection kept for every request of the invocation (kubectl's HTTP/2 connection); a GET
    whose connection was dropped is retried on a new one, 1 s apart, 10 times at most (client-go
    retries only GETs), which is what rides out a load balancer sending it to a control plane
    whose API server is not up yet."""

    def __init__(self, credentials):
        self.server, ca_pem, cert_pem, key_pem = credentials
        self.url = urllib.parse.urlsplit(self.server if "://" in self.server
                                         else "https://" + self.server)
        self.context = ssl.create_default_context(cadata=ca_pem)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = os.path.join(tmp, "client.crt"), os.path.join(tmp, "client.key")
            for path, pem in ((cert, cert_pem), (key, key_pem)):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                    f.write(pem)
            self.context.load_cert_chain(cert, key)
        self.conn = None

    def call(self, method, path, body=None):
        """(status, decoded JSON body) of one request."""
        headers = {"Accept": "application/json",
                   "User-Agent": "kubectl/%s (linux/%s) kindling-standin"
                   % (kube_version(), go_arch())}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in range(10):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(
                        self.url.hostname, self.url.port or 443, context=self.context,
                        timeout=10)
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                code, text = response.status, response.read().decode(errors="replace")
                break
            except (OSError, http.client.HTTPException) as e:
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                if method != "GET" or not isinstance(e, DROPPED) or attempt == 9:
                    raise KubectlError('Unable to connect to the server: %s "%s%s": %s'
                                       % (method.capitalize(), self.server, path, e))
                time.sleep(1)
        try:
            return code, json.loads(text) if text.strip() else {}
        except ValueError:
            return code, {"message": text.strip()}


def server_error(status, doing, name):
    """kubectl's line for a Status answer."""
    return 'Error from server (%s): error when %s "STDIN": %s' % (
        status.get("reason") or "Unknown", doing, status.get("message") or name)


def send_configmap(client, verb, obj, namespace_flag):
    """Sends a ConfigMap to the API server as real kubectl does: `create` POSTs it; `apply`
    (client-side, kubectl's default) reads the live object, then POSTs it with the
    last-applied annotation when there is none, or PUTs it over the live one when it differs.
    Returns kubectl's word for what happened."""
    meta = obj.setdefault("metadata", {})
    name = meta.get("name") or ""
    ns = meta.get("namespace") or namespace_flag or "default"
    if namespace_flag and meta.get("namespace") and meta["namespace"] != namespace_flag:
        raise KubectlError("error: the namespace from the provided object \"%s\" does not match "
                           "the namespace \"%s\". You must pass '--namespace=%s' to perform "
                           "this operation." % (meta["namespace"], namespace_flag, meta["namespace"]))
    meta["namespace"] = ns
    collection = "/api/v1/namespaces/%s/configmaps" % urllib.parse.quote(ns, safe="")
    item = collection + "/" + urllib.parse.quote(name, safe="")
    if verb == "apply":
        applied = json.loads(json.dumps(obj))
        meta.setdefault("annotations", {})[LAST_APPLIED] = json.dumps(applied, sort_keys=True) + "\n"
        code, live = client.call("GET", item)
        if code == 200:
            same = all(live.get(k) == obj.get(k) for k in ("data", "binaryData")) and all(
                (live.get("metadata") or {}).get(k) == meta.get(k) for k in ("labels", "annotations"))
            if same:
                return "unchanged"
            meta["resourceVersion"] = (live.get("metadata") or {}).get("resourceVersion", "")
            code, answer = client.call("PUT", item, obj)
            if code == 200:
                return "configured"
            raise KubectlError(server_error(answer, "applying patch to", name))
        if code != 404:
            raise KubectlError('Error from server (%s): error when retrieving current '
                               'configuration of: "STDIN": %s'
                               % (live.get("reason") or "Unknown", live.get("message") or code))
    code, answer = client.call("POST", collection, obj)
    if code == 201:
        return "created"
    raise KubectlError(server_error(answer, "creating", name))


def kubectl(argv, stdin, notready):
    kubeconfig = flag_value(argv, "--kubeconfig") or os.environ.get("KUBECONFIG")
    words = [a for a in argv if not a.startswith("-")]
    # values of flags given as "--flag value" are not words
    for name in ("--kubeconfig", "-f", "--filename", "-o", "--output", "--selector", "-l",
                 "-n", "--namespace", "--context"):
        for i, a in enumerate(argv[:-1]):
            if a == name and argv[i + 1] in words:
                words.remove(argv[i + 1])
    verb = words[0] if words else ""
    if verb == "version":
        version = kube_version()
        print("Client Version: %s" % version)
        print("Kustomize Version: v5.7.1")
        if "--client" not in argv and "--client=true" not in argv:
            print("Server Version: %s" % version)
        return 0
    if kubeconfig is None:
        err("The connection to the server localhost:8080 was refused - did you specify the right "
            "host or port?")
        return 1
    if not os.path.exists(kubeconfig):
        err("error: stat %s: no such file or directory" % kubeconfig)
        return 1
    node = hostname()
    if verb == "taint":
        print("node/%s untainted" % node)
    elif verb == "label":
        print("node/%s unlabeled" % node)
    elif verb in ("create", "apply"):
        source = flag_value(argv, "-f", "--filename")
        if source is None:
            err("error: must specify one of -f and -k")
            return 1
        try:
            text = stdin if source == "-" else read_text(source)
            objects = kubectl_objects(text or "")
        except (OSError, ValueError, yaml.YAMLError) as e:
            err("error: %s" % str(e).replace("\n", " "))
            return 1
        if not objects:
            err("error: no objects passed to %s" % verb)
            return 1
        client = None
        for kind, api_version, name, obj in objects:
            group = api_version.split("/")[0] if "/" in api_version else ""
            done = "created"
            if (kind, api_version) == ("ConfigMap", "v1"):
                # ConfigMaps really go to the API server (the others are only recorded); the
                # first request is discovery's, as kubectl's is
                try:
                    if client is None:
                        client = ApiClient(kubeconfig_credentials(kubeconfig))
                        code, _ = client.call("GET", "/api")
                        if code != 200:
                            raise KubectlError("error: unable to recognize \"STDIN\": the "
                                               "server answered HTTP %d to discovery" % code)
                    done = send_configmap(client, verb, obj,
                                          flag_value(argv, "-n", "--namespace"))
                except (KubectlError, KubeadmError) as e:
                    sys.stdout.flush()
                    err(*e.args)
                    return 1
            print("%s%s/%s %s" % (kind.lower(), "." + group if group else "", name, done))
    elif verb == "get":
        output = flag_value(argv, "-o", "--output") or ""
        if output.startswith("jsonpath="):
            status = "False" if notready else "True"
            print(re.sub(r"\{[^}]*\}", status, output[len("jsonpath="):]), end="")
        else:
            print("NAME%sSTATUS   ROLES           AGE   VERSION" % (" " * max(len(node) - 1, 3)))
            print("%s    %s   control-plane   1m    %s"
                  % (node, "NotReady" if notready else "Ready   ", kube_version()))
    return 0


# --- kubelet ----------------------------------------------------------------------------------


def kubelet(argv):
    if "--version" in argv or "--version=true" in argv:
        print("Kubernetes %s" % kube_version())
        return 0
    os.execvp("sleep", ["sleep", "infinity"])
    return 1  # not reached


# --- API server -------------------------------------------------------------------------------
#
# Answers what kubectl needs for the getting-started walk (`cluster-info`, `get nodes`,
# `get pods -A`, `get namespaces`), built only from what this stand-in knows: the nodes that
# registered (the init node with its kubelet.conf, joiners with their bootstrap token), the
# namespaces every API server makes, the ConfigMaps kubectl sent it, and no pods or services
# (none run here). Everything else gets kube-apiserver's 401/403/404/405 Status answers. State lives in APISERVER_STATE (this
# node's stand-in for etcd): in a cluster with several control planes, each stand-in API server
# knows only what reached it.

APISERVER_STATE = "/var/lib/kindling-standin/apiserver"
SYSTEM_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]
ADMIN_GROUPS = {"system:masters", "kubeadm:cluster-admins"}
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# name, kind, namespaced, verbs, short names, categories, table columns (name, priority)
RESOURCES = [
    ("namespaces", "Namespace", False, ["get", "list"], ["ns"], [],
     [("Name", 0), ("Status", 0), ("Age", 0)]),
    ("nodes", "Node", False, ["create", "get", "list"], ["no"], [],
     [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0), ("Internal-IP", 1),
      ("External-IP", 1), ("OS-Image", 1), ("Kernel-Version", 1), ("Container-Runtime", 1)]),
    ("configmaps", "ConfigMap", True, ["create", "get", "list", "update"], ["cm"], [],
     [("Name", 0), ("Data", 0), ("Age", 0)]),
    ("pods", "Pod", True, ["get", "list"], ["po"], ["all"],
     [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1),
      ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1)]),
    ("services", "Service", True, ["get", "list"], ["svc"], ["all"],
     [("Name", 0), ("Type", 0), ("Cluster-IP", 0), ("External-IP", 0), ("Port(s)", 0),
      ("Age", 0), ("Selector", 1)]),
]
RESOURCE = {r[0]: r for r in RESOURCES}


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_rfc3339(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return time.time()


def human_duration(seconds):
    """apimachinery's HumanDuration, which the API server's table printers use for AGE."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if minutes < 10:
        return "%dm%ds" % (minutes, s % 60) if s % 60 else "%dm" % minutes
    if minutes < 180:
        return "%dm" % minutes
    if hours < 8:
        return "%dh%dm" % (hours, minutes % 60) if minutes % 60 else "%dh" % hours
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd%dh" % (days, hours % 24) if hours % 24 else "%dd" % days
    if hours < 24 * 365 * 2:
        return "%dd" % days
    years = days // 365
    if hours < 24 * 365 * 8:
        return "%dy%dd" % (years, days % 365) if days % 365 else "%dy" % years
    return "%dy" % years


def write_state(name, data):
    """Atomically writes one JSON state file (0600: it holds bootstrap tokens)."""
    os.makedirs(APISERVER_STATE, exist_ok=True)
    path = os.path.join(APISERVER_STATE, name)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def read_state(name, default):
    try:
        with open(os.path.join(APISERVER_STATE, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def advertise_address(endpoint):
    """host:port of a kubeadm localAPIEndpoint ([v6]:port for IPv6), or "" when unset."""
    endpoint = endpoint or {}
    host = str(endpoint.get("advertiseAddress") or "")
    if not host:
        return ""
    port = endpoint.get("bindPort") or APISERVER_PORT
    return "[%s]:%s" % (host, port) if ":" in host else "%s:%s" % (host, port)


def record_control_plane(tokens, advertise):
    """What kubeadm init/join --control-plane leave for this node's API server: the bootstrap
    tokens it accepts (kubeadm's token Secrets) and its advertised address."""
    cluster = read_state("cluster.json", {})
    cluster.setdefault("created", time.time())
    known = set(cluster.get("bootstrapTokens", []))
    cluster["bootstrapTokens"] = sorted(known | {t for t in tokens if t})
    if advertise:
        cluster["advertise"] = advertise
    write_state("cluster.json", cluster)


def stored_nodes():
    nodes = []
    directory = os.path.join(APISERVER_STATE, "nodes")
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if name.startswith(".") or not name.endswith(".json"):
            continue  # a registration being written
        node = read_state(os.path.join("nodes", name), None)
        if node:
            nodes.append(node)
    return nodes


def with_conditions(node):
    """The Ready condition as the stand-in kubelet has it everywhere (the in-node stand-in
    kubectl answers the same): True, or False with the `notready` directive."""
    notready = any(action == "notready" for action, _ in read_directives())
    node = json.loads(json.dumps(node))
    stamp = node["metadata"]["creationTimestamp"]
    node.setdefault("status", {})["conditions"] = [{
        "type": "Ready",
        "status": "False" if notready else "True",
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
        "reason": "KubeletNotReady" if notready else "KubeletReady",
        "message": "stand-in kubelet: %s" % ("not ready on request" if notready else "ready"),
    }]
    return node


def namespace(name, created):
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": name, "uid": "standin-namespace-" + name,
                         "resourceVersion": "1", "creationTimestamp": rfc3339(created),
                         "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def objects(resource, ns):
    """Every stored object of a resource (in namespace ns when given)."""
    if resource == "nodes":
        return [with_conditions(n) for n in stored_nodes()]
    if resource == "namespaces":
        created = read_state("cluster.json", {}).get("created", time.time())
        return [namespace(n, created) for n in SYSTEM_NAMESPACES]
    if resource == "configmaps":
        return stored_configmaps(ns)
    return []  # pods and services: nothing runs on the stand-in


NAME_RE = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"


def configmap_path(ns, name):
    return os.path.join(APISERVER_STATE, "configmaps", ns, name + ".json")


def stored_configmaps(ns):
    """The ConfigMaps kubectl sent, in namespace ns (every namespace when None), by name."""
    found = []
    root = os.path.join(APISERVER_STATE, "configmaps")
    for space in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        if ns is not None and space != ns:
            continue
        for name in sorted(os.listdir(os.path.join(root, space))):
            if name.startswith(".") or not name.endswith(".json"):
                continue  # one being written
            obj = read_state(os.path.join("configmaps", space, name), None)
            if obj:
                found.append(obj)
    return found


def table_cells(resource, obj):
    meta = obj["metadata"]
    age = human_duration(time.time() - parse_rfc3339(meta.get("creationTimestamp")))
    if resource == "namespaces":
        return [meta["name"], obj["status"]["phase"], age]
    if resource == "configmaps":
        return [meta["name"], str(len(obj.get("data") or {}) + len(obj.get("binaryData") or {})),
                age]
    status = obj.get("status", {})
    info = status.get("nodeInfo", {})
    ready = [c for c in status.get("conditions", []) if c.get("type") == "Ready"]
    state = ("Ready" if ready[0]["status"] == "True" else "NotReady") if ready else "Unknown"
    labels = meta.get("labels", {})
    roles = sorted(k.split("/", 1)[1] for k in labels
                   if k.startswith("node-role.kubernetes.io/") and "/" in k)
    address = lambda kind: next((a["address"] for a in status.get("addresses", [])
                                 if a.get("type") == kind), "<none>")
    return [meta["name"], state, ",".join(roles) or "<none>", age,
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage", "<unknown>"), info.get("kernelVersion", "<unknown>"),
            info.get("containerRuntimeVersion", "<unknown>")]


def label_selector_matches(selector, labels):
    """Equality-based label selectors (k=v, k==v, k!=v, k, !k), comma-separated."""
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def discovery_resources():
    return [{"resource": name, "responseKind": {"group": "", "version": "v1", "kind": kind},
             "scope": "Namespaced" if namespaced else "Cluster",
             "singularResource": kind.lower(), "verbs": verbs, "shortNames": short,
             **({"categories": categories} if categories else {})}
            for name, kind, namespaced, verbs, short, categories, _ in RESOURCES]


def api_resource_list():
    return {"kind": "APIResourceList", "groupVersion": "v1",
            "resources": [{"name": name, "singularName": kind.lower(), "namespaced": namespaced,
                           "kind": kind, "verbs": verbs, "shortNames": short,
                           **({"categories": categories} if categories else {})}
                          for name, kind, namespaced, verbs, short, categories, _ in RESOURCES]}


def accepts(accept, group, version, kind):
    """Whether an Accept header asks for application/json;g=GROUP;v=VERSION;as=KIND."""
    for media in (accept or "").split(","):
        params = dict(p.strip().split("=", 1) for p in media.split(";")[1:] if "=" in p)
        if (media.split(";")[0].strip() == "application/json" and params.get("g") == group
                and params.get("v") == version and params.get("as") == kind):
            return True
    return False


def client_identity(connection):
    cert = connection.getpeercert() if hasattr(connection, "getpeercert") else None
    if not cert:
        return None, []
    cn, orgs = None, []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return cn, orgs


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kindling-standin-apiserver"

    def send_body(self, code, data, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code, body, content_type="application/json"):
        self.send_body(code, (json.dumps(body) + "\n").encode(), content_type)

    def status(self, code, reason, message, details=None):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "details": details or {}, "code": code}
        if code == 401:
            del body["details"]  # kube-apiserver's 401 has none
        self.send_json(code, body)

    def identity(self):
        """(user, groups), or None after answering 401 for a bearer token nobody issued."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
            if token in read_state("cluster.json", {}).get("bootstrapTokens", []):
                return "system:bootstrap:" + token.split(".")[0], ["system:bootstrappers"]
            self.status(401, "Unauthorized", "Unauthorized")
            return None
        cn, orgs = client_identity(self.connection)
        if cn is None:
            return "system:anonymous", ["system:unauthenticated"]
        return cn, orgs

    def route(self):
        """(path, query, resource, namespace, name) of a core/v1 resource path, else None."""
        path, _, query = self.path.partition("?")
        m = re.fullmatch(r"/api/v1/(?:namespaces/([^/]+)/(pods|services|configmaps)|([a-z]+))"
                         r"(?:/([^/]+))?/?",
                         path)
        if not m:
            return path, urllib.parse.parse_qs(query), None, None, None
        namespace, namespaced, cluster_scoped, name = m.groups()
        return path, urllib.parse.parse_qs(query), namespaced or cluster_scoped, namespace, name

    def forbidden(self, user, verb, resource, namespace, name):
        what = '%s "%s"' % (resource, name) if name else resource
        where = ('in the namespace "%s"' % namespace) if namespace else "at the cluster scope"
        details = {"kind": resource, **({"name": name} if name else {})}
        self.status(403, "Forbidden", '%s is forbidden: User "%s" cannot %s resource "%s" in API '
                    'group "" %s' % (what, user, verb, resource, where), details)

    def do_GET(self):
        path, query, resource, namespace, name = self.route()
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send_body(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self.send_json(200, version_info(kube_version()))
        if path == "/standin/whoami":
            cn, orgs = client_identity(self.connection)
            return self.send_json(200, {"node": hostname(), "client_cn": cn, "client_o": orgs})
        who = self.identity()
        if who is None:
            return
        user, groups = who
        if user == "system:anonymous" or "system:bootstrappers" in groups:
            if resource in RESOURCE:
                verb = "get" if name else "list"
                return self.forbidden(user, verb, resource, namespace, name)
            return self.status(403, "Forbidden",
                               'forbidden: User "%s" cannot get path "%s"' % (user, path))
        accept = self.headers.get("Accept", "")
        if path in ("/api", "/api/"):
            if accepts(accept, "apidiscovery.k8s.io", "v2", "APIGroupDiscoveryList"):
                return self.send_json(200, {
                    "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                    "metadata": {}, "items": [{"metadata": {"creationTimestamp": None},
                                               "versions": [{"version": "v1",
                                                             "resources": discovery_resources(),
                                                             "freshness": "Current"}]}]},
                    AGGREGATED)
            advertise = read_state("cluster.json", {}).get("advertise", "")
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": advertise}]})
        if path in ("/apis", "/apis/"):
            # no API groups: the stand-in serves only part of the core group
            if accepts(accept, "apidiscovery.k8s.io", "v2", "APIGroupDiscoveryList"):
                return self.send_json(200, {"kind": "APIGroupDiscoveryList",
                                            "apiVersion": "apidiscovery.k8s.io/v2",
                                            "metadata": {}, "items": []}, AGGREGATED)
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if path in ("/api/v1", "/api/v1/"):
            return self.send_json(200, api_resource_list())
        if resource not in RESOURCE:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        _, kind, namespaced, _, _, _, columns = RESOURCE[resource]
        if namespaced and namespace is None and name:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if query.get("watch", ["false"])[0] in ("true", "1"):
            return self.status(405, "MethodNotAllowed",
                               "the stand-in API server does not serve watches")
        if query.get("fieldSelector", [""])[0]:
            return self.status(400, "BadRequest", 'field label not supported: "%s"'
                               % query["fieldSelector"][0].split("=")[0])
        items = [o for o in objects(resource, namespace)
                 if label_selector_matches(query.get("labelSelector", [""])[0],
                                           o["metadata"].get("labels", {}))]
        if name:
            found = [o for o in items if o["metadata"]["name"] == name]
            if not found:
                return self.status(404, "NotFound", '%s "%s" not found' % (resource, name),
                                   {"name": name, "kind": resource})
            items = found
        if accepts(accept, "meta.k8s.io", "v1", "Table"):
            return self.send_json(200, {
                "kind": "Table", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": str(len(stored_nodes()) + 1)},
                "columnDefinitions": [
                    {"name": c, "type": "string", "format": "name" if c == "Name" else "",
                     "description": "", "priority": p} for c, p in columns],
                "rows": [{"cells": table_cells(resource, o)[:len(columns)],
                          "object": {"kind": "PartialObjectMetadata",
                                     "apiVersion": "meta.k8s.io/v1",
                                     "metadata": o["metadata"]}} for o in items]},
                "application/json;as=Table;v=v1;g=meta.k8s.io")
        if name:
            return self.send_json(200, items[0])
        return self.send_json(200, {"kind": kind + "List", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": str(len(stored_nodes()) + 1)},
                                    "items": items})

    do_HEAD = do_GET

    def do_POST(self):
        path, _, resource, namespace, name = self.route()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        who = self.identity()
        if who is None:
            return
        user, groups = who
        if resource == "configmaps" and namespace and not name:
            return self.write_configmap(user, groups, namespace, None, body)
        if resource != "nodes" or namespace or name:
            if resource in RESOURCE:
                return self.status(405, "MethodNotAllowed",
                                   "the server does not allow this method on the requested "
                                   "resource")
            return self.status(404, "NotFound", "the server could not find the requested resource")
        try:
            node = json.loads(body)
            node_name = node["metadata"]["name"]
            assert node.get("kind") == "Node" and re.fullmatch(r"[a-z0-9.-]+", node_name)
        except (ValueError, KeyError, TypeError, AssertionError):
            return self.status(400, "BadRequest", "the body is not a Node with a valid name")
        # kubelets (system:nodes) may register only themselves; joiners use their bootstrap
        # token in place of the TLS bootstrap a real kubelet goes through first
        if "system:nodes" in groups:
            if user != "system:node:" + node_name:
                return self.status(403, "Forbidden", 'nodes "%s" is forbidden: node "%s" is not '
                                   'allowed to modify node "%s"'
                                   % (node_name, user[len("system:node:"):], node_name),
                                   {"name": node_name, "kind": "nodes"})
        elif "system:bootstrappers" not in groups and not ADMIN_GROUPS & set(groups):
            return self.forbidden(user, "create", "nodes", None, None)
        path = os.path.join(APISERVER_STATE, "nodes", node_name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        node["metadata"].update({"uid": "standin-node-" + node_name, "resourceVersion": "1",
                                 "creationTimestamp": rfc3339(time.time())})
        # written aside, then linked into place: readers never see half a file, and a second
        # registration of the same name finds the first (kube-apiserver's 409)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(node, f)
            os.link(tmp, path)
        except FileExistsError:
            return self.status(409, "AlreadyExists", 'nodes "%s" already exists' % node_name,
                               {"name": node_name, "kind": "nodes"})
        finally:
            os.unlink(tmp)
        self.send_json(201, node)

    def do_PUT(self):
        _, _, resource, namespace, name = self.route()
        if resource != "configmaps" or not namespace or not name:
            return self.do_other()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        who = self.identity()
        if who is None:
            return
        self.write_configmap(who[0], who[1], namespace, name, body)

    def write_configmap(self, user, groups, namespace, name, body):
        """Creates (name None: POST) or replaces (PUT) a ConfigMap, for admins only, checked
        as kube-apiserver checks it; stored in this node's state. Any namespace is accepted
        (the stand-in keeps no namespaces beyond the system ones)."""
        verb = "update" if name else "create"
        if not ADMIN_GROUPS & set(groups):
            return self.forbidden(user, verb, "configmaps", namespace, name)
        try:
            obj = json.loads(body)
            meta = obj["metadata"]
            assert obj.get("kind") == "ConfigMap" and obj.get("apiVersion") == "v1"
            assert isinstance(meta, dict) and re.fullmatch(NAME_RE, meta.get("name") or "")
            assert all(isinstance(v, str) for v in (obj.get("data") or {}).values())
        except (ValueError, KeyError, TypeError, AssertionError):
            return self.status(400, "BadRequest", "the body is not a v1 ConfigMap with a valid name")
        cm_name = meta["name"]
        if meta.get("namespace", namespace) != namespace:
            return self.status(400, "BadRequest", "the namespace of the provided object does not "
                               "match the namespace sent on the request")
        if name and name != cm_name:
            return self.status(400, "BadRequest", 'the name of the object (%s) does not match the '
                               'name on the URL (%s)' % (cm_name, name))
        details = {"name": cm_name, "kind": "configmaps"}
        path = configmap_path(namespace, cm_name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        live = read_state(os.path.relpath(path, APISERVER_STATE), None)
        if name and live is None:
            return self.status(404, "NotFound", 'configmaps "%s" not found' % cm_name, details)
        if name and meta.get("resourceVersion") not in (None, "",
                                                        live["metadata"]["resourceVersion"]):
            return self.status(409, "Conflict", 'Operation cannot be fulfilled on configmaps '
                               '"%s": the object has been modified; please apply your changes '
                               'to the latest version and try again' % cm_name, details)
        meta.update({"namespace": namespace,
                     "uid": "standin-configmap-%s-%s" % (namespace, cm_name),
                     "resourceVersion": str(int(live["metadata"]["resourceVersion"]) + 1)
                     if live else "1",
                     "creationTimestamp": live["metadata"]["creationTimestamp"] if live
                     else rfc3339(time.time())})
        # written aside, then moved (replace) or linked (create) into place: readers never see
        # half a file, and a second create of the same name finds the first (409)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(obj, f)
            if name:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)
        except FileExistsError:
            return self.status(409, "AlreadyExists", 'configmaps "%s" already exists' % cm_name,
                               details)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.send_json(200 if name else 201, obj)

    def do_DELETE(self):
        self.do_other()

    def do_PATCH(self):
        self.do_other()

    def do_other(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        _, _, resource, _, _ = self.route()
        if self.identity() is None:
            return
        if resource in RESOURCE:
            return self.status(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource")
        self.status(404, "NotFound", "the server could not find the requested resource")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class ApiServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, family, address, context):
        self.address_family = family
        self.context = context
        super().__init__(address, ApiHandler, bind_and_activate=False)
        if family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.server_bind()
        self.server_activate()

    def server_bind(self):
        # HTTPServer's own server_bind looks up the host's FQDN, which stalls on node names
        # longer than a DNS label (63 characters; kind accepts 50-character cluster names).
        socketserver.TCPServer.server_bind(self)
        self.server_name = "standin-apiserver"
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        # the handshake happens in the connection's own thread, not in the accept loop
        request = self.context.wrap_socket(request, server_side=True)
        try:
            super().finish_request(request, client_address)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        sys.stderr.write("connection from %s: %s\n" % (client_address[0], sys.exc_info()[1]))


def ipv6_enabled():
    try:
        with open("/proc/sys/net/ipv6/conf/all/disable_ipv6") as f:
            if f.read().strip() != "0":
                return False
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def apiserver():
    chain = "/run/standin-apiserver/chain.pem"
    os.makedirs(os.path.dirname(chain), exist_ok=True)
    # present the leaf and the CA, as kube-apiserver does when its cert file holds both
    with open(chain, "w") as f:
        f.write(read_text(os.path.join(PKI, "apiserver.crt")).rstrip("\n") + "\n")
        f.write(read_text(os.path.join(PKI, "ca.crt")).rstrip("\n") + "\n")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, os.path.join(PKI, "apiserver.key"))
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(os.path.join(PKI, "ca.crt"))
    if ipv6_enabled():
        server = ApiServer(socket.AF_INET6, ("::", APISERVER_PORT), context)
    else:
        server = ApiServer(socket.AF_INET, ("0.0.0.0", APISERVER_PORT), context)
    sys.stderr.write("stand-in API server listening on %s port %d\n"
                     % (server.server_address[0], APISERVER_PORT))
    sys.stderr.flush()
    server.serve_forever()


# --- entry ------------------------------------------------------------------------------------


def collect_files(tool, argv):
    """The configuration files the invocation names (never kubeconfigs or keys)."""
    paths = []
    if tool == "kubeadm":
        path = flag_value(argv, "--config")
        if path:
            paths.append(path)
    elif tool == "kubectl":
        path = flag_value(argv, "-f", "--filename")
        if path and path != "-":
            paths.append(path)
    files = {}
    for path in paths:
        try:
            files[path] = read_text(path)
        except OSError:
            pass
    return files


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "apiserver" and os.path.basename(sys.argv[0]).endswith(".py"):
        apiserver()
        return 0
    tool = os.path.basename(sys.argv[0])
    if tool not in ("kubeadm", "kubectl", "kubelet"):
        err("standin: unknown tool %r (run as kubeadm, kubectl or kubelet)" % tool)
        return 2
    argv = sys.argv[1:]
    stdin = None
    if tool == "kubectl":
        words = [a for a in argv if not a.startswith("-")]
        if words and words[0] in ("create", "apply") and flag_value(argv, "-f", "--filename") == "-":
            stdin = sys.stdin.read()
    start_ms = int(time.time() * 1000)
    log_call(tool, argv, stdin, collect_files(tool, argv))
    code = 1
    try:
        notready = apply_directives(tool, argv)
        if tool == "kubeadm":
            code = kubeadm(argv)
        elif tool == "kubectl":
            code = kubectl(argv, stdin, notready)
        else:
            code = kubelet(argv)
    finally:
        log_exit(tool, argv, code, start_ms)
    return code


# kubeadm finds every certificate under ClusterConfiguration.certificatesDir.
PKI = configured_certificates_dir()

if __name__ == "__main__":
    sys.exit(main())
