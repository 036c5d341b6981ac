//! `tessera token keygen`: a fresh signing key as a private JWK or PKCS#8 PEM, or the
//! public JWK Set (or SPKI PEM) to publish beside it.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use tessera_jose::{Algorithm, Jwks, KeyFamily, RsaBits, SigningKey};

use super::{Failure, Output};

/// Arguments of `tessera token keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Algorithm the key is for: EdDSA, ES256, ES384, RS256/384/512, PS256/384/512, HS256/384/512.
    #[arg(long, default_value = "ES256", value_parser = super::parse_algorithm)]
    alg: Algorithm,
    /// Key ID (default: the key's RFC 7638 thumbprint).
    #[arg(long)]
    kid: Option<String>,
    /// RSA modulus size in bits, for RS* and PS* only (default 2048).
    #[arg(long, value_parser = parse_bits)]
    bits: Option<RsaBits>,
    /// Write the private key to FILE (created with mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// Print the public JWK Set of the key (with --out, the private key goes to FILE).
    #[arg(long)]
    public: bool,
    /// PEM instead of JWK: PKCS#8 for the private key, SPKI for the public key.
    #[arg(long)]
    pem: bool,
}

fn parse_bits(text: &str) -> Result<RsaBits, String> {
    match text {
        "2048" => Ok(RsaBits::B2048),
        "3072" => Ok(RsaBits::B3072),
        "4096" => Ok(RsaBits::B4096),
        _ => Err("RSA keys are 2048, 3072 or 4096 bits".into()),
    }
}

/// Generates the key, writes or prints it.
pub fn run(args: &KeygenArgs) -> Result<Output, Failure> {
    check_flags(args)?;
    let key = SigningKey::generate_with_rsa_bits(args.alg, args.bits.unwrap_or(RsaBits::B2048))
        .map_err(|error| Failure::usage(format!("cannot generate the key: {error}")))?;
    let key = match &args.kid {
        Some(kid) => key.with_kid(kid.clone()),
        None => key,
    };
    let mut output = match (&args.out, args.public) {
        (None, false) => Output::stdout(private_text(&key, args.pem)?),
        (None, true) => {
            Output::stdout(public_text(&key, args.pem)?).warn("the private key was not kept; add --out FILE to save it")
        }
        (Some(path), public) => {
            write_private(path, &private_text(&key, args.pem)?, args.force)?;
            let note = format!("wrote the private {} key {:?} to {} (mode 0600)", args.alg, key.kid(), path.display());
            let stdout = if public { public_text(&key, args.pem)? } else { String::new() };
            Output::stdout(stdout).note(note)
        }
    };
    if args.pem && args.kid.is_some() {
        output = output.warn("PEM has no place for a kid; --kid is not kept in it");
    }
    Ok(output)
}

/// Refuses impossible combinations before spending time on (RSA) key generation.
fn check_flags(args: &KeygenArgs) -> Result<(), Failure> {
    if args.alg.is_symmetric() && args.public {
        return Err(Failure::usage(format!("{} keys are shared secrets: there is no public key to print", args.alg)));
    }
    if args.alg.is_symmetric() && args.pem {
        return Err(Failure::usage(format!("{} keys are shared secrets and have no PEM form; use the JWK", args.alg)));
    }
    if args.bits.is_some() && args.alg.key_family() != KeyFamily::Rsa {
        return Err(Failure::usage(format!("--bits is for RSA algorithms (RS*, PS*), not {}", args.alg)));
    }
    Ok(())
}

fn private_text(key: &SigningKey, pem: bool) -> Result<String, Failure> {
    if pem {
        return key.to_pkcs8_pem().map_err(|error| Failure::usage(format!("cannot encode the key: {error}")));
    }
    pretty_json(&key.to_private_jwk())
}

fn public_text(key: &SigningKey, pem: bool) -> Result<String, Failure> {
    let failed = |error: tessera_jose::Error| Failure::usage(format!("cannot encode the public key: {error}"));
    if pem {
        return key.public_key_pem().map_err(failed);
    }
    pretty_json(&Jwks { keys: vec![key.public_jwk().map_err(failed)?] })
}

fn pretty_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value).map_err(|error| Failure::usage(format!("cannot encode the key: {error}")))
}

/// Writes a private key readable by its owner only, never replacing a file unless `force`.
fn write_private(path: &Path, text: &str, force: bool) -> Result<(), Failure> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => Failure::usage(format!("{shown} exists; add --force to replace it")),
        _ => Failure::usage(format!("cannot create {shown}: {error}")),
    })?;
    // The mode above applies only to a new file; one replaced with --force is narrowed here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|error| Failure::usage(format!("cannot restrict {shown} to mode 0600: {error}")))?;
    }
    let mut text = text.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| Failure::usage(format!("cannot write {shown}: {error}")))
}
