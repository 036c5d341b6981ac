//! The issue-2 targets, measured so that a noisy, shared machine cannot decide them: the
//! compared paths run in alternation, a short batch each, many rounds, and each round gives
//! one ratio from batches that ran within a millisecond of each other. The median of those
//! paired ratios is reported beside the median time of each path.
//!
//! Run with `cargo bench -p tessera-jose --bench targets` (about a minute after the build).
//! Targets: `validate` at most 10% above the raw aws-lc-rs check for ES256, EdDSA and RS256;
//! HS256 `validate` at least twice as fast as the `jsonwebtoken` crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods, missing_docs)]

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{AccessClaims, Case, case, now, other};
use tessera_jose::Algorithm;

/// Rounds per algorithm; each round runs every path once.
const ROUNDS: usize = 301;
/// The length of one batch.
const BATCH: Duration = Duration::from_micros(300);

/// The median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Nanoseconds per call of `f`, over one batch of `iterations`.
fn batch(iterations: u64, f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// One way of checking the token, run in a loop.
type Path<'a> = Box<dyn FnMut() + 'a>;

/// The compared paths of one case: raw check, `Validator`, `jsonwebtoken`.
fn paths(case: &Case, now: i64) -> [Path<'_>; 3] {
    [
        Box::new(|| assert!(case.raw.verify(black_box(&case.signing_input), black_box(&case.signature)))),
        Box::new(move || {
            drop(black_box(case.validator.validate::<AccessClaims>(black_box(&case.token), now).unwrap()))
        }),
        Box::new(|| {
            drop(black_box(
                other::decode::<AccessClaims>(black_box(&case.token), &case.other_key, &case.other_validation).unwrap(),
            ))
        }),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter (as for criterion) picks algorithms.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    println!(
        "{:<6} {:>12} {:>12} {:>12} {:>16} {:>18}",
        "alg", "raw ns", "validate ns", "jwt ns", "validate / raw", "jwt / validate"
    );
    for alg in [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256] {
        if !filter.is_empty() && !filter.iter().any(|f| alg.name().contains(f.as_str())) {
            continue;
        }
        let case = case(alg);
        let mut paths = paths(&case, now());
        // Iterations per batch, from a first estimate of each path's cost.
        let iterations: Vec<u64> = paths
            .iter_mut()
            .map(|f| {
                let estimate = batch(200, f.as_mut()).max(1.0);
                (BATCH.as_nanos() as f64 / estimate).ceil() as u64
            })
            .collect();
        let mut times = vec![Vec::with_capacity(ROUNDS); paths.len()];
        for round in 0..ROUNDS + 20 {
            // A different path goes first each round, so that no path always follows another.
            for k in 0..paths.len() {
                let i = (round + k) % paths.len();
                let per_call = batch(iterations[i], paths[i].as_mut());
                // The first rounds warm caches and frequencies up and are not kept.
                if round >= 20 {
                    times[i].push(per_call);
                }
            }
        }
        let overhead: Vec<f64> = times[1].iter().zip(&times[0]).map(|(v, r)| v / r - 1.0).collect();
        let speedup: Vec<f64> = times[2].iter().zip(&times[1]).map(|(j, v)| j / v).collect();
        let [raw, validate, jwt] = [0, 1, 2].map(|i| median(&mut times[i].clone()));
        println!(
            "{:<6} {raw:>12.1} {validate:>12.1} {jwt:>12.1} {:>15.1}% {:>17.2}x",
            alg.name(),
            100.0 * median(&mut overhead.clone()),
            median(&mut speedup.clone())
        );
    }
}
