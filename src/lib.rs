//! kindling: local Kubernetes clusters in Docker containers, a drop-in replacement for kind.
//!
//! The binary is a thin layer over this library: `cli` parses arguments and renders output,
//! `cluster` orchestrates create/delete, and the pure modules (`config`, `pki`, `kubeconfig`,
//! `cluster::kubeadm`) hold the logic that is unit-tested without Docker.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod docker;
pub mod input;
pub mod k8s_version;
pub mod kubeconfig;
pub mod pki;
pub mod registry;
pub mod report;
pub mod util;
pub mod yaml;
