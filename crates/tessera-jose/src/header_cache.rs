//! A small cache of checked headers, keyed by the exact header segment of the token.
//!
//! Tokens from one issuer and key carry the very same header segment, so decoding it,
//! scanning it strictly and checking it again for every token is repeated work. The result
//! of those steps depends only on the segment's text and on the verifier's policy
//! (allowlist and depth limit, fixed for the cache's lifetime), so a cached answer is
//! always the answer the checks would give: the cache cannot be poisoned. Only headers of
//! tokens whose signature verified are stored, so that filling it takes valid tokens, and
//! the signature is still checked on every token.
//!
//! Readers never write shared memory (each slot is a [`OnceLock`], read with one acquire
//! load), so many threads validating at once do not contend on it. Slots are filled once and
//! never evicted: when all are taken, further headers are simply checked every time, which
//! costs speed, never correctness. A fresh cache comes with every new key set
//! ([`crate::JwsVerifier::with_keys`]), which is when the headers in use change.

use std::fmt;
use std::sync::OnceLock;

use crate::header::Header;

/// How many distinct headers are kept: one per signing key and `typ` in use is typical.
const SLOTS: usize = 8;

/// Longer header segments are not kept: real headers are about 100 bytes, and this bounds
/// the memory held to a few KiB.
const MAX_SEGMENT: usize = 512;

/// Checked headers by their encoded segment; see the module documentation.
#[derive(Default)]
pub(crate) struct HeaderCache {
    slots: [OnceLock<(Box<str>, Header)>; SLOTS],
}

impl HeaderCache {
    /// The checked header for exactly this segment, if it is cached.
    pub(crate) fn get(&self, segment: &str) -> Option<&Header> {
        for slot in &self.slots {
            match slot.get() {
                Some((seen, header)) if **seen == *segment => return Some(header),
                Some(_) => {}
                // Slots are filled in order, so the first empty one ends the search.
                None => return None,
            }
        }
        None
    }

    /// Remembers that `segment` decodes and checks to `header` (in a token that verified).
    pub(crate) fn insert(&self, segment: &str, header: &Header) {
        if segment.len() > MAX_SEGMENT {
            return;
        }
        for slot in &self.slots {
            // Another thread may fill this slot first; then try the next one.
            let (seen, _) = slot.get_or_init(|| (segment.into(), header.clone()));
            if **seen == *segment {
                return;
            }
        }
    }
}

impl fmt::Debug for HeaderCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self.slots.iter().filter(|slot| slot.get().is_some()).count();
        write!(f, "HeaderCache({used}/{SLOTS})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;

    fn header(kid: &str) -> Header {
        Header { alg: Algorithm::ES256, kid: Some(kid.into()), typ: None, cty: None }
    }

    #[test]
    fn keeps_exact_segments_until_full() {
        let cache = HeaderCache::default();
        assert_eq!(cache.get("a"), None);
        cache.insert("a", &header("1"));
        cache.insert("a", &header("1"));
        assert_eq!(cache.get("a"), Some(&header("1")));
        assert_eq!(cache.get("a "), None);
        assert_eq!(cache.get("A"), None);
        for i in 0..2 * SLOTS {
            cache.insert(&format!("s{i}"), &header(&i.to_string()));
        }
        // The first SLOTS - 1 newcomers fit beside "a"; later ones are not kept.
        assert_eq!(cache.get("s0"), Some(&header("0")));
        assert_eq!(cache.get(&format!("s{}", SLOTS - 2)), Some(&header(&(SLOTS - 2).to_string())));
        assert_eq!(cache.get(&format!("s{}", SLOTS - 1)), None);
        cache.insert(&"x".repeat(MAX_SEGMENT + 1), &header("long"));
        assert_eq!(format!("{cache:?}"), format!("HeaderCache({SLOTS}/{SLOTS})"));
    }
}
