//! A container to create, in plain terms, and its translation into the engine's API body.
//! Pure, so the exact settings of node containers are unit-tested without an engine.

use bollard::models::{
    ContainerCreateBody, DeviceMapping, HostConfig, HostConfigCgroupnsModeEnum, PortBinding,
    RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::{BTreeMap, HashMap};

/// How much of the host's power a node container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// `--privileged` with a private cgroup namespace, as kind runs nodes.
    Privileged,
    /// For engines that refuse `--privileged`: exactly the capabilities the engine can grant,
    /// unconfined seccomp/AppArmor/system paths, every device allowed, and the host's cgroup
    /// tree mounted read-write (cgroup v1) so systemd and nested containers work.
    Restricted {
        /// Capability names (`CAP_…`) the engine's runtime holds.
        capabilities: Vec<String>,
        /// Bind-mount the host's `/sys/fs/cgroup` read-write with the host cgroup namespace
        /// (needed on cgroup v1, where a private namespace leaves the tree read-only).
        host_cgroups: bool,
    },
    /// An ordinary container (the load balancer).
    Default,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPublish {
    /// Host address to listen on (`0.0.0.0`, `127.0.0.1`, `::1`, …).
    pub host_ip: String,
    /// Host port; 0 lets the engine pick.
    pub host_port: u16,
    /// Port in the container.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

/// Everything kindling sets on a container it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Container name.
    pub name: String,
    /// Hostname inside the container.
    pub hostname: String,
    /// Image reference.
    pub image: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Environment as `KEY=VALUE`.
    pub env: Vec<String>,
    /// Network to attach to.
    pub network: String,
    /// Privilege mode.
    pub security: Security,
    /// tmpfs mount points.
    pub tmpfs: Vec<String>,
    /// Anonymous volumes (removed with the container).
    pub volumes: Vec<String>,
    /// Bind mounts in Docker's `host:container[:options]` form.
    pub binds: Vec<String>,
    /// Published ports.
    pub ports: Vec<PortPublish>,
    /// Kernel parameters.
    pub sysctls: BTreeMap<String, String>,
    /// Host devices to pass through (path on host = path in container).
    pub devices: Vec<String>,
    /// Restart on failure at most this many times (kind: 1); `None` = never restart.
    pub restart_on_failure: Option<i64>,
    /// Restart always, also after the engine restarts (registries); wins over the above.
    pub restart_always: bool,
    /// Share the host's user namespace (engines with userns-remap).
    pub userns_host: bool,
    /// Share the host's PID namespace (only the capability probe).
    pub pid_host: bool,
    /// Allocate a TTY (nodes: yes, so the entrypoint's output is a console).
    pub tty: bool,
    /// Entrypoint override.
    pub entrypoint: Option<Vec<String>>,
    /// User override.
    pub user: Option<String>,
}

/// The container's hostname: its name, cut to the 63 characters of a DNS label when longer
/// (sethostname(2) refuses more than 64, and the runtime fails the start). Names kind can run
/// are short enough to be kept as they are.
fn hostname_for(name: &str) -> String {
    const MAX: usize = 63;
    if name.len() <= MAX {
        return name.to_string();
    }
    let mut end = MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].trim_end_matches(['-', '.']).to_string()
}

impl ContainerSpec {
    /// A spec with kind's common settings and nothing else.
    pub fn new(name: &str, image: &str, network: &str) -> Self {
        ContainerSpec {
            name: name.to_string(),
            hostname: hostname_for(name),
            image: image.to_string(),
            labels: BTreeMap::new(),
            env: Vec::new(),
            network: network.to_string(),
            security: Security::Default,
            tmpfs: Vec::new(),
            volumes: Vec::new(),
            binds: Vec::new(),
            ports: Vec::new(),
            sysctls: BTreeMap::new(),
            devices: Vec::new(),
            restart_on_failure: Some(1),
            restart_always: false,
            userns_host: false,
            pid_host: false,
            tty: true,
            entrypoint: None,
            user: None,
        }
    }

    /// The API body for `POST /containers/create`.
    pub fn to_create_body(&self) -> ContainerCreateBody {
        let mut security_opt = Vec::new();
        let mut binds = self.binds.clone();
        let mut host = HostConfig {
            init: Some(false),
            network_mode: Some(self.network.clone()),
            cgroupns_mode: Some(HostConfigCgroupnsModeEnum::PRIVATE),
            ..Default::default()
        };
        match &self.security {
            Security::Privileged => {
                host.privileged = Some(true);
                security_opt.extend(["seccomp=unconfined", "apparmor=unconfined"]);
            }
            Security::Restricted {
                capabilities,
                host_cgroups,
            } => {
                host.cap_add = Some(capabilities.clone());
                security_opt.extend(["seccomp=unconfined", "apparmor=unconfined"]);
                // The API form of the CLI's `--security-opt systempaths=unconfined`: nothing in
                // /proc or /sys is masked or read-only.
                host.masked_paths = Some(Vec::new());
                host.readonly_paths = Some(Vec::new());
                host.device_cgroup_rules = Some(vec!["a *:* rwm".to_string()]);
                if *host_cgroups {
                    binds.push("/sys/fs/cgroup:/sys/fs/cgroup:rw".to_string());
                    host.cgroupns_mode = Some(HostConfigCgroupnsModeEnum::HOST);
                }
            }
            Security::Default => {}
        }
        if !security_opt.is_empty() {
            host.security_opt = Some(security_opt.into_iter().map(String::from).collect());
        }
        if !self.tmpfs.is_empty() {
            host.tmpfs = Some(
                self.tmpfs
                    .iter()
                    .map(|p| (p.clone(), String::new()))
                    .collect(),
            );
        }
        if !binds.is_empty() {
            host.binds = Some(binds);
        }
        if !self.sysctls.is_empty() {
            host.sysctls = Some(self.sysctls.clone().into_iter().collect());
        }
        if !self.devices.is_empty() {
            host.devices = Some(
                self.devices
                    .iter()
                    .map(|d| DeviceMapping {
                        path_on_host: Some(d.clone()),
                        path_in_container: Some(d.clone()),
                        cgroup_permissions: Some("rwm".to_string()),
                    })
                    .collect(),
            );
        }
        if self.restart_always {
            host.restart_policy = Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: None,
            });
        } else if let Some(max) = self.restart_on_failure {
            host.restart_policy = Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: Some(max),
            });
        }
        if self.userns_host {
            host.userns_mode = Some("host".to_string());
        }
        if self.pid_host {
            host.pid_mode = Some("host".to_string());
        }
        let mut exposed = Vec::new();
        if !self.ports.is_empty() {
            let mut map: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
            for p in &self.ports {
                let key = format!("{}/{}", p.container_port, p.protocol.to_lowercase());
                if !exposed.contains(&key) {
                    exposed.push(key.clone());
                }
                map.entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(PortBinding {
                        host_ip: Some(p.host_ip.clone()),
                        host_port: Some(if p.host_port == 0 {
                            String::new()
                        } else {
                            p.host_port.to_string()
                        }),
                    });
            }
            host.port_bindings = Some(map);
        }
        ContainerCreateBody {
            hostname: Some(self.hostname.clone()),
            image: Some(self.image.clone()),
            labels: Some(self.labels.clone().into_iter().collect()),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            tty: Some(self.tty),
            volumes: (!self.volumes.is_empty()).then(|| self.volumes.clone()),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            entrypoint: self.entrypoint.clone(),
            user: self.user.clone(),
            host_config: Some(host),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node_spec(security: Security) -> ContainerSpec {
        let mut spec = ContainerSpec::new("kind-control-plane", "kindest/node:v1", "kind");
        spec.security = security;
        spec.tmpfs = vec!["/tmp".into(), "/run".into()];
        spec.volumes = vec!["/var".into()];
        spec.binds = vec!["/lib/modules:/lib/modules:ro".into()];
        spec.ports = vec![PortPublish {
            host_ip: "127.0.0.1".into(),
            host_port: 41234,
            container_port: 6443,
            protocol: "TCP".into(),
        }];
        spec
    }

    #[test]
    fn privileged_node_matches_kinds_docker_run() {
        let body = node_spec(Security::Privileged).to_create_body();
        let host = body.host_config.unwrap();
        assert_eq!(host.privileged, Some(true));
        assert_eq!(host.cap_add, None);
        assert_eq!(
            host.security_opt.unwrap(),
            ["seccomp=unconfined", "apparmor=unconfined"]
        );
        assert_eq!(
            host.cgroupns_mode,
            Some(HostConfigCgroupnsModeEnum::PRIVATE)
        );
        assert_eq!(host.init, Some(false));
        let restart = host.restart_policy.unwrap();
        assert_eq!(restart.name, Some(RestartPolicyNameEnum::ON_FAILURE));
        assert_eq!(restart.maximum_retry_count, Some(1));
        assert_eq!(host.network_mode.as_deref(), Some("kind"));
        let tmpfs = host.tmpfs.unwrap();
        assert!(tmpfs.contains_key("/tmp") && tmpfs.contains_key("/run"));
        assert_eq!(host.binds.unwrap(), ["/lib/modules:/lib/modules:ro"]);
        let ports = host.port_bindings.unwrap();
        let binding = &ports["6443/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("41234"));
        assert_eq!(body.volumes.unwrap(), ["/var"]);
        assert_eq!(body.tty, Some(true));
        assert_eq!(body.hostname.as_deref(), Some("kind-control-plane"));
        let long = "a".repeat(50) + "-external-load-balancer";
        let spec = ContainerSpec::new(&long, "img", "kind");
        assert_eq!(spec.name, long);
        assert_eq!(spec.hostname, "a".repeat(50) + "-external-loa");
        assert_eq!(hostname_for(&("c".repeat(62) + "-x")), "c".repeat(62));
        assert_eq!(hostname_for(&"b".repeat(63)), "b".repeat(63));
    }

    #[test]
    fn restricted_node_gets_capabilities_and_host_cgroups() {
        let caps = vec!["CAP_SYS_ADMIN".to_string(), "CAP_NET_ADMIN".to_string()];
        let body = node_spec(Security::Restricted {
            capabilities: caps.clone(),
            host_cgroups: true,
        })
        .to_create_body();
        let host = body.host_config.unwrap();
        assert_eq!(host.privileged, None);
        assert_eq!(host.cap_add.unwrap(), caps);
        assert_eq!(
            host.security_opt.unwrap(),
            ["seccomp=unconfined", "apparmor=unconfined"]
        );
        // The API form of the CLI's `systempaths=unconfined`: nothing masked or read-only.
        assert_eq!(host.masked_paths, Some(vec![]));
        assert_eq!(host.readonly_paths, Some(vec![]));
        assert_eq!(host.device_cgroup_rules.unwrap(), ["a *:* rwm"]);
        assert_eq!(host.cgroupns_mode, Some(HostConfigCgroupnsModeEnum::HOST));
        assert!(
            host.binds
                .unwrap()
                .contains(&"/sys/fs/cgroup:/sys/fs/cgroup:rw".to_string())
        );
    }

    #[test]
    fn engine_picked_port_is_sent_empty() {
        let mut spec = node_spec(Security::Default);
        spec.ports[0].host_port = 0;
        let host = spec.to_create_body().host_config.unwrap();
        let ports = host.port_bindings.unwrap();
        let binding = &ports["6443/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_port.as_deref(), Some(""));
    }
}
