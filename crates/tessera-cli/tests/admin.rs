//! The admin commands, run as the real `tessera` binary against a fresh data folder, with
//! `TESSERA_MASTER_KEY` unset so that the master key file is created as at a first start.
//! What the commands wrote is checked through the store itself where output cannot show it
//! (the password hash, the secret's hash).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tessera_core::flows::client_authentication::authenticate_client;
use tessera_core::keys::master_key::MasterKey;
use tessera_core::model::account::{AccountStore, Email};
use tessera_core::model::client::ClientId;
use tessera_core::secrets::client_secret::ClientSecret;
use tessera_core::secrets::password::verify_password;
use tessera_store::SqliteStore;

const PASSWORD: &str = "correct horse battery";

/// One run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// A failure: exit code 2 and one line on standard error.
    fn usage_error(self) -> String {
        assert_eq!(self.code, 2, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert_eq!(self.stderr.lines().count(), 1, "one line: {}", self.stderr);
        assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
        self.stderr
    }
}

/// A fresh data folder inside a temporary directory; it does not exist until a command runs.
struct Data {
    _temp: tempfile::TempDir,
    dir: PathBuf,
}

impl Data {
    fn new() -> Data {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("data");
        Data { _temp: temp, dir }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(args, Some(stdin), &[])
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let output = self.spawn(args, stdin, env).wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn spawn(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command.args(args).arg("--data-dir").arg(&self.dir).current_dir(self.dir.parent().unwrap());
        // Only what the test sets: no master key, no configuration from the caller's shell.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TESSERA_")) {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        drop(pipe);
        child
    }

    /// Opens the store as the server would, for checks that output cannot show.
    fn inspect<T>(&self, check: impl AsyncFnOnce(&SqliteStore, &MasterKey) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = SqliteStore::open(&self.dir.join("tessera.db")).await.unwrap();
            let master = std::fs::read_to_string(self.dir.join("master.key")).unwrap();
            let master = MasterKey::from_base64url(&master).unwrap();
            let result = check(&store, &master).await;
            store.close().await;
            result
        })
    }

    fn password_matches(&self, email: &str, password: &str) -> bool {
        self.inspect(async |store, _| {
            let account = store.account_by_email(&Email::parse(email).unwrap()).await.unwrap().unwrap();
            verify_password(password, account.password_hash.as_ref())
        })
    }

    fn keys(&self) -> Vec<Value> {
        let list = self.run(&["keys", "list", "--json"]).ok().json();
        list.as_array().unwrap().clone()
    }
}

fn with_state<'a>(keys: &'a [Value], alg: &str, state: &str) -> Vec<&'a Value> {
    keys.iter().filter(|k| k["alg"] == alg && k["state"] == state).collect()
}

#[test]
fn a_first_command_creates_the_master_key_file_with_mode_0600_and_the_keys() {
    let data = Data::new();
    let run = data.run(&["keys", "list"]).ok();
    assert!(run.stderr.contains("created a new data folder"), "{}", run.stderr);
    let master = data.dir.join("master.key");
    assert!(master.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&master).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let keys = data.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(with_state(&keys, "ES256", "active").len(), 1);
    assert_eq!(with_state(&keys, "RS256", "active").len(), 1);
    for key in &keys {
        assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        assert!(key.get("private_key").is_none() && !key.to_string().contains("\"d\""));
    }
    assert!(!data.run(&["keys", "list"]).ok().stderr.contains("new data folder"), "only the first time");
    let clients = data.run(&["client", "list", "--json"]).ok().json();
    assert_eq!(clients[0]["client_id"], "tessera", "the first-party client exists from the start");
}

#[test]
fn users_are_added_listed_disabled_and_given_passwords() {
    let data = Data::new();
    // No trailing newline.
    let added = data
        .run_stdin(&["user", "add", "Alice@Example.com", "--name", "Alice", "--password-stdin", "--json"], PASSWORD);
    let added = added.ok().json();
    assert_eq!(added["email"], "alice@example.com");
    assert_eq!(added["has_password"], true);
    assert!(data.password_matches("alice@example.com", PASSWORD));
    // CRLF line ending, and an account without a password.
    data.run_stdin(&["user", "add", "carol@example.com", "--password-stdin"], &format!("{PASSWORD}\r\n")).ok();
    assert!(data.password_matches("carol@example.com", PASSWORD));
    assert!(!data.password_matches("carol@example.com", &format!("{PASSWORD}\r")));
    let bob = data.run(&["user", "add", "bob@example.com", "--json"]).ok().json();
    assert_eq!(bob["has_password"], false);

    let list = data.run(&["user", "list", "--json"]).ok();
    let accounts = list.json();
    let emails: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com", "carol@example.com"]);
    assert_eq!(accounts[0]["name"], "Alice");
    for text in [&list.stdout, &data.run(&["user", "list"]).ok().stdout] {
        assert!(text.contains("alice@example.com"));
        assert!(!text.contains("argon2") && !text.contains("hash") && !text.contains(PASSWORD), "{text}");
    }

    let duplicate = data.run(&["user", "add", "ALICE@example.com"]).usage_error();
    assert!(duplicate.contains("alice@example.com") && duplicate.contains("already exists"), "{duplicate}");

    let disabled = data.run(&["user", "disable", "alice@example.com", "--json"]).ok().json();
    assert_eq!(disabled["disabled"], true);
    assert!(disabled["access_tokens_revoked_until"].as_i64().unwrap() > disabled["updated_at"].as_i64().unwrap());
    let accounts = data.run(&["user", "list", "--json"]).ok().json();
    assert_eq!(accounts[0]["disabled"], true);
    assert_eq!(accounts[1]["disabled"], false);
    assert!(data.run(&["user", "disable", "nobody@example.com"]).usage_error().contains("nobody@example.com"));

    let new_password = "a much longer passphrase";
    let changed = data
        .run_stdin(&["user", "passwd", "bob@example.com", "--password-stdin", "--json"], &format!("{new_password}\n"));
    assert_eq!(changed.ok().json()["password_set"], true);
    assert!(data.password_matches("bob@example.com", new_password));
    assert!(
        data.run_stdin(&["user", "passwd", "nobody@example.com", "--password-stdin"], PASSWORD)
            .usage_error()
            .contains("nobody")
    );
    assert!(data.run(&["user", "passwd", "bob@example.com"]).usage_error().contains("--password-stdin"));
    assert!(
        data.run_stdin(&["user", "passwd", "bob@example.com", "--password-stdin"], "short\n")
            .usage_error()
            .contains("password")
    );
    assert!(
        data.run_stdin(&["user", "add", "dan@example.com", "--password-stdin"], "")
            .usage_error()
            .contains("standard input")
    );
}

#[test]
fn profile_claims_are_set_at_add_and_changed_by_update() {
    let data = Data::new();
    let args = [
        "user",
        "add",
        "carol@example.com",
        "--name",
        "Carol",
        "--given-name",
        "Carol",
        "--birthdate",
        "1990-02-03",
        "--locality",
        "Lyon",
        "--country",
        "FR",
        "--phone",
        "+33123456789",
        "--json",
    ];
    let added = data.run(&args).ok().json();
    assert_eq!(added["given_name"], "Carol");
    assert_eq!(added["address"]["locality"], "Lyon");
    let updated = data
        .run(&["user", "update", "carol@example.com", "--family-name", "Martin", "--locality", "Paris", "--json"])
        .ok()
        .json();
    assert_eq!((updated["given_name"].as_str(), updated["family_name"].as_str()), (Some("Carol"), Some("Martin")));
    assert_eq!(updated["address"]["locality"], "Paris");
    assert_eq!(updated["address"]["country"], "FR", "only what is given changes");
    assert_eq!(updated["name"], "Carol");
    let bad = data.run(&["user", "update", "carol@example.com", "--birthdate", "soon"]).usage_error();
    assert!(bad.contains("birthdate"), "{bad}");
    let none = data.run(&["user", "add", "dan@example.com", "--website", "ftp://x"]).usage_error();
    assert!(none.contains("website"), "{none}");
    assert!(data.run(&["user", "list", "--json"]).ok().json().as_array().unwrap().len() == 1, "nothing half-made");
}

#[test]
fn a_client_is_updated_option_by_option_and_shown() {
    let data = Data::new();
    let added = data
        .run(&[
            "client",
            "add",
            "web",
            "--confidential",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://web.example/cb",
            "--scope",
            "openid",
            "--json",
        ])
        .ok()
        .json();
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    let updated = data
        .run(&[
            "client",
            "update",
            "web",
            "--name",
            "Web",
            "--first-party",
            "--allowed-origin",
            "https://web.example",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!((updated["name"].as_str(), updated["first_party"].as_bool()), (Some("Web"), Some(true)));
    assert_eq!(updated["redirect_uris"][0], "https://web.example/cb", "what is not given stays");
    let shown = data.run(&["client", "show", "web", "--json"]).ok().json();
    assert_eq!(shown["allowed_origins"][0], "https://web.example");
    assert!(shown.get("client_secret").is_none() && !shown.to_string().contains(&secret), "never the secret");
    let off = data.run(&["client", "update", "web", "--first-party", "false", "--json"]).ok().json();
    assert_eq!(off["first_party"], false);
    let bad = data.run(&["client", "update", "web", "--id-token-alg", "HS256"]).usage_error();
    assert!(bad.contains("id_token_alg"), "{bad}");
    let missing = data.run(&["client", "update", "nobody", "--name", "x"]).usage_error();
    assert!(missing.contains("nobody"), "{missing}");
    let human = data.run(&["client", "show", "web"]).ok().stdout;
    assert!(human.contains("first party: false") && human.contains("redirect URIs: https://web.example/cb"), "{human}");
}

#[test]
fn a_client_secret_is_shown_once_and_never_listed() {
    let data = Data::new();
    let added = data.run(&[
        "client",
        "add",
        "orders",
        "--confidential",
        "--scope",
        "orders:read",
        "--audience",
        "https://api.example",
        "--access-ttl",
        "10m",
        "--json",
    ]);
    let added = added.ok().json();
    assert_eq!(added["client_id"], "orders");
    assert_eq!(added["client_type"], "confidential");
    assert_eq!(added["grant_types"], serde_json::json!(["client_credentials"]));
    assert_eq!(added["access_ttl"], 600);
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{secret}");
    let authenticates = data.inspect(async |store, master| {
        let pepper = master.client_secret_pepper().unwrap();
        let presented = ClientSecret::new(secret.clone());
        authenticate_client(store, &pepper, &ClientId::new("orders"), Some(&presented)).await.is_ok()
    });
    assert!(authenticates, "the printed secret is the registered one");

    let human = data.run(&["client", "add", "billing", "--confidential"]).ok().stdout;
    assert!(human.contains("client_secret: ") && human.contains("will NOT be shown again"), "{human}");

    let public = data.run(&["client", "add", "mobile", "--public", "--redirect-uri", "com.example.app:/cb", "--json"]);
    let public = public.ok().json();
    assert_eq!(public["client_secret"], Value::Null);
    assert_eq!(public["grant_types"], serde_json::json!(["authorization_code", "refresh_token"]));

    for args in [&["client", "list"][..], &["client", "list", "--json"]] {
        let list = data.run(args).ok().stdout;
        assert!(list.contains("orders") && list.contains("billing") && list.contains("mobile"), "{list}");
        assert!(!list.contains(&secret) && !list.contains("secret"), "{list}");
    }
    let ids: Vec<String> = data
        .run(&["client", "list", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["billing", "mobile", "orders", "tessera"]);

    let error = data.run(&["client", "add", "x", "--public", "--grant", "implicit"]).usage_error();
    assert!(error.contains("implicit"), "{error}");
    assert!(
        data.run(&["client", "add", "x", "--public", "--grant", "client_credentials"]).usage_error().contains("public")
    );
    assert!(data.run(&["client", "add", "x"]).usage_error().contains("--confidential"));
    assert!(data.run(&["client", "add", "orders", "--public"]).usage_error().contains("client orders already exists"));

    let removed = data.run(&["client", "remove", "orders", "--json"]).ok().json();
    assert_eq!(removed["removed"], true);
    assert!(!data.run(&["client", "list"]).ok().stdout.contains("orders"));
    assert!(data.run(&["client", "remove", "orders"]).usage_error().contains("orders"));
    assert!(data.run(&["client", "remove", "tessera"]).usage_error().contains("first-party"));
}

#[test]
fn a_rotation_prepublishes_the_next_key_of_every_configured_algorithm() {
    let data = Data::new();
    let rotated = data.run(&["keys", "rotate", "--json"]).ok().json();
    assert_eq!(rotated["rotated"].as_array().unwrap().len(), 2);
    assert_eq!(rotated["retired"], serde_json::json!([]));
    let keys = data.keys();
    for alg in ["ES256", "RS256"] {
        assert_eq!(with_state(&keys, alg, "active").len(), 1, "{alg} still signs with its key");
        let next = with_state(&keys, alg, "next");
        assert_eq!(next.len(), 1, "{alg}");
        let (not_before, created) = (next[0]["not_before"].as_i64().unwrap(), next[0]["created_at"].as_i64().unwrap());
        assert_eq!(not_before - created, 86_400, "keys.prepublish defaults to one day");
    }
    let human = data.run(&["keys", "rotate", "--alg", "ES256"]).usage_error();
    assert!(human.contains("already waiting"), "{human}");
    assert!(data.run(&["keys", "rotate", "--alg", "HS256"]).usage_error().contains("HS256"));
}

#[test]
fn a_rotation_now_activates_the_new_key_and_retires_the_old_one() {
    let data = Data::new();
    let before = data.keys();
    let old_es256 = with_state(&before, "ES256", "active")[0]["kid"].clone();
    let run = data.run(&["keys", "rotate", "--alg", "ES256", "--now"]).ok();
    assert!(run.stdout.contains("is active now") && run.stdout.contains("retired"), "{}", run.stdout);
    assert!(run.stderr.contains("warning:") && run.stderr.contains("cache"), "{}", run.stderr);
    let keys = data.keys();
    let active = with_state(&keys, "ES256", "active");
    assert_eq!(active.len(), 1);
    assert_ne!(active[0]["kid"], old_es256);
    let retired = with_state(&keys, "ES256", "retired");
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0]["kid"], old_es256);
    let retire_after = retired[0]["retire_after"].as_i64().unwrap();
    assert_eq!(retire_after - active[0]["created_at"].as_i64().unwrap(), 900 + 300, "longest access token plus leeway");
    assert!(with_state(&keys, "RS256", "retired").is_empty(), "only the algorithm asked for");
    assert!(with_state(&keys, "ES256", "next").is_empty() && with_state(&keys, "RS256", "next").is_empty());
}

#[test]
fn the_audit_tail_shows_what_changed_and_no_secret() {
    let data = Data::new();
    data.run_stdin(&["user", "add", "alice@example.com", "--password-stdin"], PASSWORD).ok();
    let secret = data.run(&["client", "add", "svc", "--confidential", "--json"]).ok().json()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    data.run(&["keys", "rotate"]).ok();
    data.run(&["user", "disable", "alice@example.com"]).ok();
    data.run(&["client", "remove", "svc"]).ok();

    let human = data.run(&["audit", "tail"]).ok().stdout;
    let json = data.run(&["audit", "tail", "--json"]).ok();
    for text in [&human, &json.stdout] {
        for kind in
            ["account.created", "client.registered", "signing_key.rotated", "account.disabled", "client.removed"]
        {
            assert!(text.contains(kind), "{kind} missing: {text}");
        }
        assert!(!text.contains(&secret), "the client secret leaked: {text}");
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    }
    let events = json.json();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1 + 1 + 2 + 1 + 1);
    assert!(events.windows(2).all(|pair| pair[0]["seq"].as_i64() < pair[1]["seq"].as_i64()), "oldest first");
    let limited = data.run(&["audit", "tail", "--limit", "2", "--json"]).ok().json();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    assert_eq!(limited[1]["kind"], "client.removed", "the newest ones");
    assert!(data.run(&["audit", "tail", "--limit", "0"]).usage_error().contains("--limit"));
}

#[test]
fn configuration_comes_from_the_file_the_environment_and_data_dir() {
    let data = Data::new();
    let config = data.dir.parent().unwrap().join("tessera.toml");
    let elsewhere = data.dir.parent().unwrap().join("configured-data");
    std::fs::write(&config, format!("data_dir = {:?}\n[keys]\nprepublish = \"1h\"\n", elsewhere.display().to_string()))
        .unwrap();
    let path = config.to_str().unwrap();
    let rotated = data.run_with(&["keys", "rotate", "--alg", "ES256", "--json"], None, &[("TESSERA_CONFIG", path)]);
    let key = &rotated.ok().json()["rotated"][0];
    assert_eq!(key["not_before"].as_i64().unwrap() - key["created_at"].as_i64().unwrap(), 3600);
    assert!(data.dir.join("master.key").is_file(), "--data-dir wins over data_dir");
    assert!(!elsewhere.exists());

    let env = [("TESSERA_TOKENS_ACCESS_TTL", "120")];
    data.run(&["user", "add", "eve@example.com"]).ok();
    let disabled =
        data.run_with(&["user", "disable", "eve@example.com", "--json", "--config", path], None, &env).ok().json();
    let window = disabled["access_tokens_revoked_until"].as_i64().unwrap() - disabled["updated_at"].as_i64().unwrap();
    assert_eq!(window, 120, "TESSERA_TOKENS_ACCESS_TTL applies on top of the file");
}

#[test]
fn an_unknown_tessera_variable_stops_the_command_before_it_touches_anything() {
    let data = Data::new();
    let error = data.run_with(&["user", "list"], None, &[("TESSERA_TOKENS_ACESS_TTL", "60"), ("TESSERA_NOPE", "1")]);
    let error = error.usage_error();
    assert!(error.contains("TESSERA_"), "{error}");
    assert!(!data.dir.exists(), "no data folder was created");
    let error = data.run_with(&["keys", "list"], None, &[("TESSERA_NOPE", "1")]).usage_error();
    assert!(error.contains("TESSERA_NOPE"), "{error}");
}

#[test]
fn every_admin_command_answers_json() {
    let data = Data::new();
    let runs = [
        data.run_stdin(&["user", "add", "json@example.com", "--password-stdin", "--json"], PASSWORD),
        data.run(&["user", "list", "--json"]),
        data.run(&["user", "disable", "json@example.com", "--json"]),
        data.run_stdin(&["user", "passwd", "json@example.com", "--password-stdin", "--json"], PASSWORD),
        data.run(&["client", "add", "j", "--public", "--json"]),
        data.run(&["client", "list", "--json"]),
        data.run(&["client", "remove", "j", "--json"]),
        data.run(&["keys", "list", "--json"]),
        data.run(&["keys", "rotate", "--json"]),
        data.run(&["keys", "rotate", "--now", "--json"]),
        data.run(&["audit", "tail", "--json"]),
        data.run(&["user", "--json", "list"]),
    ];
    for (index, run) in runs.into_iter().enumerate() {
        let value = run.ok().json();
        let is_list = [1, 5, 7, 10, 11].contains(&index);
        assert_eq!(value.is_array(), is_list, "command {index}: {value}");
        assert_eq!(value.is_object(), !is_list, "command {index}: {value}");
    }
}

/// A server on an ephemeral port over `data`'s folder, in this process; stopped on drop.
struct RunningServer {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    fn start(data: &Data) -> RunningServer {
        let mut config = tessera_server::config::Config::load(None, Vec::new()).unwrap();
        config.listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        config.data_dir.clone_from(&data.dir);
        let addr = config.listen;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let prepared = tessera_server::app::prepare(config, None).await.unwrap();
                ready.send(()).unwrap();
                prepared.serve(async move { stopped.await.unwrap_or_default() }).await.unwrap();
            });
        });
        is_ready.recv().unwrap();
        RunningServer { addr, stop: Some(stop), thread: Some(thread) }
    }

    /// POSTs a body with `Connection: close`; the status and the JSON answer, if any.
    fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(self.addr).unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response.split(' ').nth(1).unwrap().parse().unwrap();
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn login(&self, email: &str, password: &str) -> u16 {
        let body = serde_json::json!({ "username": email, "password": password }).to_string();
        self.post("/auth/login", "application/json", &body).0
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn commands_change_the_database_of_a_running_server() {
    let data = Data::new();
    let server = RunningServer::start(&data);

    data.run_stdin(&["user", "add", "live@example.com", "--password-stdin"], &format!("{PASSWORD}\r\n")).ok();
    assert_eq!(server.login("live@example.com", PASSWORD), 200, "the server sees the new account at once");

    let added = data.run(&["client", "add", "worker", "--confidential", "--scope", "jobs", "--json"]).ok().json();
    let secret = added["client_secret"].as_str().unwrap();
    let form = format!("grant_type=client_credentials&client_id=worker&client_secret={secret}");
    let (status, token) = server.post("/oauth/token", "application/x-www-form-urlencoded", &form);
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["scope"], "jobs");

    data.run(&["user", "disable", "live@example.com"]).ok();
    assert_ne!(server.login("live@example.com", PASSWORD), 200, "a disabled account cannot log in");
    data.run(&["client", "remove", "worker"]).ok();
    // The server reads clients through a cache: a removal by another process reaches it
    // within CLIENT_CACHE_TTL (the margin covers a slow machine, not the cache).
    let removed_at = std::time::Instant::now();
    let bound = tessera_server::client_cache::CLIENT_CACHE_TTL + std::time::Duration::from_secs(2);
    while server.post("/oauth/token", "application/x-www-form-urlencoded", &form).0 != 401 {
        assert!(removed_at.elapsed() < bound, "a removed client still authenticates after {bound:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn concurrent_commands_all_land() {
    let data = Data::new();
    data.run(&["user", "list"]).ok();
    let children: Vec<Child> = (0..4)
        .flat_map(|n| {
            let email = format!("user{n}@example.com");
            let client = format!("client{n}");
            [
                data.spawn(&["user", "add", &email, "--password-stdin"], Some(PASSWORD), &[]),
                data.spawn(&["client", "add", &client, "--confidential"], None, &[]),
            ]
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(data.run(&["user", "list", "--json"]).ok().json().as_array().unwrap().len(), 4);
    assert_eq!(data.run(&["client", "list", "--json"]).ok().json().as_array().unwrap().len(), 4 + 1);
    assert_eq!(data.run(&["audit", "tail", "--json"]).ok().json().as_array().unwrap().len(), 8);
}

#[test]
fn keys_revoke_withdraws_a_key_at_once_and_says_when_a_server_sees_it() {
    let data = Data::new();
    let keys = data.keys();
    let active = with_state(&keys, "ES256", "active")[0]["kid"].as_str().unwrap().to_owned();
    let run = data.run(&["keys", "revoke", &active]).ok();
    assert!(run.stdout.contains(&format!("ES256 key {active} is revoked")), "{}", run.stdout);
    assert!(run.stdout.contains("signs in its place (a new key)"), "{}", run.stdout);
    assert!(run.stderr.contains("next key reload, within 30 s"), "{}", run.stderr);
    let keys = data.keys();
    let revoked = keys.iter().find(|k| k["kid"] == active.as_str()).unwrap();
    assert_eq!(revoked["state"], "revoked");
    let successor = with_state(&keys, "ES256", "active");
    assert_eq!(successor.len(), 1);
    assert_ne!(successor[0]["kid"], active.as_str());

    let again = data.run(&["keys", "revoke", &active]).usage_error();
    assert!(again.contains("already revoked"), "{again}");
    let unknown = data.run(&["keys", "revoke", "no-such-kid"]).usage_error();
    assert!(unknown.contains("no signing key has kid no-such-kid"), "{unknown}");

    // A pending next key takes over instead of a new one.
    data.run(&["keys", "rotate", "--alg", "RS256"]).ok();
    let keys = data.keys();
    let (rsa_active, rsa_next) = (with_state(&keys, "RS256", "active")[0], with_state(&keys, "RS256", "next")[0]);
    let run = data.run(&["keys", "revoke", rsa_active["kid"].as_str().unwrap(), "--json"]).ok();
    let done = run.json();
    assert_eq!((done["activated"].clone(), done["created"].clone()), (rsa_next["kid"].clone(), Value::Bool(false)));
    assert_eq!(done["server_reload_within"], 30);
    let audit = data.run(&["audit", "tail", "--json"]).ok().json();
    let revoked: Vec<&Value> =
        audit.as_array().unwrap().iter().filter(|e| e["kind"] == "signing_key.revoked").collect();
    assert_eq!(revoked.len(), 2, "{audit}");
    assert_eq!(revoked[0]["details"]["kid"], active.as_str());
}

#[test]
fn an_unimplemented_key_stops_an_admin_command_naming_it() {
    let data = Data::new();
    let error = data.run_with(&["user", "list"], None, &[("TESSERA_REDIS_URL", "redis://127.0.0.1")]).usage_error();
    assert!(error.contains("redis.url") && error.contains("not implemented"), "{error}");
    assert!(!data.dir.exists(), "nothing was created");
}

#[test]
fn the_demo_warns_that_its_password_is_public_and_user_remove_removes_the_account() {
    let data = Data::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = data.spawn(&["serve", "--demo", "--listen", &listen], None, &[("TESSERA_LOG_LEVEL", "info")]);
    let mut printed = String::new();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("tessera is ready") {
            break;
        }
        printed.push_str(&line);
        printed.push('\n');
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(printed.contains("password is published"), "{printed}");
    assert!(printed.contains("tessera user remove demo@tessera.test"), "{printed}");
    // The printed browser flow works as printed: the authorization URL, a sign-in as the demo
    // user, consent, and the printed token request with the code from the redirect.
    let authorize = printed.lines().map(str::trim).find(|l| l.contains("/oauth/authorize?")).unwrap().to_owned();
    let exchange = printed.lines().skip_while(|l| !l.contains("grant_type=authorization_code")).take(2);
    let exchange: String = exchange.map(|l| l.trim_end_matches('\\').to_owned()).collect::<Vec<_>>().join(" ");
    let script = r#"
        set -eu; jar=$(mktemp); form() { grep -o "name=\"$1\" value=\"[^\"]*\"" | head -1 | sed 's/.*value="//;s/"$//'; }
        page=$(curl -sf -c "$jar" -b "$jar" -L "$AUTHORIZE")
        action=$(printf '%s' "$page" | grep -o 'action="[^"]*"' | sed 's/action="//;s/"$//;s|&#x2f;|/|g')
        csrf=$(printf '%s' "$page" | form csrf)
        next=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" \
          --data-urlencode email=demo@tessera.test --data-urlencode password=tessera-demo-password "$BASE$action")
        page=$(curl -sf -c "$jar" -b "$jar" "$next")
        action=$(printf '%s' "$page" | grep -o 'action="[^"]*"' | sed 's/action="//;s/"$//;s|&#x2f;|/|g')
        csrf=$(printf '%s' "$page" | form csrf)
        callback=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -d "csrf=$csrf" -d decision=allow "$BASE$action")
        CODE=$(printf '%s' "$callback" | sed 's/.*code=\([^&]*\).*/\1/')
        eval "$EXCHANGE"
    "#;
    let run = Command::new("bash")
        .args(["-c", script])
        .env("AUTHORIZE", &authorize)
        .env("EXCHANGE", &exchange)
        .env("BASE", format!("http://{listen}"))
        .output()
        .unwrap();
    let tokens: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|_| {
        panic!("{}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr))
    });
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    assert!(server.wait().unwrap().success());

    let removed = data.run(&["user", "remove", "demo@tessera.test", "--json"]).ok().json();
    assert_eq!(removed["removed"], true);
    let users = data.run(&["user", "list", "--json"]).ok().json();
    assert!(!users.to_string().contains("demo@tessera.test"), "{users}");
    let again = data.run(&["user", "remove", "demo@tessera.test"]).usage_error();
    assert!(again.contains("no account with e-mail demo@tessera.test"), "{again}");
    let audit = data.run(&["audit", "tail", "--json"]).ok().json();
    assert!(audit.to_string().contains("account.removed"), "{audit}");
}
