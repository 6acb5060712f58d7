//! Integration tests: one binary so the crate and its dependencies link once.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod kubeconfig_files;
