//! Where command input comes from: an argument, `-` for standard input, `@FILE`, or a file.

use std::io::Read;
use std::path::Path;

use super::Failure;

/// Files and standard input are read up to this size: keys, claims and tokens are small.
pub const MAX_INPUT: u64 = 1024 * 1024;

/// A token given as an argument, or `-` to read it from standard input; trimmed.
pub fn token(argument: &str) -> Result<String, Failure> {
    let text = if argument == "-" { stdin("the token")? } else { argument.to_owned() };
    let token = text.trim();
    if token.is_empty() {
        return Err(Failure::usage("the token is empty"));
    }
    Ok(token.to_owned())
}

/// JSON given inline, as `@FILE`, or as `-` for standard input.
pub fn inline_file_or_stdin(argument: &str, what: &str) -> Result<String, Failure> {
    if argument == "-" {
        return stdin(what);
    }
    match argument.strip_prefix('@') {
        Some(path) => {
            let bytes = file(Path::new(path), what)?;
            String::from_utf8(bytes).map_err(|_| Failure::usage(format!("{what} in {path} is not UTF-8")))
        }
        None => Ok(argument.to_owned()),
    }
}

/// Reads a whole file of at most [`MAX_INPUT`] bytes.
pub fn file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    let from = format!("{what} from {}", path.display());
    std::fs::File::open(path)
        .map_err(|error| Failure::usage(format!("cannot read {from}: {error}")))
        .and_then(|file| read_capped(file, &from))
}

fn stdin(what: &str) -> Result<String, Failure> {
    let from = format!("{what} from standard input");
    let bytes = read_capped(std::io::stdin().lock(), &from)?;
    String::from_utf8(bytes).map_err(|_| Failure::usage(format!("{what} on standard input is not UTF-8")))
}

/// Reads all of `reader`, refusing more than [`MAX_INPUT`] bytes; `from` names the source.
fn read_capped(reader: impl Read, from: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::usage(format!("cannot read {from}: {error}")))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Failure::usage(format!("{from} is larger than {} KiB", MAX_INPUT / 1024)));
    }
    Ok(bytes)
}
