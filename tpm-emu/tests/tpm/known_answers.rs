//! Known answers for the two structures a verifier reads from this TPM: a
//! user key's `TPM2B_PUBLIC` and the `TPMS_ATTEST` that TPM2_Certify makes
//! of it.
//!
//! `tests/data/user-key.tpm2b_public.bin` and
//! `tests/data/user-key.certify.tpms_attest.bin` are what a TPM manufactured
//! from [`SEED`] returns through the public API. One test regenerates them
//! and compares byte for byte; the others read the files field by field,
//! with a small big-endian cursor of their own rather than the crate's
//! unmarshalling, against constants that cite TPM 2.0 Part 2. tpm2-tools 5.4
//! (`tpm2_print -t TPM2B_PUBLIC`, `tpm2_print -t TPMS_ATTEST`) read the same
//! values from the files; the attested Name was recomputed with `sha256sum`
//! over the public file's bytes (see the comments at each constant).
//!
//! When a change to the emulator is meant to change these bytes, re-bless:
//! `WHFB_BLESS=1 cargo test -p tpm-emu --test tpm known_answers` writes the files
//! instead of comparing them; then update the constants below, and check them
//! again with `tpm2_print`.

use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use tpm_emu::{
    templates, AuthValue, Marshal, Millis, Tpm, Tpm2bPublic, TpmClient, TpmHandle, TpmSeed,
    TpmsAttest, TpmtPublic, Unmarshal,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const PUBLIC_FILE: &str = "user-key.tpm2b_public.bin";
const ATTEST_FILE: &str = "user-key.certify.tpms_attest.bin";
const PUBLIC: &[u8] = include_bytes!("../data/user-key.tpm2b_public.bin");
const ATTEST: &[u8] = include_bytes!("../data/user-key.certify.tpms_attest.bin");

/// The TPM's seed: 32 ASCII bytes, so that the test says what it is.
const SEED: [u8; 32] = *b"tpm-emu known answers: seed 0001";
/// The qualifying data given to TPM2_Certify, echoed in `extraData`.
const NONCE: [u8; 32] = *b"tpm-emu known answers: nonce 001";
/// The TPM's clock (ms) when it is provisioned, and when it certifies.
const PROVISIONED_AT: u64 = 1_000;
const CERTIFIED_AT: u64 = 5_000;

// ---- TPM2B_PUBLIC of the user key (`templates::user_key_rsa_2048`) ---------

/// `size` of the TPM2B_PUBLIC (Part 2 §12.2.5): the TPMT_PUBLIC that
/// follows is 280 bytes (2+2+4+2 header, 2+4+2+4 RSA parameters, 2+256 modulus).
const PUBLIC_SIZE: u16 = 0x0118;
/// TPMT_PUBLIC (Part 2 §12.2.4) `type` (TPMI_ALG_PUBLIC, §12.2.2):
/// TPM_ALG_RSA (Part 2 §6.3). tpm2_print: `type: value: rsa, raw: 0x1`.
const TYPE_RSA: u16 = 0x0001;
/// `nameAlg` (TPMI_ALG_HASH, §9.27): TPM_ALG_SHA256 (§6.3), the hash of
/// the key's Name. tpm2_print: `name-alg: value: sha256, raw: 0xb`.
const NAME_ALG_SHA256: u16 = 0x000B;
/// `objectAttributes` (TPMA_OBJECT, Part 2 §8.3): fixedTPM (bit 1),
/// fixedParent (bit 4), sensitiveDataOrigin (bit 5), userWithAuth (bit 6),
/// sign (bit 18); not restricted, not decrypt, not noDA (so a wrong PIN
/// counts towards lockout). tpm2_print: `attributes: value:
/// fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign, raw: 0x40072`.
const OBJECT_ATTRIBUTES: u32 = 0x0004_0072;
/// `authPolicy` (TPM2B_DIGEST, §10.4.2): size 0, no policy.
const AUTH_POLICY_SIZE: u16 = 0x0000;
/// `parameters.rsaDetail` (TPMS_RSA_PARMS, §12.2.3.5) `symmetric.algorithm`
/// (TPMT_SYM_DEF_OBJECT, §11.1.7): TPM_ALG_NULL, not a storage key, so no
/// keyBits or mode follow. tpm2_print: `sym-alg: value: null, raw: 0x10`.
const SYMMETRIC_NULL: u16 = 0x0010;
/// `scheme.scheme` (TPMT_RSA_SCHEME, §11.2.4.2): TPM_ALG_RSASSA
/// (RSASSA-PKCS1-v1_5). tpm2_print: `scheme: value: rsassa, raw: 0x14`.
const SCHEME_RSASSA: u16 = 0x0014;
/// `scheme.details.rsassa.hashAlg`: TPM_ALG_SHA256.
/// tpm2_print: `scheme-halg: value: sha256, raw: 0xb`.
const SCHEME_HASH_SHA256: u16 = 0x000B;
/// `keyBits` (TPMI_RSA_KEY_BITS): 2048. tpm2_print: `bits: 2048`.
const KEY_BITS: u16 = 0x0800;
/// `exponent`: 0, which means the default 2^16 + 1 (§12.2.3.5).
/// tpm2_print: `exponent: 65537`.
const EXPONENT_DEFAULT: u32 = 0x0000_0000;
/// `unique.rsa` (TPM2B_PUBLIC_KEY_RSA, §11.2.4.5) `size`: 256 bytes.
const MODULUS_SIZE: u16 = 0x0100;
/// The modulus' first and last four bytes, and SHA-256 of all 256 bytes:
/// tpm2_print's `rsa: b4b3937d…2fd07e39` through `xxd -r -p | sha256sum`.
const MODULUS_FIRST: [u8; 4] = [0xB4, 0xB3, 0x93, 0x7D];
const MODULUS_LAST: [u8; 4] = [0x2F, 0xD0, 0x7E, 0x39];
const MODULUS_SHA256: &str = "b2a0980f4cb6467295ff69446a9758383cd3e473df985c7f3ff462cfce5ab2e5";

// ---- TPMS_ATTEST of TPM2_Certify over that key, signed by the AIK ----------

/// `magic` (TPM_GENERATED, Part 2 §6.2): TPM_GENERATED_VALUE, 0xFF 'TCG'.
/// tpm2_print: `magic: ff544347`.
const MAGIC: u32 = 0xFF54_4347;
/// `type` (TPMI_ST_ATTEST, §10.12.10; TPM_ST, §6.9): TPM_ST_ATTEST_CERTIFY.
/// tpm2_print: `type: 8017`.
const TYPE_ATTEST_CERTIFY: u16 = 0x8017;
/// `qualifiedSigner` (TPM2B_NAME, §10.5.3): the AIK's Qualified Name,
/// nameAlg ‖ SHA-256(QN(SRK) ‖ Name(AIK)), QN(SRK) = nameAlg ‖
/// SHA-256(TPM_RH_OWNER ‖ Name(SRK)) (TPM 2.0 Part 1 §16, Names).
/// tpm2_print: `qualifiedSigner: 000ba04a…091aea` (the same hex).
const QUALIFIED_SIGNER: &str =
    "000ba04ad8d4736a6e05697b7f5974773cbb1ccddebfeb468c50d9ba1d75e8091aea";
/// `extraData` (TPM2B_DATA, §10.4.3): [`NONCE`], echoed.
/// tpm2_print: `extraData: 74706d2d656d75…303031` (the ASCII of the nonce).
const EXTRA_DATA: [u8; 32] = NONCE;
/// `clockInfo` (TPMS_CLOCK_INFO, §10.11.1) `clock`: [`CERTIFIED_AT`] ms,
/// the time the caller set. tpm2_print: `clock: 5000`.
const CLOCK: u64 = 0x0000_0000_0000_1388;
/// `resetCount` and `restartCount`: 0 on this TPM, but obfuscated because
/// the AIK is in the owner hierarchy (Part 3 §18.1): offset by
/// KDFa(shProof, "OBFUSCATE", Name(AIK), …), so only the TPM can undo it.
/// tpm2_print: `resetCount: 3031122210`, `restartCount: 4167253406`.
const RESET_COUNT: u32 = 0xB4AB_4122;
const RESTART_COUNT: u32 = 0xF863_3D9E;
/// `safe` (TPMI_YES_NO, §9.2): YES. tpm2_print: `safe: 1`.
const SAFE: u8 = 0x01;
/// `firmwareVersion` (UINT64): 0x0001_0000_0000_0000 (TPM_PT_FIRMWARE_VERSION_1
/// ‖ _2), obfuscated the same way. The file holds it big-endian, `c6 41 d3 db
/// 78 09 e9 63` at offset 0x5D; tpm2_print 5.4 prints `63e90978dbd341c6`
/// because it hex-dumps the unmarshalled integer from host (little-endian)
/// memory, while it prints `clock`, a UINT64 too, correctly as 5000.
const FIRMWARE_VERSION: u64 = 0xC641_D3DB_7809_E963;
/// `attested.certify` (TPMS_CERTIFY_INFO, §10.12.3) `name` (TPM2B_NAME):
/// nameAlg ‖ SHA-256 of the user key's TPMT_PUBLIC, i.e. of the public
/// file after its 2-byte size: `tail -c +3 user-key.tpm2b_public.bin | sha256sum`.
const CERTIFIED_NAME: &str = "000b5bd3c5403b8a332107131c2474e6bdf5b2c5ea5fed2c876083e6b8bbd803f81a";
/// `qualifiedName`: nameAlg ‖ SHA-256(QN(SRK) ‖ Name(user key)).
const CERTIFIED_QUALIFIED_NAME: &str =
    "000b8945b16243e4c5f090f8ba8a4b66693980061a8bb6d902acf56b7a120c460495";

/// What the seeded TPM returned, and the public areas the Qualified Names
/// are computed from.
struct Generated {
    public: Vec<u8>,
    attest: Vec<u8>,
    srk: TpmtPublic,
    aik: TpmtPublic,
}

/// Manufacture, provision (SRK, EK, RSA AIK), create and load a user key
/// under the SRK, certify it with the AIK. Run once for all the tests.
fn generated() -> &'static Generated {
    static GENERATED: OnceLock<Generated> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let mut client = TpmClient::new(Tpm::new(TpmSeed(SEED)));
        client.transport_mut().set_time(Millis(PROVISIONED_AT));
        let platform = client.provision().unwrap();
        let empty = AuthValue::empty();
        let srk = platform.srk.handle;
        let created = client
            .create(srk, &empty, &templates::user_key_rsa_2048(), &empty)
            .unwrap();
        let key = client
            .load(srk, &empty, &created.private, &created.public)
            .unwrap();
        client.transport_mut().set_time(Millis(CERTIFIED_AT));
        let attestation = client
            .certify(key.handle, &empty, platform.aik.handle, &empty, &NONCE)
            .unwrap();
        Generated {
            public: Tpm2bPublic(created.public).to_bytes(),
            attest: attestation.attest_bytes,
            srk: platform.srk.public,
            aik: platform.aik.public,
        }
    })
}

#[test]
fn the_files_are_what_the_seeded_tpm_returns() {
    let g = generated();
    check_or_bless(PUBLIC_FILE, PUBLIC, &g.public);
    check_or_bless(ATTEST_FILE, ATTEST, &g.attest);
}

#[test]
fn the_public_area_reads_field_by_field() {
    let mut r = Cursor::new(PUBLIC);
    assert_eq!(r.u16(), PUBLIC_SIZE, "TPM2B_PUBLIC.size");
    assert_eq!(usize::from(PUBLIC_SIZE), r.remaining());
    assert_eq!(r.u16(), TYPE_RSA, "type");
    assert_eq!(r.u16(), NAME_ALG_SHA256, "nameAlg");
    assert_eq!(r.u32(), OBJECT_ATTRIBUTES, "objectAttributes");
    assert_eq!(r.u16(), AUTH_POLICY_SIZE, "authPolicy.size");
    assert_eq!(r.u16(), SYMMETRIC_NULL, "parameters.symmetric.algorithm");
    assert_eq!(r.u16(), SCHEME_RSASSA, "parameters.scheme.scheme");
    assert_eq!(r.u16(), SCHEME_HASH_SHA256, "parameters.scheme.hashAlg");
    assert_eq!(r.u16(), KEY_BITS, "parameters.keyBits");
    assert_eq!(r.u32(), EXPONENT_DEFAULT, "parameters.exponent");
    let modulus = r.tpm2b();
    assert_eq!(modulus.len(), usize::from(MODULUS_SIZE), "unique.rsa.size");
    assert_eq!(modulus[..4], MODULUS_FIRST, "the modulus' first bytes");
    assert_eq!(modulus[modulus.len() - 4..], MODULUS_LAST, "its last bytes");
    assert_eq!(
        hex(&Sha256::digest(modulus)),
        MODULUS_SHA256,
        "SHA-256 of the modulus"
    );
    assert!(
        modulus[0] & 0x80 != 0,
        "a 2048-bit modulus has its top bit set"
    );
    r.finish();

    // The crate's own parser reads the same key.
    let parsed = Tpm2bPublic::from_bytes(PUBLIC).unwrap().0;
    assert_eq!(parsed, templates_with_modulus(modulus));
}

#[test]
fn the_attestation_reads_field_by_field() {
    let mut r = Cursor::new(ATTEST);
    assert_eq!(r.u32(), MAGIC, "magic");
    assert_eq!(r.u16(), TYPE_ATTEST_CERTIFY, "type");
    assert_eq!(hex(r.tpm2b()), QUALIFIED_SIGNER, "qualifiedSigner");
    assert_eq!(r.tpm2b(), EXTRA_DATA, "extraData");
    assert_eq!(r.u64(), CLOCK, "clockInfo.clock");
    assert_eq!(CLOCK, CERTIFIED_AT);
    assert_eq!(r.u32(), RESET_COUNT, "clockInfo.resetCount");
    assert_eq!(r.u32(), RESTART_COUNT, "clockInfo.restartCount");
    assert_eq!(r.u8(), SAFE, "clockInfo.safe");
    assert_eq!(r.u64(), FIRMWARE_VERSION, "firmwareVersion");
    assert_eq!(hex(r.tpm2b()), CERTIFIED_NAME, "attested.certify.name");
    assert_eq!(
        hex(r.tpm2b()),
        CERTIFIED_QUALIFIED_NAME,
        "attested.certify.qualifiedName"
    );
    r.finish();

    // The crate's own parser reads the same attestation.
    let parsed = TpmsAttest::from_bytes(ATTEST).unwrap();
    assert_eq!(parsed.extra_data.as_bytes(), NONCE);
    assert_eq!(parsed.clock_info.clock, CERTIFIED_AT);
    assert_eq!(parsed.firmware_version, FIRMWARE_VERSION);
}

/// The Names in the attestation follow from the public areas (TPM 2.0
/// Part 1 §16): the certified Name from the public file itself, the
/// Qualified Names from the SRK's and the AIK's public areas.
#[test]
fn the_attested_names_follow_from_the_public_areas() {
    let key_name = name(&PUBLIC[2..]);
    assert_eq!(hex(&key_name), CERTIFIED_NAME);

    let g = generated();
    let owner = TpmHandle::RH_OWNER.0.to_be_bytes();
    let srk_qn = qualified(&owner, &name(&g.srk.to_bytes()));
    let aik_qn = qualified(&srk_qn, &name(&g.aik.to_bytes()));
    assert_eq!(hex(&aik_qn), QUALIFIED_SIGNER);
    assert_eq!(
        hex(&qualified(&srk_qn, &key_name)),
        CERTIFIED_QUALIFIED_NAME
    );
}

/// The user-key template with `modulus` as its `unique` field.
fn templates_with_modulus(modulus: &[u8]) -> TpmtPublic {
    let mut t = templates::user_key_rsa_2048();
    if let tpm_emu::PublicKind::Rsa { unique, .. } = &mut t.kind {
        *unique = tpm_emu::Tpm2bPublicKeyRsa::new(modulus.to_vec()).unwrap();
    }
    t
}

/// A Name: TPM_ALG_SHA256 ‖ SHA-256(marshalled TPMT_PUBLIC).
fn name(tpmt_public: &[u8]) -> Vec<u8> {
    let mut n = NAME_ALG_SHA256.to_be_bytes().to_vec();
    n.extend_from_slice(&Sha256::digest(tpmt_public));
    n
}

/// A Qualified Name: TPM_ALG_SHA256 ‖ SHA-256(parent's QN ‖ Name).
fn qualified(parent_qn: &[u8], name: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(parent_qn);
    h.update(name);
    let mut qn = NAME_ALG_SHA256.to_be_bytes().to_vec();
    qn.extend_from_slice(&h.finalize());
    qn
}

/// Compares, or with `WHFB_BLESS` set writes `tests/data/<file>` (natively).
fn check_or_bless(file: &str, want: &[u8], got: &[u8]) {
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("WHFB_BLESS").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file);
        std::fs::write(&path, got).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    if got != want {
        let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
        panic!(
            "{file}: the TPM returned other bytes ({} bytes, the file has {}; first difference at offset {at}). \
             If that is intended, re-bless: WHFB_BLESS=1 cargo test -p tpm-emu --test tpm known_answers",
            got.len(),
            want.len()
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A big-endian reader that panics on a short buffer: the test's own, so
/// that the field layout is checked independently of the crate's parser.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }

    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }

    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }

    /// A TPM2B: a 16-bit size, then that many bytes.
    fn tpm2b(&mut self) -> &'a [u8] {
        let n = self.u16();
        self.take(usize::from(n))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn finish(&self) {
        assert_eq!(self.remaining(), 0, "bytes left over after the last field");
    }
}
