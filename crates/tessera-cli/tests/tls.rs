//! `tessera serve` with native TLS as a process: `tls.cert`/`tls.key` from the environment,
//! and SIGHUP reloading the certificate (a failed reload keeps the old one and says so).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Generous: only a hang reaches it.
const HANG: Duration = Duration::from_secs(60);

fn write_certificate(dir: &Path) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
}

/// Waits for a log line containing `needle` (stdout and stderr are both read).
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines.recv_timeout(HANG).unwrap_or_else(|_| panic!("no log line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

fn signal(pid: u32, name: &str) {
    assert!(Command::new("kill").args([name, &pid.to_string()]).status().unwrap().success());
}

#[test]
fn sighup_reloads_the_certificate_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_certificate(dir.path());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("TESSERA_MASTER_KEY")
        .env("TESSERA_LOG_LEVEL", "info")
        .env("TESSERA_TLS_CERT", dir.path().join("cert.pem"))
        .env("TESSERA_TLS_KEY", dir.path().join("key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, lines) = mpsc::channel();
    for stream in [
        Box::new(server.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(server.stderr.take().unwrap()),
    ] {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
    }
    let ready = wait_for(&lines, "tessera is ready");
    assert!(ready.contains("https://127.0.0.1"), "the default issuer is https: {ready}");

    std::fs::write(dir.path().join("key.pem"), "not a key").unwrap();
    signal(server.id(), "-HUP");
    let failed = wait_for(&lines, "reload failed");
    assert!(failed.contains("tls.key"), "{failed}");

    write_certificate(dir.path());
    signal(server.id(), "-HUP");
    wait_for(&lines, "TLS certificate reloaded");
    assert!(server.try_wait().unwrap().is_none(), "SIGHUP does not end the server");

    signal(server.id(), "-TERM");
    let status = server.wait().unwrap();
    assert!(status.success(), "{status}");
}
