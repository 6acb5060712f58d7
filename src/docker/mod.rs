//! The only module that talks to the Docker engine (through bollard).
