//! The `kube-public/local-registry-hosting` ConfigMap of KEP-1755, which tells tools (Tilt,
//! ctlptl, Skaffold, …) where to push images for the cluster. Pure.

use super::CONTAINER_PORT;
use serde::Serialize;
use serde_json::json;

/// The ConfigMap's name (fixed by the KEP).
pub const CONFIGMAP_NAME: &str = "local-registry-hosting";
/// Its namespace (fixed by the KEP).
pub const CONFIGMAP_NAMESPACE: &str = "kube-public";
/// The data key of version 1 of the structure.
pub const DATA_KEY: &str = "localRegistryHosting.v1";
/// Where users learn how the cluster's local registry is meant to be used.
pub const HELP_URL: &str = "https://kind.sigs.k8s.io/docs/user/local-registry/";

/// `LocalRegistryHostingV1`, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalRegistryHostingV1 {
    /// Where tools outside the cluster push: `localhost:<host port>`.
    pub host: String,
    /// Where pods reach the registry: `<name>:5000` on the cluster network.
    pub host_from_cluster_network: String,
    /// What image references in objects should use. The nodes resolve `localhost:<host port>`
    /// to the registry, so images keep the name they were pushed under.
    pub host_from_container_runtime: String,
    /// Documentation URL.
    pub help: String,
}

impl LocalRegistryHostingV1 {
    /// The values for registry `name` published on `host_port`.
    pub fn new(name: &str, host_port: u16) -> Self {
        LocalRegistryHostingV1 {
            host: format!("localhost:{host_port}"),
            host_from_cluster_network: format!("{name}:{CONTAINER_PORT}"),
            host_from_container_runtime: format!("localhost:{host_port}"),
            help: HELP_URL.to_string(),
        }
    }
}

/// The ConfigMap manifest for `kubectl apply -f -`.
pub fn configmap(hosting: &LocalRegistryHostingV1) -> Result<String, crate::yaml::YamlError> {
    let data = crate::yaml::to_string(hosting)?;
    crate::yaml::to_string(&json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIGMAP_NAME,
            "namespace": CONFIGMAP_NAMESPACE,
        },
        "data": { DATA_KEY: data },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_follows_kep_1755() {
        let text = configmap(&LocalRegistryHostingV1::new("kind-registry", 5001)).unwrap();
        let docs = crate::yaml::documents(&text).unwrap();
        assert_eq!(docs.len(), 1);
        let cm = &docs[0];
        assert_eq!(cm["apiVersion"], "v1");
        assert_eq!(cm["kind"], "ConfigMap");
        assert_eq!(cm["metadata"]["name"], "local-registry-hosting");
        assert_eq!(cm["metadata"]["namespace"], "kube-public");
        assert_eq!(cm["data"].as_object().unwrap().len(), 1);
        let inner = crate::yaml::documents(cm["data"]["localRegistryHosting.v1"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            inner[0],
            json!({
                "host": "localhost:5001",
                "hostFromClusterNetwork": "kind-registry:5000",
                "hostFromContainerRuntime": "localhost:5001",
                "help": HELP_URL,
            })
        );
    }
}
