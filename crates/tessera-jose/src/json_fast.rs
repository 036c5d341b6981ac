//! The fast path of [`crate::json::scan_object`]: a hand-written scanner for the JSON that
//! tokens actually carry (strings without escapes, integers, `true`/`false`/`null`).
//!
//! It only ever answers "valid, and these are the members", and only on input that
//! `serde_json` accepts with the same members and values. On anything else (an escape, a
//! fraction or an exponent, a duplicate name, nesting too deep, a syntax error) it gives up
//! and the `serde_json` scan decides, so every rejection, and which one comes first, stays
//! exactly what the `serde_json` path says.

use std::borrow::Cow;

use crate::json::{Capture, Shape};
use crate::member_names::Names;

/// Past this depth the fast path gives up, well inside `serde_json`'s recursion limit (128),
/// which would otherwise turn a deep but allowed document into an error.
pub(crate) const MAX_FAST_DEPTH: usize = 64;

/// Longest integer handled here: 18 digits never overflow `u64` nor, negated, `i64`.
const MAX_DIGITS: usize = 18;

/// `Some` when `bytes` is a JSON object within `max_depth`, without duplicate names, made
/// only of the values this scanner knows; `capture` has then seen every top-level member.
/// `None` means "ask `serde_json`", not "invalid"; `capture` is then in an unknown state.
/// Returns the input as text.
pub(crate) fn scan<'de, C: Capture<'de>>(bytes: &'de [u8], max_depth: usize, capture: &mut C) -> Option<&'de str> {
    // Validating the whole input once makes every string in it valid UTF-8: strings are cut
    // at ASCII quotes, which never fall inside a multi-byte character.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut cursor = Cursor::new(text);
    cursor.skip_whitespace();
    if cursor.peek()? != b'{' {
        return None;
    }
    cursor.object(max_depth.min(MAX_FAST_DEPTH), Some(capture))?;
    cursor.skip_whitespace();
    (cursor.pos == bytes.len()).then_some(text)
}

/// A position in a document that is valid UTF-8 throughout; shared with
/// [`crate::claims_pass`], which deserializes through it.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'de> {
    text: &'de str,
    bytes: &'de [u8],
    pub(crate) pos: usize,
}

impl<'de> Cursor<'de> {
    /// A cursor at the start of `text`.
    pub(crate) fn new(text: &'de str) -> Self {
        Cursor { text, bytes: text.as_bytes(), pos: 0 }
    }

    /// Whether the whole document has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    pub(crate) fn eat(&mut self, expected: u8) -> bool {
        let found = self.peek() == Some(expected);
        self.pos += usize::from(found);
        found
    }

    /// The whitespace `serde_json` skips (RFC 8259 §2).
    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// An object, at `{`: `depth` levels are still allowed, this one included.
    pub(crate) fn object<C: Capture<'de>>(&mut self, depth: usize, mut capture: Option<&mut C>) -> Option<()> {
        let inner = depth.checked_sub(1)?;
        self.pos += 1;
        self.skip_whitespace();
        if self.eat(b'}') {
            return Some(());
        }
        let mut names = Names::new();
        loop {
            let name = self.string()?;
            if names.contains(name) {
                return None;
            }
            self.skip_whitespace();
            if !self.eat(b':') {
                return None;
            }
            self.skip_whitespace();
            let keep = capture.as_ref().is_some_and(|capture| capture.keeps(name));
            let value = self.value(inner, keep)?;
            if let Some(capture) = capture.as_deref_mut() {
                capture.member(name, value);
            }
            names.insert(Cow::Borrowed(name));
            self.skip_whitespace();
            match self.next()? {
                b',' => self.skip_whitespace(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array, at `[`.
    fn array(&mut self, depth: usize, keep: bool) -> Option<Shape<'de>> {
        let inner = depth.checked_sub(1)?;
        self.pos += 1;
        self.skip_whitespace();
        let mut kept = Vec::new();
        if !self.eat(b']') {
            loop {
                let item = self.value(inner, keep)?;
                if keep {
                    kept.push(match item {
                        Shape::Str(s) => Some(s),
                        _ => None,
                    });
                }
                self.skip_whitespace();
                match self.next()? {
                    b',' => self.skip_whitespace(),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        Some(if keep { Shape::Array(kept) } else { Shape::Other })
    }

    /// Any value; `keep` asks for its content, as in the `serde_json` scan.
    pub(crate) fn value(&mut self, depth: usize, keep: bool) -> Option<Shape<'de>> {
        let kept = |shape| if keep { shape } else { Shape::Other };
        match self.peek()? {
            b'"' => self.string().map(|s| kept(Shape::Str(Cow::Borrowed(s)))),
            b'{' => self.object::<()>(depth, None).map(|()| Shape::Object),
            b'[' => self.array(depth, keep),
            b't' => self.literal("true").then(|| kept(Shape::Bool(true))),
            b'f' => self.literal("false").then(|| kept(Shape::Bool(false))),
            b'n' => self.literal("null").then_some(Shape::Null),
            b'-' | b'0'..=b'9' => self.integer().map(kept),
            _ => None,
        }
    }

    pub(crate) fn literal(&mut self, word: &str) -> bool {
        let found = self.bytes[self.pos..].starts_with(word.as_bytes());
        self.pos += if found { word.len() } else { 0 };
        found
    }

    /// A string without escapes or control characters, at `"`.
    pub(crate) fn string(&mut self) -> Option<&'de str> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        let end = start + special_byte(&self.bytes[start..])?;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        self.text.get(start..end)
    }

    /// An integer of at most [`MAX_DIGITS`] digits, read as `serde_json` reads it: `UInt`
    /// when non-negative, `Int` when negative (`-0`, a float to `serde_json`, is left to it).
    pub(crate) fn integer(&mut self) -> Option<Shape<'de>> {
        let negative = self.eat(b'-');
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        let leading_zero = digits.len() > 1 && digits[0] == b'0';
        if digits.is_empty() || digits.len() > MAX_DIGITS || leading_zero {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        let value = digits.iter().fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        match (negative, i64::try_from(value)) {
            (false, _) => Some(Shape::UInt(value)),
            (true, Ok(magnitude)) if magnitude != 0 => Some(Shape::Int(-magnitude)),
            (true, _) => None,
        }
    }
}

/// The index of the first `"`, `\\` or control character in `bytes`, eight bytes at a time
/// (the classic "has a zero byte" test, run for each of the three conditions).
fn special_byte(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let is_special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // A byte's high bit is flagged when it is zero (quote, backslash) or below 0x20
        // (control). A borrow can only flag bytes above a true match, never below one, so
        // the lowest flag is the first special byte.
        let flagged = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if flagged != 0 {
            return Some(offset + (flagged.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(is_special).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn special_byte_finds_the_first_one(bytes in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x00, b'!', b']', b'#']),
            0..40,
        )) {
            let expected = bytes.iter().position(|b| *b == b'"' || *b == b'\\' || *b < 0x20);
            proptest::prop_assert_eq!(special_byte(&bytes), expected);
        }
    }
}
