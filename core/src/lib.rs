//! The Windows Hello for Business provisioning flows as a deterministic,
//! I/O-free engine with real cryptography.
//!
//! Nothing here reads a clock, touches the network or the file system, or
//! draws randomness of its own: time and seeds are passed in, plain data
//! comes out. Tests, the command line and the web page drive the same engine.
//!
//! # Code map
//!
//! - Plain data, from `whfb-model` and re-exported here: [`catalog`]: the actors, deployments, trust models and phases;
//!   [`flows`]: the registry, one file per flow; [`script`]: every step of
//!   every flow, expanded from its segments, with its narration;
//!   [`options`]: the seed's text and the conditions a person picks;
//!   [`artifact`]: what a step produces; [`clock`]: simulated time.
//! - [`world`]: everything that exists before a flow starts, built from a
//!   seed; [`device`]: the device and its TPM (through `tpm-emu`'s command
//!   bytes); [`enterprise_pki`] and [`pki`]: the CA, the enrollment agent, the
//!   template, PKCS#10 and CMS.
//! - [`engine`]: [`engine::Run`] executes a script step by step and records an
//!   [`engine::Event`] per step.
//! - [`formats`]: JWS, BCRYPT blobs, KEYCREDENTIALLINK_BLOB, DN-Binary;
//!   [`json_view`]: byte ranges of JSON members; [`export`] and [`zip`]: a
//!   run as files; [`edits`]: tampering and moving the clock, replayed.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub use whfb_model::{
    artifact, catalog, clock, compare, event, flows, layout, options, script, svg,
};

pub mod attestation;
pub mod capture;
pub mod device;
pub mod diagnose;
pub mod edits;
pub mod engine;
pub mod enterprise_pki;
pub mod error;
pub mod export;
pub mod formats;
pub mod inspect;
pub mod json_view;
pub mod kerberos;
pub mod network;
pub mod pki;
mod purpose;
pub mod rs256;
pub mod seed;
pub mod world;
pub mod zip;

pub use error::{Error, Result};
