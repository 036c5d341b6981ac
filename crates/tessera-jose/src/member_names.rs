//! The member names of one JSON object, for the duplicate check: compared linearly while
//! there are few (no allocation for the usual token), in a hash set beyond that, so that
//! an object with thousands of members costs linear time, not quadratic.

use std::borrow::Cow;
use std::collections::HashSet;

/// Up to this many member names are compared linearly; past it they move to a hash set.
const LINEAR_NAMES: usize = 16;

/// The member names of one object seen so far.
pub(crate) struct Names<'de> {
    /// Names without escapes, borrowed from the input: the common case costs no allocation.
    borrowed: [&'de str; LINEAR_NAMES],
    /// [`fingerprint`] of each borrowed name, compared first: most names differ there.
    fingerprints: [u64; LINEAR_NAMES],
    len: usize,
    /// Names that had escapes, decoded.
    decoded: Vec<String>,
    // SipHash with random keys: member names come from the token, so they must not be able
    // to choose collisions.
    spilled: Option<HashSet<Cow<'de, str>>>,
}

/// The length and first seven bytes of a name: equal names have equal fingerprints.
fn fingerprint(name: &str) -> u64 {
    let mut word = [0u8; 8];
    for (to, from) in word.iter_mut().zip(name.as_bytes().iter().take(7)) {
        *to = *from;
    }
    // Truncated for names of 256 bytes and more, which only makes the filter weaker.
    word[7] = name.len() as u8;
    u64::from_le_bytes(word)
}

impl<'de> Names<'de> {
    pub(crate) fn new() -> Self {
        Names {
            borrowed: [""; LINEAR_NAMES],
            fingerprints: [0; LINEAR_NAMES],
            len: 0,
            decoded: Vec::new(),
            spilled: None,
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        if let Some(set) = &self.spilled {
            return set.contains(name);
        }
        let print = fingerprint(name);
        let borrowed =
            self.fingerprints[..self.len].iter().zip(&self.borrowed).any(|(p, seen)| *p == print && *seen == name);
        borrowed || self.decoded.iter().any(|seen| seen == name)
    }

    /// Inserts `name` unless it is already there; whether it was new. One fingerprint for
    /// both steps, where [`Self::contains`] then [`Self::insert`] compute it twice.
    pub(crate) fn insert_new(&mut self, name: Cow<'de, str>) -> bool {
        if self.spilled.is_some() || !self.decoded.is_empty() || self.len == LINEAR_NAMES {
            if self.contains(&name) {
                return false;
            }
            self.insert(name);
            return true;
        }
        let print = fingerprint(&name);
        if self.fingerprints[..self.len].iter().zip(&self.borrowed).any(|(p, seen)| *p == print && *seen == name) {
            return false;
        }
        match name {
            Cow::Borrowed(name) => {
                self.borrowed[self.len] = name;
                self.fingerprints[self.len] = print;
                self.len += 1;
            }
            Cow::Owned(_) => self.insert(name),
        }
        true
    }

    pub(crate) fn insert(&mut self, name: Cow<'de, str>) {
        if let Some(set) = &mut self.spilled {
            set.insert(name);
        } else if self.len + self.decoded.len() < LINEAR_NAMES {
            match name {
                Cow::Borrowed(name) => {
                    self.borrowed[self.len] = name;
                    self.fingerprints[self.len] = fingerprint(name);
                    self.len += 1;
                }
                Cow::Owned(name) => self.decoded.push(name),
            }
        } else {
            let mut set: HashSet<Cow<'de, str>> = HashSet::with_capacity(4 * LINEAR_NAMES);
            set.extend(self.borrowed[..self.len].iter().map(|name| Cow::Borrowed(*name)));
            set.extend(self.decoded.drain(..).map(Cow::Owned));
            set.insert(name);
            self.spilled = Some(set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `insert_new` answers as `contains` then `insert` would, below and past the spill.
        #[test]
        fn insert_new_agrees_with_contains(names in proptest::collection::vec((0u8..40, proptest::bool::ANY), 0..60)) {
            let owned: Vec<String> = names.iter().map(|(n, _)| format!("n{n}")).collect();
            let (mut one, mut two) = (Names::new(), Names::new());
            for ((_, escaped), name) in names.iter().zip(&owned) {
                let cow = if *escaped { Cow::Owned(name.clone()) } else { Cow::Borrowed(name.as_str()) };
                let new = !two.contains(name);
                if new {
                    two.insert(cow.clone());
                }
                proptest::prop_assert_eq!(one.insert_new(cow), new, "{}", name);
            }
        }
    }
}
