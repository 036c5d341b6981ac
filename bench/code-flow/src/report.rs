//! What a run measured: latencies (microseconds, nearest-rank percentiles) and failures by
//! kind, as one JSON line.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::failure::Failure;

/// Failure details kept for the end of the run, per worker.
const SAMPLES: usize = 3;

/// One worker's (and then the whole run's) record.
#[derive(Default)]
pub struct Record {
    /// Whole units (a flow, a render, a visit), µs.
    pub total: Vec<u32>,
    /// Per step, µs (for the flow: `authorize` and `token`).
    pub steps: BTreeMap<&'static str, Vec<u32>>,
    /// Failures by `step.kind`.
    pub failures: BTreeMap<String, u64>,
    /// The first few failures in full.
    pub samples: Vec<Failure>,
    /// Flows whose tokens were fully verified (`verify.rs`).
    pub verified: u64,
    /// CPU time used during the measurement.
    pub cpu: crate::cpu::CpuUse,
}

impl Record {
    /// Counts `failure`.
    pub fn fail(&mut self, failure: Failure) {
        *self.failures.entry(failure.key()).or_default() += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(failure);
        }
    }

    /// Adds `other` to this one.
    pub fn merge(&mut self, other: Record) {
        self.total.extend(other.total);
        for (step, values) in other.steps {
            self.steps.entry(step).or_default().extend(values);
        }
        for (key, count) in other.failures {
            *self.failures.entry(key).or_default() += count;
        }
        self.samples.extend(other.samples);
        self.verified += other.verified;
    }

    /// How many failed.
    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// The summary line: `unit` done per second over `seconds`, with percentiles.
    pub fn summary(mut self, mode: &str, unit: &str, concurrency: usize, seconds: f64) -> Value {
        let mut line = json!({
            "mode": mode,
            "unit": unit,
            "concurrency": concurrency,
            "seconds": round(seconds, 3),
            "count": self.total.len(),
            "per_s": round(self.total.len() as f64 / seconds, 1),
        });
        let totals = percentiles(&mut self.total);
        let steps: serde_json::Map<String, Value> =
            self.steps.iter_mut().map(|(step, values)| ((*step).to_owned(), percentiles(values))).collect();
        if let (Some(line), Value::Object(totals)) = (line.as_object_mut(), totals) {
            line.extend(totals);
            line.insert("steps".into(), Value::Object(steps));
            line.insert("verified".into(), json!(self.verified));
            line.insert("generator_cpu_s".into(), json!(round(self.cpu.generator, 2)));
            if let Some(server) = self.cpu.server {
                line.insert("server_cpu_s".into(), json!(round(server, 2)));
            }
            line.insert("machine_cpu_s".into(), json!(round(self.cpu.machine, 2)));
            line.insert("failures".into(), json!(self.failed()));
            line.insert("failure_kinds".into(), json!(self.failures));
        }
        line
    }
}

/// p50, p90, p99 and max in milliseconds (nearest rank).
fn percentiles(values: &mut [u32]) -> Value {
    values.sort_unstable();
    let at = |p: f64| -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
        f64::from(values[rank - 1]) / 1000.0
    };
    json!({
        "p50_ms": round(at(0.50), 2), "p90_ms": round(at(0.90), 2),
        "p99_ms": round(at(0.99), 2), "max_ms": round(at(1.0), 2),
    })
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// Microseconds of `duration`, saturating.
pub fn micros(duration: std::time::Duration) -> u32 {
    u32::try_from(duration.as_micros()).unwrap_or(u32::MAX)
}
