//! A small emulated TPM 2.0.
