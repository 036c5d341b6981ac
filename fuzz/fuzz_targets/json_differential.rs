//! A differential target: the JSON fast paths of tessera-jose against `serde_json`, for
//! arbitrary payload bytes. `parse_json_object` and the claims path of `Validator::validate`
//! must give the answer of a reference made of `serde_json` plus the documented rules (an
//! object at the top, no duplicate member names, at most 16 nested containers, the RFC 7519
//! registered-claim checks), or the same refusal; and the one-pass typed claims deserializer
//! must agree with `validate::<Value>` then `serde_json::from_value` for several claims types.
//!
//! The comparisons are in `crates/tessera-jose/tests/json_reference/mod.rs`, shared with the
//! stable property test `tests/json_differential.rs`, so a finding here can be replayed there.
#![no_main]

#[path = "../../crates/tessera-jose/tests/json_reference/mod.rs"]
mod json_reference;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    json_reference::check(data);
});
