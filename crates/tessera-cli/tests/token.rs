//! `tessera token …` run as the real binary, in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tessera_jose::{Algorithm, Error, Part, base64url};

/// What one run of the binary gave.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self
    }

    /// Asserts exit code 1 with exactly one line `invalid: {reason}` on stderr, where
    /// `reason` is tessera-jose's own message.
    fn invalid(self, reason: impl std::fmt::Display) {
        assert_eq!(self.code, 1, "expected an invalid token: {self:?}");
        assert_eq!(self.stderr, format!("invalid: {reason}\n"), "{self:?}");
        assert_eq!(self.stdout, "", "{self:?}");
    }

    /// Asserts exit code 2 with exactly one `error: …` line on stderr; returns it.
    fn usage_error(self) -> String {
        assert_eq!(self.code, 2, "expected a usage error: {self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "one line: {self:?}");
        assert!(self.stderr.starts_with("error: "), "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self.stderr
    }

    fn claims(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("claims are not JSON ({e}): {self:?}"))
    }
}

const THREE_PARTS: Error = Error::Malformed("a compact JWS has exactly three dot-separated parts");

fn tessera(dir: &Path, args: &[&str]) -> Run {
    tessera_with_stdin(dir, args, "")
}

fn tessera_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A private key in `key.jwk` and, except for HMAC, its JWK Set in `jwks.json`.
/// Returns the file that verifies (the JWK Set, or the secret itself).
fn keygen(dir: &Path, alg: &str, name: &str) -> String {
    let key = format!("{name}.jwk");
    if alg.starts_with("HS") {
        tessera(dir, &["token", "keygen", "--alg", alg, "--out", &key]).ok();
        return key;
    }
    let jwks = tessera(dir, &["token", "keygen", "--alg", alg, "--out", &key, "--public"]).ok();
    let set: Value = serde_json::from_str(&jwks.stdout).unwrap();
    assert_eq!(set["keys"][0]["alg"], alg);
    assert!(set["keys"][0].get("d").is_none(), "the JWK Set is public");
    let jwks_file = format!("{name}.jwks.json");
    std::fs::write(dir.join(&jwks_file), jwks.stdout).unwrap();
    jwks_file
}

fn sign(dir: &Path, key: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "sign", "--key", key];
    if !extra.contains(&"--claims") {
        args.extend(["--claims", r#"{"scope":"read"}"#]);
    }
    args.extend_from_slice(extra);
    tessera(dir, &args).ok().stdout.trim().to_owned()
}

fn compact(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", base64url::encode(header.to_string()), base64url::encode(claims.to_string()))
}

#[test]
fn every_algorithm_round_trips_through_keygen_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let algorithms = ["EdDSA", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "HS256"];
    for alg in algorithms.into_iter().chain(["HS384", "HS512"]) {
        let verifier = keygen(dir.path(), alg, alg);
        let key = format!("{alg}.jwk");
        let token = sign(dir.path(), &key, &["--iss", "https://id.example", "--aud", "api", "--sub", "alice"]);
        let header = tessera_jose::decode_unverified(&token).unwrap().header;
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "JWT");
        let args = ["token", "verify", &token, "--jwks", &verifier, "--iss", "https://id.example", "--aud", "api"];
        let run = tessera(dir.path(), &args).ok();
        let claims = run.claims();
        assert_eq!(claims["sub"], "alice", "{alg}");
        assert_eq!(claims["scope"], "read", "{alg}");
        let exp = claims["exp"].as_i64().unwrap();
        assert_eq!(exp - claims["iat"].as_i64().unwrap(), 900, "default lifetime 15m");
        // typ was not asked for, so the one remaining warning says so.
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(run.stderr.starts_with("warning: not checked: token type (typ)"), "{run:?}");
    }
}

#[test]
fn a_fully_checked_token_verifies_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = keygen(dir.path(), "ES256", "k");
    let token = sign(
        dir.path(),
        "k.jwk",
        &["--typ", "at+jwt", "--iss", "I", "--aud", "A", "--aud", "B", "--jti", "--exp", "1h"],
    );
    let args = ["token", "verify", &token, "--jwks", &jwks, "--iss", "I", "--aud", "B", "--typ", "at+jwt"];
    let run = tessera(dir.path(), &args).ok();
    assert_eq!(run.stderr, "");
    let claims = run.claims();
    assert_eq!(claims["aud"], json!(["A", "B"]));
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22, "128 random bits in base64url");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    // The wrong typ is named.
    let args = ["token", "verify", &token, "--jwks", &jwks, "--typ", "JWT"];
    tessera(dir.path(), &args).invalid(Error::WrongType { expected: "JWT".into(), found: Some("at+jwt".into()) });
}

#[test]
fn verify_names_the_exact_reason_for_each_bad_token() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let jwks = keygen(dir, "ES256", "k");
    let other_jwks = keygen(dir, "ES256", "other");
    let good = sign(dir, "k.jwk", &["--iss", "I", "--aud", "A"]);
    let verify = |token: &str, extra: &[&str]| {
        let mut args = vec!["token", "verify", token, "--jwks", &jwks];
        args.extend_from_slice(extra);
        tessera(dir, &args)
    };

    let expired = sign(dir, "k.jwk", &["--claims", r#"{"iat":1000000000,"exp":1000000900}"#]);
    verify(&expired, &[]).invalid(Error::Expired);
    verify(&good, &["--iss", "J"]).invalid(Error::InvalidIssuer);
    verify(&good, &["--aud", "B"]).invalid(Error::InvalidAudience);
    verify(&good, &["--alg", "ES384", "--alg", "EdDSA"]).invalid(Error::AlgorithmNotAllowed(Algorithm::ES256));

    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&base64url::decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], base64url::encode(claims.to_string()), parts[2]);
    verify(&tampered, &[]).invalid(Error::InvalidSignature);

    let unsigned = compact(&json!({"alg": "none", "typ": "JWT"}), &json!({"sub": "admin"}), "");
    verify(&unsigned, &[]).invalid(Error::AlgNone);

    let stranger = sign(dir, "other.jwk", &[]);
    let kid = tessera_jose::decode_unverified(&stranger).unwrap().header["kid"].as_str().unwrap().to_owned();
    verify(&stranger, &[]).invalid(Error::NoMatchingKey { kid: Some(kid) });
    // …while the JWK Set it belongs to accepts it.
    tessera(dir, &["token", "verify", &stranger, "--jwks", &other_jwks]).ok();

    verify("garbage", &[]).invalid(THREE_PARTS);
    verify("a.b.c", &[]).invalid(Error::InvalidBase64(Part::Header));
    let jku = compact(&json!({"alg": "ES256", "jku": "https://evil.example/jwks"}), &json!({}), "AA");
    verify(&jku, &[]).invalid(Error::ForbiddenHeader("jku"));
}

#[test]
fn decode_says_nothing_was_verified_shows_dates_and_names_risky_headers() {
    let dir = tempfile::tempdir().unwrap();
    let header = json!({"alg": "ES256", "typ": "JWT", "jku": "https://evil.example/jwks"});
    let token = compact(&header, &json!({"sub": "alice", "iat": 1_700_000_000, "exp": 1_700_000_900}), "AAAA");
    let run = tessera(dir.path(), &["token", "decode", &token]).ok();
    assert!(run.stdout.starts_with("NOT VERIFIED: the signature was not checked"), "{run:?}");
    assert!(run.stdout.contains("\"sub\": \"alice\""), "{run:?}");
    assert!(run.stdout.contains("2023-11-14T22:13:20Z"), "iat as a date: {run:?}");
    assert!(run.stdout.contains("2023-11-14T22:28:20Z  (expired "), "exp as a date: {run:?}");
    assert!(run.stdout.contains("jku: a key chosen by the sender"), "{run:?}");

    let run = tessera(dir.path(), &["token", "decode", "--json", &token]).ok();
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["verified"], false);
    assert_eq!(document["claims"]["sub"], "alice");
    assert_eq!(document["times"]["exp"]["date"], "2023-11-14T22:28:20Z");
    assert!(document["times"]["exp"]["relative"].as_str().unwrap().starts_with("expired "));
    assert_eq!(document["risky_headers"][0], "jku: a key chosen by the sender");

    tessera(dir.path(), &["token", "decode", "not-a-token"]).invalid(THREE_PARTS);
}

#[test]
fn a_dash_reads_the_token_or_the_claims_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let jwks = keygen(dir, "EdDSA", "k");
    let run = tessera_with_stdin(dir, &["token", "sign", "--key", "k.jwk", "--claims", "-"], r#"{"sub":"stdin"}"#);
    let token = run.ok().stdout;
    let run = tessera_with_stdin(dir, &["token", "verify", "-", "--jwks", &jwks], &format!("\n  {token}\n"));
    assert_eq!(run.ok().claims()["sub"], "stdin");
    let run = tessera_with_stdin(dir, &["token", "decode", "-"], &token);
    assert!(run.ok().stdout.contains("\"sub\": \"stdin\""));
    std::fs::write(dir.join("claims.json"), r#"{"sub":"file"}"#).unwrap();
    let token = sign(dir, "k.jwk", &["--claims", "@claims.json"]);
    let run = tessera(dir, &["token", "verify", &token, "--jwks", &jwks]);
    assert_eq!(run.ok().claims()["sub"], "file");
    tessera_with_stdin(dir, &["token", "verify", "-", "--jwks", &jwks], "  \n").usage_error();
}

#[test]
fn pem_keys_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for alg in ["ES384", "PS256", "EdDSA"] {
        let public =
            tessera(dir, &["token", "keygen", "--alg", alg, "--pem", "--out", "key.pem", "--public", "--force"]);
        let public = public.ok().stdout;
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
        assert!(std::fs::read_to_string(dir.join("key.pem")).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
        std::fs::write(dir.join("public.pem"), public).unwrap();
        // An RSA PEM key does not say which algorithm it is for: --alg does.
        let token = sign(dir, "key.pem", &["--alg", alg]);
        assert_eq!(tessera_jose::decode_unverified(&token).unwrap().header["alg"], alg);
        tessera(dir, &["token", "verify", &token, "--jwks", "public.pem"]).ok();
    }
    let run = tessera(dir, &["token", "sign", "--key", "public.pem"]);
    assert!(run.usage_error().contains("public key"));
}

#[test]
fn keygen_writes_owner_only_files_and_never_overwrites_by_accident() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let run = tessera(dir, &["token", "keygen", "--alg", "ES256", "--kid", "k1", "--out", "key.jwk"]).ok();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("key.jwk"), "says where the key went: {run:?}");
    let mode = std::fs::metadata(dir.join("key.jwk")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let first = std::fs::read_to_string(dir.join("key.jwk")).unwrap();
    let jwk: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        (jwk["kid"].as_str(), jwk["alg"].as_str(), jwk["use"].as_str()),
        (Some("k1"), Some("ES256"), Some("sig"))
    );
    assert!(jwk["d"].is_string(), "a private JWK");

    let refused = tessera(dir, &["token", "keygen", "--alg", "ES256", "--out", "key.jwk"]).usage_error();
    assert!(refused.contains("--force"), "{refused}");
    assert_eq!(std::fs::read_to_string(dir.join("key.jwk")).unwrap(), first, "left untouched");

    std::fs::set_permissions(dir.join("key.jwk"), std::fs::Permissions::from_mode(0o644)).unwrap();
    tessera(dir, &["token", "keygen", "--alg", "ES256", "--out", "key.jwk", "--force"]).ok();
    assert_ne!(std::fs::read_to_string(dir.join("key.jwk")).unwrap(), first, "replaced");
    let mode = std::fs::metadata(dir.join("key.jwk")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "narrowed on replace");
}

#[test]
fn keygen_prints_a_private_jwk_with_its_thumbprint_as_kid() {
    let dir = tempfile::tempdir().unwrap();
    let run = tessera(dir.path(), &["token", "keygen", "--alg", "HS384"]).ok();
    let jwk = tessera_jose::Jwk::from_json(run.stdout.as_bytes()).unwrap();
    assert_eq!(jwk.kty, "oct");
    assert_eq!(jwk.kid.clone().unwrap(), jwk.thumbprint().unwrap());
    assert_eq!(base64url::decode(jwk.k.as_deref().unwrap()).unwrap().len(), 48);

    let run = tessera(dir.path(), &["token", "keygen", "--alg", "PS512", "--bits", "3072", "--public"]).ok();
    assert!(run.stderr.contains("--out"), "warns that the private key is gone: {run:?}");
    let set: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(base64url::decode(set["keys"][0]["n"].as_str().unwrap()).unwrap().len(), 384);
}

#[test]
fn a_token_without_exp_needs_an_explicit_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let jwks = keygen(dir, "ES256", "k");
    let run = tessera(dir, &["token", "sign", "--key", "k.jwk", "--no-exp"]).ok();
    assert!(run.stderr.contains("never expires"), "{run:?}");
    let token = run.stdout.trim();
    tessera(dir, &["token", "verify", token, "--jwks", &jwks]).invalid(Error::MissingClaim("exp".into()));
    tessera(dir, &["token", "verify", token, "--jwks", &jwks, "--allow-missing-exp"]).ok();
}

/// Serves `body` for GET /jwks.json, 404 otherwise, on loopback, for `requests` requests.
fn serve(body: String, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut request_line).unwrap();
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let (status, body) = if request_line.starts_with("GET /jwks.json ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "")
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
            let _ = stream.read(&mut [0u8; 1]);
        }
    });
    format!("http://{address}")
}

#[test]
fn verify_fetches_a_jwk_set_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let jwks = keygen(dir, "ES256", "k");
    let token = sign(dir, "k.jwk", &["--sub", "over-http"]);
    let base = serve(std::fs::read_to_string(dir.join(jwks)).unwrap(), 3);

    let run = tessera(dir, &["token", "verify", &token, "--jwks", &format!("{base}/jwks.json")]).ok();
    assert_eq!(run.claims()["sub"], "over-http");
    assert!(run.stderr.contains("plain HTTP"), "{run:?}");

    let missing = tessera(dir, &["token", "verify", &token, "--jwks", &format!("{base}/nothing")]).usage_error();
    assert!(missing.contains("404"), "{missing}");

    // The same server spoken to over TLS: the rustls (aws-lc-rs) client starts, and fails cleanly.
    let https = base.replace("http://", "https://");
    tessera(dir, &["token", "verify", &token, "--jwks", &format!("{https}/jwks.json")]).usage_error();
}

#[test]
fn a_silent_jwks_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Accept, then say nothing for longer than the client waits.
        let held = listener.accept();
        std::thread::sleep(std::time::Duration::from_secs(10));
        drop(held);
    });
    let dir = tempfile::tempdir().unwrap();
    let message = tessera(dir.path(), &["token", "verify", "a.b.c", "--jwks", &url]).usage_error();
    assert!(message.contains("timeout"), "{message}");
}

#[test]
fn an_oversized_jwk_set_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(" ".repeat(2 * 1024 * 1024), 1);
    let run = tessera(dir.path(), &["token", "verify", "a.b.c", "--jwks", &format!("{base}/jwks.json")]);
    assert!(run.usage_error().contains("larger than 1024 KiB"));
}

#[test]
fn bad_arguments_give_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    keygen(dir, "ES256", "k");
    std::fs::write(dir.join("public.jwks"), r#"{"keys":[]}"#).unwrap();
    let cases: &[&[&str]] = &[
        &["--bogus"],
        &["frobnicate"],
        &["token", "frobnicate"],
        &["token", "keygen", "--alg", "none"],
        &["token", "keygen", "--alg", "es256"],
        &["token", "keygen", "--alg", "RS256", "--bits", "1024"],
        &["token", "keygen", "--alg", "ES256", "--bits", "4096"],
        &["token", "keygen", "--alg", "HS256", "--public"],
        &["token", "keygen", "--alg", "HS256", "--pem"],
        &["token", "keygen", "--force"],
        &["token", "keygen", "--out", "no/such/dir/key.jwk"],
        &["token", "sign"],
        &["token", "sign", "--key", "missing.jwk"],
        &["token", "sign", "--key", "k.jwk", "--claims", "[1,2]"],
        &["token", "sign", "--key", "k.jwk", "--claims", "{\"a\":1,\"a\":2}"],
        &["token", "sign", "--key", "k.jwk", "--claims", "@missing.json"],
        &["token", "sign", "--key", "k.jwk", "--exp", "banana"],
        &["token", "sign", "--key", "k.jwk", "--exp", "1000000000000y"],
        &["token", "sign", "--key", "k.jwk", "--exp", "1m", "--no-exp"],
        &["token", "sign", "--key", "k.jwk", "--alg", "RS256"],
        &["token", "sign", "--key", "k.jwks.json"],
        &["token", "sign", "--key", "/"],
        &["token", "decode"],
        &["token", "verify", "a.b.c"],
        &["token", "verify", "a.b.c", "--jwks", "missing.json"],
        &["token", "verify", "a.b.c", "--jwks", "public.jwks"],
        &["token", "verify", "a.b.c", "--jwks", "k.jwks.json", "--alg", "none"],
        &["token", "verify", "a.b.c", "--jwks", "k.jwks.json", "--leeway", "soon"],
        &["token", "verify", "a.b.c", "--jwks", "http://127.0.0.1:9/jwks.json"],
        &["token", "verify", "a.b.c", "--jwks", "https://"],
    ];
    for args in cases {
        let run = tessera(dir, args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        run.usage_error();
    }
}

#[test]
fn help_and_version_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let run = tessera(dir.path(), &["token", "verify", "--help"]).ok();
    assert!(run.stdout.contains("--jwks"));
    let run = tessera(dir.path(), &["--version"]).ok();
    assert!(run.stdout.starts_with("tessera "));
}
