//! The manifests installed after `kubeadm init`: the node image's default CNI with kind's
//! "would you kindly template/patch this file" rules, and the fallback StorageClass. Pure.

use crate::yaml::YamlError;
use serde_json::{Value, json};

/// Marker asking for `{{ .PodSubnet }}` to be filled in.
const TEMPLATE_MARKER: &str = "would you kindly template this file";
/// Marker asking for `CONTROL_PLANE_ENDPOINT` to be added to DaemonSets.
const PATCH_MARKER: &str = "would you kindly patch this file";
/// The template spellings kind's CNI manifests use.
const POD_SUBNET_ACTIONS: [&str; 2] = ["{{ .PodSubnet }}", "{{.PodSubnet}}"];

/// The default StorageClass used when a node image has no
/// `/kind/manifests/default-storage.yaml` (older images): host-path volumes, named `standard`
/// and marked as the cluster default.
pub const FALLBACK_STORAGE_MANIFEST: &str = "\
# Default StorageClass for node images that ship no storage manifest.
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: \"true\"
provisioner: kubernetes.io/host-path
";

/// Why the CNI manifest could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest asks for templating with something other than `.PodSubnet`.
    #[error(
        "failed to template the CNI manifest: unsupported template action {action:?} \
         (kindling only fills in {{{{ .PodSubnet }}}})"
    )]
    UnsupportedTemplate {
        /// The first unsupported `{{ ... }}` action.
        action: String,
    },
    /// The manifest asks for patching but is not valid YAML.
    #[error("failed to patch the CNI manifest: {0}")]
    Yaml(#[from] YamlError),
    /// A DaemonSet has no first container with an `env` list to extend.
    #[error(
        "failed to patch the CNI manifest: DaemonSet {name:?} has no env list in its first \
         container to add CONTROL_PLANE_ENDPOINT to"
    )]
    NoEnvList {
        /// `metadata.name` of the DaemonSet.
        name: String,
    },
}

/// Prepares the node image's CNI manifest as kind does: with the template marker, fills in
/// the pod subnet (the full comma list for dual-stack); with the patch marker, adds
/// `CONTROL_PLANE_ENDPOINT` to the env of the first container of every `apps/v1` DaemonSet
/// (which re-serialises the manifest). Manifests without markers are returned unchanged.
pub fn render_cni(
    manifest: &str,
    pod_subnet: &str,
    control_plane_endpoint: &str,
) -> Result<String, ManifestError> {
    let mut text = manifest.to_string();
    if text.contains(TEMPLATE_MARKER) {
        for action in POD_SUBNET_ACTIONS {
            text = text.replace(action, pod_subnet);
        }
        // Anything else in braces would be a Go template action kindling cannot run.
        if let Some(start) = text.find("{{") {
            let rest = &text[start..];
            let end = rest.find("}}").map_or(rest.len(), |e| e + 2);
            return Err(ManifestError::UnsupportedTemplate {
                action: rest[..end].to_string(),
            });
        }
    }
    if !text.contains(PATCH_MARKER) {
        return Ok(text);
    }

    let mut out = Vec::new();
    for mut doc in crate::yaml::documents(&text)? {
        let is_daemonset = doc.get("kind").and_then(Value::as_str) == Some("DaemonSet")
            && doc.get("apiVersion").and_then(Value::as_str) == Some("apps/v1");
        if is_daemonset {
            // Same effect as kind's RFC 6902 `add .../containers/0/env/-`, which also fails
            // when the list does not exist.
            let name = doc
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let env = doc
                .pointer_mut("/spec/template/spec/containers/0/env")
                .and_then(Value::as_array_mut)
                .ok_or(ManifestError::NoEnvList { name })?;
            env.push(json!({ "name": "CONTROL_PLANE_ENDPOINT", "value": control_plane_endpoint }));
        }
        out.push(crate::yaml::to_string(&doc)?);
    }
    Ok(out.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small kindnet-like manifest: comment header with both markers, RBAC, a DaemonSet
    /// whose container reads the pod subnet, and a non-apps/v1 DaemonSet that must be left.
    const KINDNET_LIKE: &str = r#"
# tiny CNI
# would you kindly template this file
# would you kindly patch this file
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kindnet
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kindnet
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: kindnet-cni
        image: docker.io/kindest/kindnetd:test
        env:
        - name: POD_SUBNET
          value: {{ .PodSubnet }}
        - name: ALSO_SUBNET
          value: "{{.PodSubnet}}"
      - name: sidecar
        image: busybox
        env: []
---
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: legacy
spec:
  template:
    spec:
      containers:
      - name: c
        env: []
"#;

    fn docs(text: &str) -> Vec<Value> {
        crate::yaml::documents(text).unwrap()
    }

    #[test]
    fn rewritten_manifests_keep_every_value_for_every_reader() {
        // Values a YAML 1.1 reader (kubectl) would take for booleans or numbers if unquoted.
        let awkward = [
            "on",
            "y",
            "NO",
            "~",
            "1_000",
            "0x1F",
            "017",
            "1:20",
            "1e3",
            "2001-12-14",
            "<<",
        ];
        let env: String = awkward
            .iter()
            .enumerate()
            .map(|(i, v)| format!("        - name: V{i}\n          value: \"{v}\"\n"))
            .collect();
        let manifest = KINDNET_LIKE.replace(
            "        env: []\n---\napiVersion: extensions",
            &format!("        env:\n{env}        args: [\"--flag=on\", \"y\"]\n---\napiVersion: extensions"),
        );
        let out = render_cni(&manifest, "10.244.0.0/16", "kind-control-plane:6443").unwrap();
        let docs = crate::yaml::tests::read_back_everywhere(&out);
        let sidecar = &docs[1]["spec"]["template"]["spec"]["containers"][1];
        for (i, v) in awkward.iter().enumerate() {
            assert_eq!(sidecar["env"][i]["value"], *v, "{out}");
        }
        assert_eq!(sidecar["args"], json!(["--flag=on", "y"]));
    }

    #[test]
    fn templates_pod_subnet_and_patches_apps_v1_daemonsets() {
        let dual = "10.244.0.0/16,fd00:10:244::/56";
        let out = render_cni(KINDNET_LIKE, dual, "kind-control-plane:6443").unwrap();
        let docs = docs(&out);
        assert_eq!(docs.len(), 3, "{out}");
        let env = docs[1]
            .pointer("/spec/template/spec/containers/0/env")
            .unwrap();
        assert_eq!(
            env,
            &json!([
                { "name": "POD_SUBNET", "value": dual },
                { "name": "ALSO_SUBNET", "value": dual },
                { "name": "CONTROL_PLANE_ENDPOINT", "value": "kind-control-plane:6443" },
            ])
        );
        // Only the first container, and only apps/v1 DaemonSets, are patched.
        assert_eq!(
            docs[1].pointer("/spec/template/spec/containers/1/env"),
            Some(&json!([]))
        );
        assert_eq!(
            docs[2].pointer("/spec/template/spec/containers/0/env"),
            Some(&json!([]))
        );
        assert_eq!(docs[0]["kind"], "ServiceAccount");
    }

    #[test]
    fn markers_are_required() {
        let plain = "kind: DaemonSet\napiVersion: apps/v1\nvalue: {{ .PodSubnet }}\n";
        assert_eq!(render_cni(plain, "10.244.0.0/16", "x:6443").unwrap(), plain);

        // Template only: text substitution, no re-serialisation (comments kept).
        let template_only = "# would you kindly template this file\nsubnet: {{.PodSubnet}}\n";
        assert_eq!(
            render_cni(template_only, "10.244.0.0/16", "x:6443").unwrap(),
            "# would you kindly template this file\nsubnet: 10.244.0.0/16\n"
        );
    }

    #[test]
    fn unsupported_template_actions_are_errors() {
        let text = "# would you kindly template this file\na: {{ .PodSubnet }}\nb: {{ .Other }}\n";
        let err = render_cni(text, "10.244.0.0/16", "x:6443").unwrap_err();
        assert!(
            matches!(&err, ManifestError::UnsupportedTemplate { action } if action == "{{ .Other }}"),
            "{err}"
        );
    }

    #[test]
    fn daemonset_without_env_is_an_error_naming_it() {
        let text = "# would you kindly patch this file\napiVersion: apps/v1\nkind: DaemonSet\n\
                    metadata:\n  name: cni\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n";
        let err = render_cni(text, "10.244.0.0/16", "x:6443").unwrap_err();
        assert!(err.to_string().contains("\"cni\""), "{err}");
    }

    #[test]
    fn fallback_storage_class_is_the_default_host_path_class() {
        let docs = docs(FALLBACK_STORAGE_MANIFEST);
        assert_eq!(docs.len(), 1);
        let sc = &docs[0];
        assert_eq!(sc["apiVersion"], "storage.k8s.io/v1");
        assert_eq!(sc["kind"], "StorageClass");
        assert_eq!(sc["metadata"]["name"], "standard");
        assert_eq!(
            sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
            "true"
        );
        assert_eq!(sc["provisioner"], "kubernetes.io/host-path");
    }
}
