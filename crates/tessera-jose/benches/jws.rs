//! Per-algorithm cost of signing and verifying one realistic access token, beside the raw
//! aws-lc-rs signature check and beside the `jsonwebtoken` crate on the same token.
//!
//! Results read as `ES256/sign`, `ES256/raw_verify`, `ES256/jws_verify`, `ES256/validate`,
//! `ES256/jsonwebtoken`. Run with `cargo bench -p tessera-jose --bench jws -- --noplot`;
//! the numbers live in docs/BENCHMARKS.md. The targets are measured by the `targets`
//! bench, which interleaves the compared paths so that a noisy machine affects both alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods, missing_docs)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{AccessClaims, case, now, other};
use criterion::{Criterion, criterion_group, criterion_main};
use tessera_jose::Algorithm;

fn bench(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        let case = case(alg);
        let now = now();
        let mut group = c.benchmark_group(case.alg.name());
        group.bench_function("sign", |b| b.iter(|| case.key.sign_jwt(Some("at+jwt"), black_box(&case.claims))));
        group.bench_function("raw_verify", |b| {
            b.iter(|| assert!(case.raw.verify(black_box(&case.signing_input), black_box(&case.signature))))
        });
        group.bench_function("jws_verify", |b| b.iter(|| case.jws.verify(black_box(&case.token)).unwrap()));
        group.bench_function("validate", |b| {
            b.iter(|| case.validator.validate::<AccessClaims>(black_box(&case.token), now).unwrap())
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                other::decode::<AccessClaims>(black_box(&case.token), &case.other_key, &case.other_validation).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
