//! What the Windows Hello for Business flow explorer shows, as plain data:
//! the actors and phases ([`catalog`]), the registry of flows ([`flows`]),
//! every step of a flow ([`script`]), simulated time ([`clock`]), the
//! conditions a person picks ([`options`]), what a run records
//! ([`event`], [`artifact`]), edits and their text form ([`edits`]), a
//! token's segments for the editor ([`jws`]) and artifacts as files
//! ([`files`]).
//!
//! No cryptography, no DER and no engine: the page's main binary links this
//! crate and not `whfb-core`, so the compiler keeps the engine's code out of
//! the page. The engine (`whfb-core`, in the worker and on the command line)
//! re-exports these modules and produces the data.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod artifact;
pub mod catalog;
pub mod clock;
pub mod compare;
pub mod diagnose;
pub mod edits;
pub mod event;
pub mod files;
pub mod flows;
pub mod follow;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod inspect;
pub mod jws;
pub mod layout;
pub mod options;
pub mod script;
pub mod svg;
