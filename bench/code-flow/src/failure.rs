//! What went wrong in one step, counted by step and kind; the detail is kept for a few
//! samples printed at the end.

/// A failed step.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The step: `authorize`, `token`, `page`, `login`, …
    pub step: &'static str,
    /// What kind of failure: `status`, `transport`, `timeout`, or the check that failed.
    pub kind: &'static str,
    /// Details for a person (a status and the start of the body, an error message).
    pub detail: String,
}

impl Failure {
    /// A failure of `step`.
    pub fn new(step: &'static str, kind: &'static str, detail: impl Into<String>) -> Failure {
        Failure { step, kind, detail: detail.into() }
    }

    /// An unexpected status, with the start of the body.
    pub fn status(step: &'static str, expected: u16, response: &crate::http::Response) -> Failure {
        let body: String = response.text().chars().take(300).collect();
        Failure::new(step, "status", format!("expected {expected}, got {}: {body}", response.status))
    }

    /// The counter key: `step.kind`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.step, self.kind)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.step, self.kind, self.detail)
    }
}
