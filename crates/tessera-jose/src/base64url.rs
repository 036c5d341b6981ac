//! Canonical unpadded base64url (RFC 7515 §2, RFC 4648 §5).
//!
//! Decoding is strict: no padding, no characters outside the URL-safe alphabet, no
//! whitespace and no non-zero trailing bits, so that every value has exactly one encoding.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub fn encode_into(bytes: impl AsRef<[u8]>, out: &mut String) {
    ENGINE.encode_string(bytes, out);
}

/// Decodes canonical unpadded base64url; `None` on any deviation.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    ENGINE.decode(text).ok()
}

/// Decodes like [`decode`] (same rules, same answers), into `stack` when the result surely
/// fits there and into `heap` otherwise, so that short segments cost no allocation.
pub(crate) fn decode_with<'b>(text: &str, stack: &'b mut [u8], heap: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    // The engine's own bound: it refuses a slice shorter than this even if the data is shorter.
    if text.len().div_ceil(4) * 3 <= stack.len() {
        let written = ENGINE.decode_slice(text, stack).ok()?;
        return stack.get(..written);
    }
    *heap = decode(text)?;
    Some(heap)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn decoding_on_the_stack_or_the_heap_agrees_with_decode() {
        let long = encode([7u8; 40]);
        for text in ["-_8", "-_8=", "+/8", "-_9", "-_ 8", "A", "", "AAAA", "AAA", "AA", &long] {
            for size in [0, 2, 3, 8, 64] {
                let (mut stack, mut heap) = (vec![0u8; size], Vec::new());
                assert_eq!(decode_with(text, &mut stack, &mut heap), decode(text).as_deref(), "{text:?} in {size}");
            }
        }
    }
}
