//! The cluster config API `kind.x-k8s.io/v1alpha4`: strict decoding, kind's defaults and
//! validation. Pure: no Docker, no environment (callers pass stdin text or a file's contents).

mod types;

pub use types::*;
