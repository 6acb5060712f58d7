//! Integration tests: one binary so the crate and its dependencies link once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod common;
mod config_diff;
mod e2e_bootstrap;
mod e2e_bounds;
mod e2e_ci;
mod e2e_ha;
mod e2e_network;
mod e2e_pipeline;
mod e2e_pki;
mod e2e_provision;
mod e2e_registry;
mod e2e_walk;
mod kubeconfig_files;
mod kubeconfig_yaml;
mod pki_peers;
/// The YAML trouble strings the library's unit tests use, shared by path.
#[path = "../../src/yaml/trouble.rs"]
mod trouble;
mod user_files;
