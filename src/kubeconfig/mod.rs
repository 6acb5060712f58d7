//! The user's kubeconfig files: which file, merging and removing `kind-<cluster>` entries,
//! locking (waited for, stale locks reported) and atomic writes.
