//! The OpenID Connect browser flows against real relying parties, each its own process against
//! a real `tessera serve`: openid-client v6 (interop/node/openid_client_flow.mjs), authlib
//! (interop/python/authlib_flow.py) and Debian's Chromium driven by playwright-core
//! (interop/node/browser_flow.mjs). Each test makes a fresh data folder, adds the user and two
//! clients with the CLI, starts the server on a free port and runs its script, which checks
//! every step and exits non-zero at the first that fails.
//!
//! The tools come from `scripts/test`, which installs them and exports INTEROP_NODE_DIR,
//! INTEROP_PYTHON and INTEROP_CHROMIUM; without them (and without the default installs under
//! target/) the tests fail with instructions rather than skipping.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "interop-correct-horse-7";
const NAME: &str = "Alice";
/// How long one script may run before it counts as hung.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An interop tool: its variable from scripts/test, else its default install, else a failure
/// that says what to run.
fn tool(variable: &str, default: &Path, what: &str) -> PathBuf {
    if let Ok(value) = std::env::var(variable) {
        let path = PathBuf::from(value);
        assert!(path.exists(), "{what}: {variable}={} does not exist. Run scripts/test", path.display());
        return path;
    }
    if default.exists() {
        return default.to_path_buf();
    }
    panic!(
        "{what} is not installed: {variable} is unset and {} does not exist. Run scripts/test, which \
         installs the interop tools and sets {variable}",
        default.display()
    );
}

fn node_dir() -> PathBuf {
    let dir = tool("INTEROP_NODE_DIR", &repo().join("target/interop-node"), "the npm interop packages");
    assert!(
        dir.join("node_modules/openid-client").exists() && dir.join("node_modules/playwright-core").exists(),
        "openid-client or playwright-core missing in {}: run scripts/test (npm ci there)",
        dir.display()
    );
    dir
}

fn python() -> PathBuf {
    tool("INTEROP_PYTHON", &repo().join("target/interop-venv/bin/python"), "the Python interop venv")
}

fn chromium() -> PathBuf {
    tool("INTEROP_CHROMIUM", Path::new("/usr/bin/chromium"), "Debian's chromium")
}

fn tessera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command.env_remove("TESSERA_MASTER_KEY").env("TESSERA_LOG_LEVEL", "info");
    command
}

/// Runs an admin command against `dir`; returns its standard output.
fn admin(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = tessera()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "tessera {} failed:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The relying parties' URIs and secrets, as the scripts read them.
struct Setup {
    env: Vec<(String, String)>,
}

/// A fresh installation: the user, a consent-asking client and a first-party one (SSO
/// without a consent page), both confidential with authorization_code and refresh_token.
fn install(dir: &Path, issuer: &str, rp: &str) -> Setup {
    admin(dir, &["user", "add", EMAIL, "--name", NAME, "--password-stdin"], Some(&format!("{PASSWORD}\n")));
    let (redirect, redirect2, post_logout) =
        (format!("{rp}/callback"), format!("{rp}/callback2"), format!("{rp}/signed-out"));
    let mut secrets = Vec::new();
    for (client_id, name, redirect_uri, first_party) in
        [("rp-one", "Node RP", &redirect, false), ("rp-two", "Second RP", &redirect2, true)]
    {
        let mut args = vec!["client", "add", client_id, "--confidential", "--name", name, "--redirect-uri"];
        args.extend([redirect_uri.as_str(), "--post-logout-redirect-uri", post_logout.as_str()]);
        args.extend(["--grant", "authorization_code", "--grant", "refresh_token"]);
        args.extend(["--scope", "openid", "--scope", "profile", "--scope", "email", "--json"]);
        if first_party {
            args.push("--first-party");
        }
        let out = admin(dir, &args, None);
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("client add --json ({e}): {out}"));
        secrets.push(json["client_secret"].as_str().expect("a confidential client's secret").to_owned());
    }
    // A native app (RFC 8252): public, loopback redirect whose port may vary, PKCE required.
    let native = "http://127.0.0.1/native-callback";
    admin(
        dir,
        &[
            "client",
            "add",
            "rp-native",
            "--public",
            "--name",
            "Native app",
            "--redirect-uri",
            native,
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "email",
            "--json",
        ],
        None,
    );
    let env = [
        ("ISSUER", issuer.to_owned()),
        ("CLIENT_ID", "rp-one".to_owned()),
        ("CLIENT_NAME", "Node RP".to_owned()),
        ("CLIENT_SECRET", secrets[0].clone()),
        ("REDIRECT_URI", redirect),
        ("POST_LOGOUT_REDIRECT_URI", post_logout),
        ("CLIENT2_ID", "rp-two".to_owned()),
        ("CLIENT2_SECRET", secrets[1].clone()),
        ("CLIENT2_REDIRECT_URI", redirect2),
        ("PUBLIC_CLIENT_ID", "rp-native".to_owned()),
        ("PUBLIC_REDIRECT_URI", native.to_owned()),
        ("USER_EMAIL", EMAIL.to_owned()),
        ("USER_PASSWORD", PASSWORD.to_owned()),
        ("USER_NAME", NAME.to_owned()),
    ];
    Setup { env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
}

/// `tessera serve`, killed on drop; its log is kept for failure messages.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path, port: u16) -> Server {
        let mut child = tessera()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, is_ready) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let out_log = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("tessera is ready") {
                    let _ = ready.send(());
                }
                out_log.lock().unwrap().push(line);
            }
        });
        let err_log = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                err_log.lock().unwrap().push(line);
            }
        });
        let mut server = Server { child, log };
        if is_ready.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = server.child.kill();
            panic!("tessera serve was not ready within 60 s:\n{}", server.log_tail());
        }
        server
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs a server for one script, runs the script and asserts that it passed.
fn run_journey(program: &Path, script: &str, extra_env: &[(&str, String)], rp_host: &str) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let (port, rp_port) = (free_port(), free_port());
    let issuer = format!("http://127.0.0.1:{port}");
    let setup = install(&dir, &issuer, &format!("http://{rp_host}:{rp_port}"));
    let server = Server::start(&dir, port);

    let started = Instant::now();
    let mut child = Command::new(program)
        .arg(repo().join(script))
        .current_dir(repo())
        .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): run scripts/test", program.display()));
    // Read both pipes while waiting, so that a chatty script never blocks on a full pipe.
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    let report = format!(
        "--- {script} stdout:\n{stdout}\n--- stderr:\n{stderr}\n--- tessera serve log (last lines):\n{}",
        server.log_tail()
    );
    match status {
        Some(status) if status.success() => println!("{stdout}"),
        Some(status) => panic!("{script} failed ({status}):\n{report}"),
        None => panic!("{script} did not finish within {SCRIPT_TIMEOUT:?}:\n{report}"),
    }
}

fn node() -> PathBuf {
    PathBuf::from(std::env::var("INTEROP_NODE").unwrap_or_else(|_| "node".into()))
}

#[test]
fn openid_client_code_flow_sso_refresh_and_logout() {
    let dir = node_dir();
    let env = [("INTEROP_NODE_DIR", dir.display().to_string())];
    run_journey(&node(), "interop/node/openid_client_flow.mjs", &env, "127.0.0.1");
}

#[test]
fn authlib_code_flow_sso_refresh_and_logout() {
    run_journey(&python(), "interop/python/authlib_flow.py", &[], "127.0.0.1");
}

#[test]
fn browser_login_consent_sso_reauthentication_and_logout_in_chromium() {
    let dir = node_dir();
    let chromium = chromium();
    let screenshots =
        std::env::var("SCREENSHOT_DIR").map(PathBuf::from).unwrap_or_else(|_| repo().join("target/screenshots"));
    let env = [
        ("INTEROP_NODE_DIR", dir.display().to_string()),
        ("INTEROP_CHROMIUM", chromium.display().to_string()),
        ("SCREENSHOT_DIR", screenshots.display().to_string()),
    ];
    // The relying party at localhost is another site than the issuer at 127.0.0.1, so the
    // browser's redirects between them are cross-site, as between real domains.
    run_journey(&node(), "interop/node/browser_flow.mjs", &env, "localhost");
}
