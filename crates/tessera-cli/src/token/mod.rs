//! `tessera token`: an offline JWT tool — generate keys, sign, decode, verify.
//!
//! Each command is a function from its parsed arguments and `now` (seconds since the
//! epoch, read once in `main`) to an [`Output`], so that it can be tested without a clock.

mod decode;
mod input;
mod jwks_url;
mod key_file;
mod keygen;
mod sign;
pub(crate) mod times;
mod verify;

use clap::{Args, Subcommand};

/// Arguments of `tessera token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Generate a signing key: a private JWK (or PKCS#8 PEM), or its public JWK Set.
    Keygen(keygen::KeygenArgs),
    /// Sign claims into a JWT with a private JWK or PKCS#8 PEM key.
    Sign(sign::SignArgs),
    /// Show a token's header and claims WITHOUT checking its signature.
    Decode(decode::DecodeArgs),
    /// Verify a token's signature and claims against a JWK Set file or URL.
    Verify(verify::VerifyArgs),
}

/// What a command prints: `stdout` as is, and notes and warnings, one line each, on
/// standard error.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Text for standard output, newline-terminated.
    pub stdout: String,
    /// Lines for standard error, printed before `stdout`.
    pub stderr: Vec<String>,
}

impl Output {
    fn stdout(text: impl Into<String>) -> Output {
        let mut stdout = text.into();
        if !stdout.is_empty() && !stdout.ends_with('\n') {
            stdout.push('\n');
        }
        Output { stdout, stderr: Vec::new() }
    }

    /// Adds a `warning: …` line.
    fn warn(mut self, warning: impl std::fmt::Display) -> Output {
        self.stderr.push(format!("warning: {warning}"));
        self
    }

    /// Adds a plain line, such as where a file was written.
    fn note(mut self, note: impl Into<String>) -> Output {
        self.stderr.push(note.into());
        self
    }
}

/// Why a command failed; each kind has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The token was examined and refused: exit code 1. The reason is tessera-jose's own.
    #[error("invalid: {0}")]
    Invalid(tessera_jose::Error),
    /// Bad arguments or input, an unusable key, a file or network error: exit code 2.
    #[error("error: {0}")]
    Usage(String),
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage(message.into())
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Invalid(_) => 1,
            Failure::Usage(_) => 2,
        }
    }

    /// The message as one line, with its `invalid:` or `error:` prefix.
    pub fn one_line(&self) -> String {
        self.to_string().replace(['\r', '\n'], " ")
    }
}

/// Runs a `tessera token` command at time `now`.
pub fn run(args: TokenArgs, now: i64) -> Result<Output, Failure> {
    match args.command {
        TokenCommand::Keygen(args) => keygen::run(&args),
        TokenCommand::Sign(args) => sign::run(&args, now),
        TokenCommand::Decode(args) => decode::run(&args, now),
        TokenCommand::Verify(args) => verify::run(&args, now),
    }
}

/// Parses `--alg` values; `none` gets tessera-jose's own refusal.
fn parse_algorithm(name: &str) -> Result<tessera_jose::Algorithm, tessera_jose::Error> {
    name.parse()
}

/// Parses durations such as `15m`, `1h`, `7d`, `90s`.
fn parse_duration(text: &str) -> Result<std::time::Duration, humantime::DurationError> {
    humantime::parse_duration(text)
}
