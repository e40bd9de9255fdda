//! The mutator of the fuzz tests (core/tests/fuzz.rs, the link parser's in
//! the app): seeded, so the same target gets the same inputs on every
//! machine, and structure-aware for DER and for the little-endian counts
//! of the Microsoft blobs. Only tests use it: the `fuzz` feature is on for
//! the crates' dev-dependencies, never in the page's build.

/// A small seeded generator (SplitMix64): the same seed, the same inputs.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator seeded from a target's name (FNV-1a of it): every
    /// target its own stream, the same on every run.
    pub fn for_name(name: &str) -> Rng {
        Rng(name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        }))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// Edge values for a byte: zero, all ones, the sign bits, DER's long-form
/// and indefinite length markers.
const INTERESTING: [u8; 10] = [0x00, 0xFF, 0x7F, 0x80, 0x81, 0x82, 0x84, 0x01, 0x30, 0xA0];
/// What text parsers split on or escape.
pub const TEXT_BYTES: &[u8] = b".:;/=&?%#{}[]\",\\ \n\t\0-_+BE";

/// The positions of DER headers in `bytes`: each (tag offset, length
/// offset), found by walking nested TLVs as far as they are well formed.
pub fn der_headers(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut stack = vec![(0usize, bytes.len())];
    while let Some((mut at, end)) = stack.pop() {
        while at + 2 <= end && out.len() < 4096 {
            let tag = bytes[at];
            let first = bytes[at + 1] as usize;
            let (len, header) = if first < 0x80 {
                (first, 2)
            } else {
                let n = first & 0x7F;
                if n == 0 || n > 4 || at + 2 + n > end {
                    break;
                }
                let len = bytes[at + 2..at + 2 + n]
                    .iter()
                    .fold(0usize, |a, b| a << 8 | *b as usize);
                (len, 2 + n)
            };
            if at + header + len > end {
                break;
            }
            out.push((at, at + 1));
            if tag & 0x20 != 0 {
                stack.push((at + header, at + header + len));
            }
            at += header + len;
        }
    }
    out
}

/// One mutant of `seed`: one to four mutations stacked.
pub fn mutate(rng: &mut Rng, seed: &[u8], seeds: &[Vec<u8>], text: bool) -> Vec<u8> {
    let mut data = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = data.len();
        match rng.below(if text { 9 } else { 12 }) {
            // Flip one bit.
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            // Set a byte to an edge value (a separator, for text).
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = if text {
                    TEXT_BYTES[rng.below(TEXT_BYTES.len())]
                } else {
                    INTERESTING[rng.below(INTERESTING.len())]
                };
            }
            // Insert a few bytes.
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n)
                    .map(|_| {
                        if text {
                            TEXT_BYTES[rng.below(TEXT_BYTES.len())]
                        } else {
                            rng.byte()
                        }
                    })
                    .collect();
                data.splice(i..i, bytes);
            }
            // Delete a range.
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            // Repeat a range (counts and lists grow).
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let piece = data[i..i + n].to_vec();
                for _ in 0..1 + rng.below(8) {
                    data.splice(i..i, piece.iter().copied());
                }
            }
            // Cut short.
            5 if len > 0 => data.truncate(rng.below(len)),
            // Splice another seed's tail.
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                let i = rng.below(len + 1);
                let j = rng.below(other.len() + 1);
                data.truncate(i);
                data.extend_from_slice(&other[j..]);
            }
            // Overwrite a little-endian 32-bit count or length with an
            // edge value (BCRYPT and KEYCREDENTIALLINK lengths, TPM sizes).
            7 if len >= 4 => {
                let i = rng.below(len - 3);
                let v: u32 =
                    [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000, len as u32 + 1][rng.below(6)];
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                data[i..i + 4].copy_from_slice(&bytes);
            }
            // A long run of one byte.
            8 => {
                let i = rng.below(len + 1);
                let b = if text {
                    TEXT_BYTES[rng.below(TEXT_BYTES.len())]
                } else {
                    rng.byte()
                };
                data.splice(i..i, std::iter::repeat_n(b, 1 + rng.below(4096)));
            }
            // DER: a header's length made huge, indefinite or non-minimal.
            9 => {
                let headers = der_headers(&data);
                if let Some(&(_, l)) = headers.get(rng.below(headers.len().max(1))) {
                    let forms: [&[u8]; 5] = [
                        &[0x84, 0xFF, 0xFF, 0xFF, 0xFF],
                        &[0x80],
                        &[0x81, 0x01],
                        &[0x88, 0, 0, 0, 1, 0, 0, 0, 0],
                        &[0x82, 0x00, 0x05],
                    ];
                    let form = forms[rng.below(forms.len())];
                    let first = data[l];
                    let old = if first < 0x80 {
                        1
                    } else {
                        1 + (first & 0x7F) as usize
                    };
                    let end = (l + old).min(data.len());
                    data.splice(l..end, form.iter().copied());
                }
            }
            // DER: a tag changed.
            10 => {
                let headers = der_headers(&data);
                if let Some(&(t, _)) = headers.get(rng.below(headers.len().max(1))) {
                    data[t] = INTERESTING[rng.below(INTERESTING.len())] ^ rng.byte() & 0x3F;
                }
            }
            // DER: nested deeply in SEQUENCEs of indefinite or exact length.
            _ => {
                let depth = 1 + rng.below(2000);
                let mut nested = Vec::with_capacity(data.len() + depth * 6);
                for _ in 0..depth {
                    nested.extend_from_slice(&[0x30, 0x80]);
                }
                nested.extend_from_slice(&data);
                data = nested;
            }
        }
        // Keep inputs within what a paste could reasonably hold.
        data.truncate(1 << 20);
    }
    data
}
