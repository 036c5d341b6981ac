//! The `tessera` binary: clap commands that parse arguments and call the library crates.
//!
//! Exit codes: 0 success, 1 a token was checked and found invalid, 2 a usage, input,
//! file or network error. Every failure is one line on standard error.

mod admin;
mod demo;
mod serve;
mod token;

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Tessera: a JSON Web Token identity server and verification toolkit.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the identity server (embedded SQLite in ./tessera-data unless configured).
    Serve(serve::ServeArgs),
    /// Offline JWT tool: generate keys, sign, decode and verify tokens.
    Token(token::TokenArgs),
    /// Accounts: add, list, disable, set a password.
    User(admin::user::UserArgs),
    /// OAuth clients: register, list, remove.
    Client(admin::client::ClientArgs),
    /// The server's signing keys: list, rotate.
    Keys(admin::keys::KeysArgs),
    /// Audit events: the newest ones.
    Audit(admin::audit::AuditArgs),
}

/// The exit code for usage, input, file and network errors.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {}", info.to_string().replace('\n', " "));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_failure(&error),
    };
    let now = match unix_now() {
        Ok(now) => now,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let outcome = match cli.command {
        // The server reads its own clock for every request; `now` is unused there.
        Command::Serve(args) => serve::run(args)
            .map(|()| token::Output::default())
            .map_err(|error| token::Failure::Usage(format!("{error:#}").replace('\n', " "))),
        Command::Token(args) => token::run(args, now),
        Command::User(args) => admin::user::run(args, now),
        Command::Client(args) => admin::client::run(args, now),
        Command::Keys(args) => admin::keys::run(args, now),
        Command::Audit(args) => admin::audit::run(args, now),
    };
    match outcome {
        Ok(output) => {
            for line in &output.stderr {
                eprintln!("{line}");
            }
            print_stdout(&output.stdout)
        }
        Err(failure) => {
            eprintln!("{}", failure.one_line());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Reads the clock once; every command gets `now` as a parameter.
#[allow(clippy::disallowed_methods)] // The one place that reads the real clock (STYLE.md).
fn unix_now() -> anyhow::Result<i64> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).context("the system clock is before 1970")?;
    i64::try_from(since_epoch.as_secs()).context("the system clock is out of range")
}

fn print_stdout(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `tessera token decode … | head -1`: the reader left, nothing to report.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write to standard output: {error}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// Help and version go to stdout as clap writes them; a usage error becomes one line.
fn clap_failure(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(USAGE_ERROR)
        }
        _ => {
            eprintln!("{}", one_line_usage_error(&error.render().to_string()));
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// Joins clap's message lines (error, details, tip) into one, dropping the usage block.
fn one_line_usage_error(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("error: {message} (see --help)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  --key <FILE>\n\n\
                        Usage: tessera token sign --key <FILE>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(rendered),
            "error: the following required arguments were not provided: --key <FILE> (see --help)"
        );
    }

    #[test]
    fn the_help_hint_is_dropped_too() {
        let rendered = "error: invalid value 'none' for '--alg <ALG>': never\n\nFor more information, try '--help'.\n";
        assert_eq!(one_line_usage_error(rendered), "error: invalid value 'none' for '--alg <ALG>': never (see --help)");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
