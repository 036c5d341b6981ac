//! `tessera serve` as a process: zero-configuration start, `--listen` as the issuer, an
//! unknown configuration key stopping the start, and SIGTERM draining in-flight requests.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn tessera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command.env_remove("TESSERA_MASTER_KEY").env("TESSERA_LOG_LEVEL", "info");
    command
}

/// Starts `tessera serve` and waits until it logs that it is ready.
fn start(dir: &std::path::Path, port: u16) -> Child {
    let mut child = tessera()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("server exited before it was ready").unwrap();
        if line.contains("tessera is ready") {
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

/// One HTTP/1.1 request on its own connection; returns the raw response.
fn request(port: u16, raw: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

fn get(port: u16, path: &str) -> String {
    request(port, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
}

fn login_request(body: &str) -> String {
    format!(
        "POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn listen_sets_the_issuer_and_sigterm_drains_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    let discovery = get(port, "/.well-known/openid-configuration");
    assert!(discovery.starts_with("HTTP/1.1 200"), "{discovery}");
    assert!(discovery.contains(&format!("\"issuer\":\"http://127.0.0.1:{port}\"")), "{discovery}");
    assert!(dir.path().join("tessera.db").exists() && dir.path().join("master.key").exists());

    let mut add = tessera()
        .args(["user", "add", "drain@example.com", "--password-stdin", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"drain-password-1\n").unwrap();
    assert!(add.wait().unwrap().success());

    // Logins queue on the bounded Argon2 pool, so several are in flight when SIGTERM comes.
    let body = r#"{"username":"drain@example.com","password":"drain-password-1"}"#;
    let in_flight: Vec<_> = (0..6)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            stream.write_all(login_request(body).as_bytes()).unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    for mut stream in in_flight {
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(response.starts_with("HTTP/1.1 200"), "an accepted request was cut off: {response:?}");
    }
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful exit, got {status}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "no longer listening");
}

#[test]
fn an_unknown_configuration_key_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tessera.toml");
    std::fs::write(&config, "[tokens]\naccess_tll = 600\n").unwrap();
    let output = tessera()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("access_tll"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let output =
        tessera().args(["serve", "--data-dir"]).arg(dir.path()).env("TESSERA_LISTEN_PORT", "1").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("TESSERA_LISTEN_PORT"));
}
