//! Wire formats with no library of their own: JWS, BCRYPT blobs, KEYCREDENTIALLINK_BLOB.
