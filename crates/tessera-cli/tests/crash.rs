//! A kill in the middle of load loses no acknowledged rotation (SPEC §6: "all state changes
//! that a response acknowledges are durable before the response is sent").
//!
//! The real binary runs on an ephemeral port with a fresh data folder. Sixteen refresh-token
//! chains rotate concurrently, each strictly in order on its own keep-alive connection: a new
//! token counts as acknowledged only once its `200` has arrived. After a random 0.5–2 s the
//! server gets SIGKILL with requests in flight, in the middle of a group-commit batch (the
//! writer's mean batch is checked to be above one just before). Then, with the process gone, the database is
//! opened directly: every chain's last acknowledged token must be stored. A restart on the same
//! folder must keep the keys and the account, and every last acknowledged token must refresh,
//! unless the request that was in flight at the kill had already rotated it (committed, its
//! answer lost with the process), which the store shows as `used_at`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_core::model::refresh::{RefreshStore, RefreshToken};
use tessera_store::SqliteStore;

const CHAINS: usize = 16;
const EMAIL: &str = "crash@example.com";
const PASSWORD: &str = "crash-password-1";
/// Every socket operation gives up after this, so a stuck server fails the test, never hangs it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn tessera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .env_remove("TESSERA_MASTER_KEY")
        .env("TESSERA_LOG_LEVEL", "info")
        .env("TESSERA_RATE_LIMIT_LOGIN_PER_IP", "1000");
    command
}

/// Starts `tessera serve` and waits until it logs that it is ready.
fn start(dir: &Path, port: u16) -> Child {
    let mut child = tessera()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("server exited before it was ready").unwrap();
        if line.contains("tessera is ready") {
            break;
        }
    }
    // Keep draining the log (one audit line per refresh) so the server never blocks on a pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn add_user(dir: &Path) {
    let mut add = tessera()
        .args(["user", "add", EMAIL, "--password-stdin", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(add.wait().unwrap().success());
}

/// One HTTP/1.1 keep-alive connection; responses must carry `Content-Length` (axum's do).
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(port: u16) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Connection { reader: BufReader::new(stream) })
    }

    fn request(&mut self, method: &str, path: &str, json: Option<&str>) -> std::io::Result<(u16, String)> {
        let body = json.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.reader.get_mut().write_all(request.as_bytes())?;
        let broken = |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned());
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(broken("connection closed before the status line"));
        }
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| broken("bad status line"))?;
        let mut length = None;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(broken("connection closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.ok_or_else(|| broken("no Content-Length"))?];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn post(&mut self, path: &str, json: &Value) -> (u16, Value) {
        let (status, body) = self.request("POST", path, Some(&json.to_string())).unwrap();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

/// `tessera_store_batch_size` sum over count, from the Prometheus text.
fn mean_batch_size(metrics: &str) -> f64 {
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse::<f64>().ok()))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
    };
    value("tessera_store_batch_size_sum") / value("tessera_store_batch_size_count")
}

fn refresh_body(token: &str) -> Value {
    serde_json::json!({ "refresh_token": token })
}

fn login(connection: &mut Connection) -> String {
    let (status, body) =
        connection.post("/auth/login", &serde_json::json!({ "username": EMAIL, "password": PASSWORD }));
    assert_eq!(status, 200, "{body}");
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// What one chain ended with.
#[derive(Debug)]
struct Chain {
    /// The last refresh token whose rotation was acknowledged (or the login's).
    last_acknowledged: String,
    /// Rotations acknowledged with a `200`.
    acknowledged: u64,
    /// A request had been sent and not answered when the server died: it may have rotated
    /// `last_acknowledged` without the answer ever arriving.
    in_flight: bool,
}

/// Rotates one chain, strictly in order, until the server goes away after `killing` is set.
/// Any failure before the kill, and any answer other than `200`, fails the test.
fn run_chain(port: u16, first: String, start: Arc<Barrier>, killing: Arc<AtomicBool>) -> Chain {
    let mut connection = Connection::open(port).unwrap();
    let mut chain = Chain { last_acknowledged: first, acknowledged: 0, in_flight: false };
    start.wait();
    loop {
        let body = refresh_body(&chain.last_acknowledged).to_string();
        match connection.request("POST", "/auth/refresh", Some(&body)) {
            Ok((200, body)) => {
                let body: Value = serde_json::from_str(&body).unwrap();
                chain.last_acknowledged = body["refresh_token"].as_str().unwrap().to_owned();
                chain.acknowledged += 1;
            }
            Ok((status, body)) => panic!("refresh answered {status}: {body}"),
            Err(error) => {
                assert!(killing.load(Ordering::SeqCst), "request failed before the kill: {error}");
                chain.in_flight = true;
                return chain;
            }
        }
    }
}

/// A random load duration in 0.5–2 s, from the standard library's per-process random keys.
fn load_duration() -> Duration {
    let random = RandomState::new().hash_one(0u8);
    Duration::from_millis(500 + random % 1501)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_kill_in_the_middle_of_load_loses_no_acknowledged_rotation() {
    let test_started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    add_user(dir.path());

    let mut setup = Connection::open(port).unwrap();
    let jwks_before = setup.request("GET", "/.well-known/jwks.json", None).unwrap();
    assert_eq!(jwks_before.0, 200);
    let first_tokens: Vec<String> = (0..CHAINS).map(|_| login(&mut setup)).collect();
    drop(setup);

    let killing = Arc::new(AtomicBool::new(false));
    let start_line = Arc::new(Barrier::new(CHAINS + 1));
    let chains: Vec<JoinHandle<Chain>> = first_tokens
        .into_iter()
        .map(|first| {
            let (start_line, killing) = (Arc::clone(&start_line), Arc::clone(&killing));
            std::thread::spawn(move || run_chain(port, first, start_line, killing))
        })
        .collect();
    let load = load_duration();
    start_line.wait();
    std::thread::sleep(load);
    // Group commit is at work under this load: the writer's transactions carry several
    // rotations on average, so the kill below lands in the middle of a batch.
    let (status, metrics) = Connection::open(port).unwrap().request("GET", "/metrics", None).unwrap();
    assert_eq!(status, 200);
    let batching = mean_batch_size(&metrics);
    assert!(batching > 1.0, "rotations were batched before the kill (mean batch {batching})");
    killing.store(true, Ordering::SeqCst);
    server.kill().unwrap(); // SIGKILL: no drain, no shutdown hook, no WAL checkpoint.
    let status = server.wait().unwrap();
    assert!(!status.success(), "the server was killed, not stopped: {status}");
    let chains: Vec<Chain> = chains.into_iter().map(|c| c.join().unwrap()).collect();
    let acknowledged: u64 = chains.iter().map(|c| c.acknowledged).sum();
    let in_flight = chains.iter().filter(|c| c.in_flight).count();
    assert!(chains.iter().all(|c| c.acknowledged > 0), "every chain rotated under load: {chains:?}");

    // The process is gone: what the database holds is what a restart will see.
    let store_path = dir.path().join("tessera.db");
    let used_at_kill: Vec<bool> = runtime().block_on(async {
        let store = SqliteStore::open(&store_path).await.unwrap();
        let mut used = Vec::new();
        for (index, chain) in chains.iter().enumerate() {
            let hash = RefreshToken::parse(&chain.last_acknowledged).unwrap().hash();
            let stored = store.refresh_token(&hash).await.unwrap();
            let (family, record) = stored.unwrap_or_else(|| {
                panic!("chain {index}: acknowledged rotation lost ({} acknowledged)", chain.acknowledged)
            });
            assert!(family.revoked_at.is_none(), "chain {index}: family revoked");
            // Only the request in flight at the kill can have used the last acknowledged token.
            assert!(
                record.used_at.is_none() || chain.in_flight,
                "chain {index}: last acknowledged token used, yet no request was in flight"
            );
            used.push(record.used_at.is_some());
        }
        store.close().await;
        used
    });
    let committed_unacknowledged = used_at_kill.iter().filter(|used| **used).count();

    let port = free_port();
    let mut server = start(dir.path(), port);
    let mut connection = Connection::open(port).unwrap();
    let jwks_after = connection.request("GET", "/.well-known/jwks.json", None).unwrap();
    assert_eq!(jwks_before, jwks_after, "same signing keys after the kill");
    login(&mut connection);
    for (index, (chain, used)) in chains.iter().zip(&used_at_kill).enumerate() {
        let (status, body) = connection.post("/auth/refresh", &refresh_body(&chain.last_acknowledged));
        if *used {
            // Rotated by the lost request: presenting it again is a reuse (RFC 9700 §4.14.2).
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "chain {index}");
        } else {
            assert_eq!(status, 200, "chain {index}: the last acknowledged token refreshes: {body}");
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    println!(
        "{CHAINS} chains, load {load:?}, mean batch {batching:.1}: {acknowledged} rotations acknowledged, {in_flight} chains with a \
         request in flight at the kill, {committed_unacknowledged} of those already rotated (committed, \
         answer lost); test took {:?}",
        test_started.elapsed()
    );
}
