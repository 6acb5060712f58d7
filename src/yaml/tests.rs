//! Tests of the YAML layer.
