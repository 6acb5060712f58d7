//! What the nodes' containerd needs to pull through registries and caches: `config_path` in its
//! configuration and one `hosts.toml` per registry host under `/etc/containerd/certs.d`
//! (containerd's registry host configuration; never the deprecated `registry.mirrors`). Pure.

use super::{CONTAINER_PORT, Mirror};
use crate::config::Cluster;
use serde_json::Value as Json;

/// Directory of the `hosts.toml` files in a node (the CRI plugin's `config_path`).
pub const CERTS_DIR: &str = "/etc/containerd/certs.d";

/// The CRI plugin sections that hold registry settings, per containerd config version:
/// version 2 (containerd 1.x, and kind's node images), then versions 3 and 4 (containerd 2.x).
const REGISTRY_SECTIONS: [(i64, &str); 3] = [
    (2, "io.containerd.grpc.v1.cri"),
    (3, "io.containerd.cri.v1.images"),
    (4, "io.containerd.cri.v1.images"),
];

/// `containerdConfigPatches` entries that set `config_path`: one per config version, each
/// declaring its version, so kind's patch rule applies exactly the one that matches the node's
/// file and skips the others.
pub fn config_path_patches() -> Vec<String> {
    REGISTRY_SECTIONS
        .iter()
        .map(|(version, plugin)| {
            format!(
                "version = {version}\n\n[plugins.\"{plugin}\".registry]\n  config_path = \"{CERTS_DIR}\"\n"
            )
        })
        .collect()
}

/// One file to write into every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsFile {
    /// Absolute path in the node.
    pub path: String,
    /// TOML text.
    pub contents: String,
}

/// The registry host directory (`/etc/containerd/certs.d/<host>`) file for `host`.
fn hosts_path(host: &str) -> String {
    format!("{CERTS_DIR}/{host}/hosts.toml")
}

/// `hosts.toml` sending `namespace` to the registry container `name` over plain HTTP.
/// containerd 1.6 refuses a file without a `[host]` table ("invalid `host` tree"), so the
/// registry is a host entry, as in kind's documented script.
fn local_hosts_toml(namespace: &str, name: &str) -> String {
    format!(
        "# {namespace}: kindling's local registry, the container \"{name}\" on the cluster network\n\
         [host.\"http://{name}:{CONTAINER_PORT}\"]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n"
    )
}

/// `hosts.toml` for an upstream registry: its cache first, the upstream itself as fallback.
fn mirror_hosts_toml(mirror: &Mirror) -> String {
    let cache = mirror.container_name();
    format!(
        "# {host}: pulled through kindling's cache \"{cache}\", else from the upstream\n\
         server = \"{url}\"\n\n\
         [host.\"http://{cache}:{CONTAINER_PORT}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
        host = mirror.host,
        url = mirror.url,
    )
}

/// Every `hosts.toml` a node gets: for a local registry `name` published on `host_port`, one
/// for `localhost:<host_port>` (the name users push to) and one for `<name>:5000`; one per
/// mirrored upstream.
pub fn node_files(local: Option<(&str, u16)>, mirrors: &[Mirror]) -> Vec<HostsFile> {
    let mut files = Vec::new();
    if let Some((name, host_port)) = local {
        for namespace in [
            format!("localhost:{host_port}"),
            format!("{name}:{CONTAINER_PORT}"),
        ] {
            files.push(HostsFile {
                path: hosts_path(&namespace),
                contents: local_hosts_toml(&namespace, name),
            });
        }
    }
    for mirror in mirrors {
        files.push(HostsFile {
            path: hosts_path(&mirror.host),
            contents: mirror_hosts_toml(mirror),
        });
    }
    files
}

/// Whether the config already wires registries into containerd itself, as ctlptl and kind's
/// documented script do: some `containerdConfigPatches` entry has a `registry` table under the
/// CRI plugin (`plugins."io.containerd.grpc.v1.cri".registry`, or
/// `plugins."io.containerd.cri.v1.images".registry` for containerd 2 configs) — `config_path`,
/// `mirrors`, `configs` or anything else in it — or some `containerdConfigPatchesJSON6902`
/// operation writes, moves, copies or removes something at or below such a table. kindling then
/// leaves registries entirely to the user's configuration.
pub fn config_wires_registries(config: &Cluster) -> bool {
    let plugins: Vec<&str> = REGISTRY_SECTIONS.iter().map(|(_, p)| *p).collect();
    let toml_hit = config.containerd_config_patches.iter().any(|text| {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            return false;
        };
        plugins.iter().any(|plugin| {
            table
                .get("plugins")
                .and_then(|p| p.get(*plugin))
                .and_then(|c| c.get("registry"))
                .is_some()
        })
    });
    let json_hit = config
        .containerd_config_patches_json6902
        .iter()
        .any(|text| {
            let Ok(ops) = crate::cluster::kubeadm::patch::parse_json6902(text) else {
                return false;
            };
            let Ok(ops) = serde_json::to_value(&ops) else {
                return false;
            };
            ops.as_array().into_iter().flatten().any(|op| {
                ["path", "from"].iter().any(|key| {
                    op[*key]
                        .as_str()
                        .is_some_and(|path| touches_registry(path, op.get("value"), &plugins))
                })
            })
        });
    toml_hit || json_hit
}

/// Whether a JSON pointer (with the operation's value placed there) reaches a CRI `registry`.
fn touches_registry(pointer: &str, value: Option<&Json>, plugins: &[&str]) -> bool {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let target = |plugin: &str| ["plugins".to_string(), plugin.to_string(), "registry".into()];
    plugins.iter().any(|plugin| {
        let target = target(plugin);
        if parts.len() >= target.len() {
            return parts[..target.len()] == target;
        }
        // A shorter path: a value placed there may carry the registry table inside it.
        if parts[..] != target[..parts.len()] {
            return false;
        }
        let mut node = value;
        for key in &target[parts.len()..] {
            node = node.and_then(|v| v.get(key));
        }
        node.is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::containerd::patch_config;

    const V2: &str = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"overlayfs\"\n";
    const V3: &str =
        "version = 3\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"overlayfs\"\n";

    #[test]
    fn config_path_lands_in_the_section_of_the_nodes_config_version() {
        let patches = config_path_patches();
        let v2: toml::Table = toml::from_str(&patch_config(V2, &patches, &[]).unwrap()).unwrap();
        let cri = &v2["plugins"]["io.containerd.grpc.v1.cri"];
        assert_eq!(cri["registry"]["config_path"].as_str(), Some(CERTS_DIR));
        assert_eq!(cri["containerd"]["snapshotter"].as_str(), Some("overlayfs"));
        assert!(v2["plugins"].get("io.containerd.cri.v1.images").is_none());
        assert_eq!(v2["version"].as_integer(), Some(2));

        let v3: toml::Table = toml::from_str(&patch_config(V3, &patches, &[]).unwrap()).unwrap();
        let images = &v3["plugins"]["io.containerd.cri.v1.images"];
        assert_eq!(images["registry"]["config_path"].as_str(), Some(CERTS_DIR));
        assert!(v3["plugins"].get("io.containerd.grpc.v1.cri").is_none());
    }

    #[test]
    fn user_patches_after_ours_still_win() {
        let mut patches = config_path_patches();
        patches.push(
            "[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/mine\"\n".into(),
        );
        let t: toml::Table = toml::from_str(&patch_config(V2, &patches, &[]).unwrap()).unwrap();
        assert_eq!(
            t["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["config_path"].as_str(),
            Some("/mine")
        );
    }

    #[test]
    fn hosts_files_for_registry_and_mirrors() {
        let mirrors = vec![
            Mirror::parse("docker.io").unwrap(),
            Mirror::parse("up:5000=http://up:5000").unwrap(),
        ];
        let files = node_files(Some(("kind-registry", 5001)), &mirrors);
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/etc/containerd/certs.d/localhost:5001/hosts.toml",
                "/etc/containerd/certs.d/kind-registry:5000/hosts.toml",
                "/etc/containerd/certs.d/docker.io/hosts.toml",
                "/etc/containerd/certs.d/up:5000/hosts.toml",
            ]
        );
        for local in &files[..2] {
            let t: toml::Table = toml::from_str(&local.contents).unwrap();
            assert!(t.get("server").is_none(), "{}", local.contents);
            let host = &t["host"]["http://kind-registry:5000"];
            assert_eq!(host["capabilities"].as_array().unwrap().len(), 3);
        }
        let hub: toml::Table = toml::from_str(&files[2].contents).unwrap();
        assert_eq!(hub["server"].as_str(), Some("https://registry-1.docker.io"));
        let caps = hub["host"]["http://kindling-mirror-docker-io:5000"]["capabilities"]
            .as_array()
            .unwrap();
        assert_eq!(caps.len(), 2, "a cache never takes pushes");
        let up: toml::Table = toml::from_str(&files[3].contents).unwrap();
        assert_eq!(up["server"].as_str(), Some("http://up:5000"));
        assert!(
            up["host"]
                .get("http://kindling-mirror-up-5000:5000")
                .is_some()
        );
        assert!(node_files(None, &[]).is_empty());
    }

    fn cluster(merge: &[&str], json: &[&str]) -> Cluster {
        let mut c = crate::config::default_config();
        c.containerd_config_patches = merge.iter().map(|s| s.to_string()).collect();
        c.containerd_config_patches_json6902 = json.iter().map(|s| s.to_string()).collect();
        c
    }

    #[test]
    fn registry_wiring_in_the_users_patches_is_detected() {
        // kind's documented script and ctlptl (containerd registry API v2)
        assert!(config_wires_registries(&cluster(
            &[
                "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n"
            ],
            &[]
        )));
        // ctlptl's older patches: mirrors
        assert!(config_wires_registries(&cluster(
            &[
                "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"localhost:5001\"]\n  endpoint = [\"http://kind-registry:5000\"]\n"
            ],
            &[]
        )));
        assert!(config_wires_registries(&cluster(
            &[
                "version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\nconfig_path = \"/x\"\n"
            ],
            &[]
        )));
        assert!(config_wires_registries(&cluster(
            &[],
            &[
                "- op: add\n  path: /plugins/io.containerd.grpc.v1.cri/registry\n  value: {config_path: /x}\n"
            ]
        )));
        assert!(config_wires_registries(&cluster(
            &[],
            &[
                r#"[{"op": "add", "path": "/plugins/io.containerd.grpc.v1.cri", "value": {"registry": {"config_path": "/x"}}}]"#
            ]
        )));
        // Other patches are not registry wiring.
        assert!(!config_wires_registries(&cluster(
            &["[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"native\"\n"],
            &[
                "- op: add\n  path: /plugins/io.containerd.grpc.v1.cri/max_container_log_line_size\n  value: -1\n"
            ]
        )));
        assert!(!config_wires_registries(&cluster(
            &[],
            &[
                r#"[{"op": "add", "path": "/plugins/io.containerd.grpc.v1.cri", "value": {"containerd": {}}}]"#
            ]
        )));
        assert!(!config_wires_registries(&cluster(
            &["not toml ["],
            &["nope"]
        )));
    }
}
