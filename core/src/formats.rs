//! Wire formats with no library of their own: JWS, BCRYPT blobs, KEYCREDENTIALLINK_BLOB.
//!
//! Each format has a builder, a parser that refuses bad input with a clear
//! [`Error`](crate::Error) (never a panic: a panic in WebAssembly kills the
//! page), and a `fields` function giving the decoded view with the byte range
//! of every field, for the inspector.
//!
//! The binary formats (BCRYPT_RSAKEY_BLOB, KEYCREDENTIALLINK_BLOB) share one
//! marshalling approach, [`codec::Codec`] over a [`codec::Reader`]. JSON goes
//! through serde_json and base64 through base64ct, the field's reviewed
//! libraries.

pub mod bcrypt;
pub mod codec;
pub(crate) mod encoding;
pub mod guid;
pub mod jwe;
pub mod jws;
pub mod key_credential_link;
pub mod saml;
pub mod xml;

#[cfg(test)]
mod test_support;

pub use bcrypt::BcryptRsaPublicBlob;
pub use guid::Guid;
pub use jws::{Jwk, JwkSet, Jws};
pub use key_credential_link::{
    CustomKeyFlags, CustomKeyInformation, DnBinary, FileTime, KeyCredentialLink,
    KeyCredentialParams, KeySource, KeyTime, KeyUsage,
};
