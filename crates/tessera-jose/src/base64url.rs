//! Canonical unpadded base64url (RFC 7515 §2, RFC 4648 §5).
//!
//! Decoding is strict: no padding, no characters outside the URL-safe alphabet, no
//! whitespace and no non-zero trailing bits, so that every value has exactly one encoding.
//!
//! `base64-simd` does the work: every token decodes its payload and signature, and its
//! vectorised decoder takes a quarter of the time of a scalar one (~45 ns against ~150 ns
//! for an access token's 332-character payload). Its strictness is checked here against the
//! `base64` crate's strict engine (see the tests).

use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub fn encode_into(bytes: impl AsRef<[u8]>, out: &mut String) {
    URL_SAFE_NO_PAD.encode_append(bytes, out);
}

/// Decodes canonical unpadded base64url; `None` on any deviation.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode_to_vec(text).ok()
}

/// Decodes like [`decode`] (same rules, same answers), into `stack` when the result fits
/// there and into `heap` otherwise, so that short segments cost no allocation. `stack` may
/// be uninitialised: only what is decoded is ever read.
pub(crate) fn decode_with<'b>(text: &str, stack: &'b mut [MaybeUninit<u8>], heap: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    // The exact length, from the text's length alone; an impossible length is refused here.
    let len = URL_SAFE_NO_PAD.decoded_length(text.as_bytes()).ok()?;
    if let Some(room) = stack.get_mut(..len) {
        return URL_SAFE_NO_PAD.decode(text.as_bytes(), Out::from_uninit_slice(room)).ok().map(|bytes| &*bytes);
    }
    *heap = decode(text)?;
    Some(heap)
}

/// An uninitialised buffer for [`decode_with`].
pub(crate) const fn stack<const N: usize>() -> [MaybeUninit<u8>; N] {
    [MaybeUninit::uninit(); N]
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

    use super::*;

    /// The `base64` crate's strictest URL-safe engine: the reference.
    const REFERENCE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(false),
    );

    #[test]
    fn round_trips_and_rejects_non_canonical_forms() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").as_deref(), Some(&b"\xfb\xff"[..]));
        assert_eq!(decode("-_8="), None, "padding");
        assert_eq!(decode("+/8"), None, "standard alphabet");
        assert_eq!(decode("-_9"), None, "non-zero trailing bits");
        assert_eq!(decode("-_ 8"), None, "whitespace");
        assert_eq!(decode("A"), None, "impossible length");
        assert_eq!(decode("").as_deref(), Some(&b""[..]));
        let mut out = String::from("x.");
        encode_into(b"\xfb\xff", &mut out);
        assert_eq!(out, "x.-_8");
    }

    #[test]
    fn decoding_on_the_stack_or_the_heap_agrees_with_decode() {
        let long = encode([7u8; 40]);
        for text in ["-_8", "-_8=", "+/8", "-_9", "-_ 8", "A", "", "AAAA", "AAA", "AA", &long] {
            for size in [0, 2, 3, 8, 64] {
                let (mut stack, mut heap) = (vec![MaybeUninit::uninit(); size], Vec::new());
                assert_eq!(decode_with(text, &mut stack, &mut heap), decode(text).as_deref(), "{text:?} in {size}");
            }
        }
    }

    proptest::proptest! {
        /// Any text over an alphabet that mixes both base64 alphabets, padding, whitespace
        /// and the JWS separator: decoded exactly when the reference decodes it, to the same
        /// bytes, at every length (the SIMD decoder takes other paths for long inputs).
        #[test]
        fn decodes_exactly_what_the_reference_decodes(
            chars in proptest::collection::vec(proptest::sample::select(
                b"AQgw_-89azBCDhijklmnopqrstuvwxyz+/=. \n\x00\xff".to_vec()), 0..200),
        ) {
            let text = String::from_utf8_lossy(&chars);
            let ours = decode(&text);
            proptest::prop_assert_eq!(&ours, &REFERENCE.decode(text.as_bytes()).ok());
            let mut stack = stack::<64>();
            let mut heap = Vec::new();
            proptest::prop_assert_eq!(decode_with(&text, &mut stack, &mut heap), ours.as_deref());
        }

        /// Valid encodings of random bytes, with one character replaced: the same answer as
        /// the reference (mostly rejections at every position, and the trailing-bits rule).
        #[test]
        fn one_character_changed(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300), at in 0usize..400, with in 0u8..128) {
            let mut text = encode(&bytes).into_bytes();
            proptest::prop_assert_eq!(decode(std::str::from_utf8(&text).unwrap()), Some(bytes.clone()));
            proptest::prop_assert_eq!(encode(&bytes), REFERENCE.encode(&bytes));
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = with;
                let text = String::from_utf8(text).unwrap();
                proptest::prop_assert_eq!(decode(&text), REFERENCE.decode(text.as_bytes()).ok());
            }
        }
    }
}
