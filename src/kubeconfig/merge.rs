//! Merging a `kind-<cluster>` entry into a kubeconfig and removing it again, in memory.

use super::KubeconfigError;
use super::types::{Kubeconfig, check_single};

/// Merges `entry` (one cluster, user and context, as `kind_kubeconfig` builds) into
/// `existing`: entries with the same name are replaced in place, others appended; other
/// entries are untouched; `current-context` is set to the entry's context; top-level extra
/// fields (`apiVersion`, `kind`, `preferences`) are copied in only if `existing` has none.
pub fn merge(existing: &mut Kubeconfig, entry: &Kubeconfig) -> Result<(), KubeconfigError> {
    check_single(entry)?;
    upsert(&mut existing.clusters, &entry.clusters[0], |c| &c.name);
    upsert(&mut existing.users, &entry.users[0], |u| &u.name);
    upsert(&mut existing.contexts, &entry.contexts[0], |c| &c.name);
    existing.current_context.clone_from(&entry.contexts[0].name);
    // Some clients (notably the JavaScript one) need apiVersion/kind, so a file that had no
    // top-level fields gets the entry's; a file that had some keeps its own.
    if existing.other.is_empty() {
        existing.other.clone_from(&entry.other);
    }
    Ok(())
}

/// Replaces every item named like `item` (normally at most one), or appends it.
fn upsert<T: Clone>(list: &mut Vec<T>, item: &T, name: impl Fn(&T) -> &String) {
    let mut found = false;
    for slot in list.iter_mut().filter(|slot| name(slot) == name(item)) {
        slot.clone_from(item);
        found = true;
    }
    if !found {
        list.push(item.clone());
    }
}

/// Removes the `kind-<cluster>` cluster, user and context entries; clears `current-context`
/// only if it named this cluster. Returns whether anything changed.
pub fn remove(config: &mut Kubeconfig, cluster_name: &str) -> bool {
    let key = crate::cluster::context_name(cluster_name);
    let before = (
        config.clusters.len(),
        config.users.len(),
        config.contexts.len(),
    );
    config.clusters.retain(|c| c.name != key);
    config.users.retain(|u| u.name != key);
    config.contexts.retain(|c| c.name != key);
    let mut changed = before
        != (
            config.clusters.len(),
            config.users.len(),
            config.contexts.len(),
        );
    if config.current_context == key {
        config.current_context.clear();
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::types::{NamedCluster, NamedContext, NamedUser};
    use serde_json::json;

    /// A config with one cluster/user/context per name; `server` marks which version we see.
    fn config(names: &[(&str, &str)], current: &str) -> Kubeconfig {
        let mut cfg = Kubeconfig {
            current_context: current.into(),
            ..Default::default()
        };
        for (name, server) in names {
            let mut cluster = NamedCluster {
                name: (*name).into(),
                ..Default::default()
            };
            cluster.cluster.server = (*server).into();
            cfg.clusters.push(cluster);
            let mut user = NamedUser {
                name: (*name).into(),
                ..Default::default()
            };
            user.user.insert("token".into(), json!(server));
            cfg.users.push(user);
            let mut context = NamedContext {
                name: (*name).into(),
                ..Default::default()
            };
            context.context.cluster = (*name).into();
            context.context.user = (*name).into();
            cfg.contexts.push(context);
        }
        cfg
    }

    fn kind_entry(cluster: &str, server: &str) -> Kubeconfig {
        let key = format!("kind-{cluster}");
        let mut cfg = config(&[(&key, server)], &key);
        cfg.other.insert("apiVersion".into(), json!("v1"));
        cfg.other.insert("kind".into(), json!("Config"));
        cfg.other.insert("preferences".into(), json!({}));
        cfg
    }

    #[test]
    fn merge_cases() {
        struct Case {
            name: &'static str,
            existing: Kubeconfig,
            entry: Kubeconfig,
            expected: Kubeconfig,
        }
        let entry = kind_entry("kind", "https://new");
        let with_extras = |mut cfg: Kubeconfig| {
            cfg.other.clone_from(&entry.other);
            cfg
        };
        let mut own_extras = config(&[("prod", "https://prod")], "prod");
        own_extras.other.insert("apiVersion".into(), json!("v1"));
        let mut own_extras_expected = config(
            &[("prod", "https://prod"), ("kind-kind", "https://new")],
            "kind-kind",
        );
        own_extras_expected
            .other
            .insert("apiVersion".into(), json!("v1"));

        let cases = vec![
            Case {
                name: "empty existing gets the entry, current-context and top-level extras",
                existing: Kubeconfig::default(),
                entry: entry.clone(),
                expected: with_extras(config(&[("kind-kind", "https://new")], "kind-kind")),
            },
            Case {
                name: "same name is replaced in place, position kept",
                existing: config(
                    &[
                        ("a", "https://a"),
                        ("kind-kind", "https://old"),
                        ("b", "https://b"),
                    ],
                    "a",
                ),
                entry: entry.clone(),
                expected: with_extras(config(
                    &[
                        ("a", "https://a"),
                        ("kind-kind", "https://new"),
                        ("b", "https://b"),
                    ],
                    "kind-kind",
                )),
            },
            Case {
                name: "other names are kept and the entry appended",
                existing: config(&[("kops-blah", "https://kops")], "kops-blah"),
                entry: entry.clone(),
                expected: with_extras(config(
                    &[("kops-blah", "https://kops"), ("kind-kind", "https://new")],
                    "kind-kind",
                )),
            },
            Case {
                name: "another kind cluster is not touched",
                existing: config(&[("kind-other", "https://other")], ""),
                entry: entry.clone(),
                expected: with_extras(config(
                    &[
                        ("kind-other", "https://other"),
                        ("kind-kind", "https://new"),
                    ],
                    "kind-kind",
                )),
            },
            Case {
                name: "existing top-level fields are kept, not overwritten",
                existing: own_extras,
                entry: entry.clone(),
                expected: own_extras_expected,
            },
        ];
        for case in cases {
            let mut existing = case.existing;
            merge(&mut existing, &case.entry).unwrap();
            assert_eq!(existing, case.expected, "case: {}", case.name);
        }
    }

    #[test]
    fn merge_replaces_each_half_independently() {
        // A file where only the user survived (e.g. edited by hand): the user is replaced and
        // the missing cluster and context are appended.
        let mut existing = config(&[("kind-kind", "https://old")], "");
        existing.clusters.clear();
        existing.contexts.clear();
        existing.clusters.push(NamedCluster {
            name: "x".into(),
            ..Default::default()
        });
        let entry = kind_entry("kind", "https://new");
        merge(&mut existing, &entry).unwrap();
        assert_eq!(existing.users, entry.users);
        assert_eq!(existing.clusters.len(), 2);
        assert_eq!(existing.clusters[1], entry.clusters[0]);
        assert_eq!(existing.contexts, entry.contexts);
    }

    #[test]
    fn merge_rejects_an_entry_that_is_not_a_kind_kubeconfig() {
        let mut existing = config(&[("a", "https://a")], "a");
        let before = existing.clone();
        let err = merge(&mut existing, &Kubeconfig::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kubeadm KUBECONFIG should have one cluster, but read 0"
        );
        assert_eq!(existing, before, "a failed merge must not change anything");
    }

    #[test]
    fn remove_cases() {
        struct Case {
            name: &'static str,
            existing: Kubeconfig,
            cluster: &'static str,
            expected: Kubeconfig,
            changed: bool,
        }
        let cases = vec![
            Case {
                name: "empty config",
                existing: Kubeconfig::default(),
                cluster: "foo",
                expected: Kubeconfig::default(),
                changed: false,
            },
            Case {
                name: "only kind",
                existing: config(&[("kind-kind", "https://k")], ""),
                cluster: "kind",
                expected: Kubeconfig::default(),
                changed: true,
            },
            Case {
                name: "kind removed, kops kept, our current-context cleared",
                existing: config(
                    &[("kops-blah", "https://kops"), ("kind-kind", "https://k")],
                    "kind-kind",
                ),
                cluster: "kind",
                expected: config(&[("kops-blah", "https://kops")], ""),
                changed: true,
            },
            Case {
                name: "foreign current-context and other kind clusters untouched",
                existing: config(
                    &[
                        ("kind-a", "https://a"),
                        ("prod", "https://p"),
                        ("kind-b", "https://b"),
                    ],
                    "prod",
                ),
                cluster: "a",
                expected: config(&[("prod", "https://p"), ("kind-b", "https://b")], "prod"),
                changed: true,
            },
            Case {
                name: "another cluster's name is not a prefix match",
                existing: config(&[("kind-ab", "https://ab")], "kind-ab"),
                cluster: "a",
                expected: config(&[("kind-ab", "https://ab")], "kind-ab"),
                changed: false,
            },
            Case {
                name: "dangling current-context alone counts as a change",
                existing: config(&[], "kind-kind"),
                cluster: "kind",
                expected: Kubeconfig::default(),
                changed: true,
            },
        ];
        for case in cases {
            let mut existing = case.existing;
            let changed = remove(&mut existing, case.cluster);
            assert_eq!(changed, case.changed, "case: {}", case.name);
            assert_eq!(existing, case.expected, "case: {}", case.name);
        }
    }

    #[test]
    fn remove_keeps_top_level_fields() {
        let mut cfg = kind_entry("kind", "https://k");
        assert!(remove(&mut cfg, "kind"));
        assert_eq!(
            cfg.to_yaml().unwrap(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );
    }
}
