//! The Windows Hello for Business provisioning flows as a deterministic,
//! I/O-free engine with real cryptography.
//!
//! Nothing here reads a clock, touches the network or the file system, or
//! draws randomness of its own: time and seeds are passed in, plain data
//! comes out. Tests, the command line and the web page drive the same engine.

pub mod artifact;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod formats;
pub mod json_view;
pub mod pki;
pub mod script;

pub use error::{Error, Result};
