//! A real server on an ephemeral port with a fresh database, for tests over HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod browser;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use std::sync::Arc;
use tessera_core::flows::client_authentication::{NewClient, register_client};
use tessera_core::model::audit::MemoryAuditSink;
use tessera_core::model::client::GrantType;
use tessera_core::random::SystemRandom;

use tessera_core::clock::{Clock, SystemClock};
use tessera_server::app::prepare_with_clock;
use tessera_server::config::Config;
use tessera_server::state::AppState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub data_dir: PathBuf,
    /// The native-TLS certificate when `tls.*` is configured (tests reload it).
    pub tls: Option<std::sync::Arc<tessera_server::tls::TlsCertificate>>,
    _temp: Option<tempfile::TempDir>,
}

pub fn config(data_dir: &Path) -> Config {
    let mut config = Config::load(None, Vec::new()).unwrap();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.data_dir = data_dir.to_owned();
    config
}

impl TestServer {
    pub async fn start() -> TestServer {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_owned();
        let mut server = TestServer::start_with(config(&dir)).await;
        server._temp = Some(temp);
        server
    }

    /// Starts on `config`; the issuer follows the bound port unless configured.
    pub async fn start_with(config: Config) -> TestServer {
        TestServer::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Starts on `config` with `clock` as the server's time.
    pub async fn start_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> TestServer {
        // Bind first to learn the port, then make it the issuer, as `--listen` does.
        let probe = std::net::TcpListener::bind(config.listen).unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        config.listen = addr;
        let data_dir = config.data_dir.clone();
        let scheme = if config.tls.enabled() { "https" } else { "http" };
        let prepared = prepare_with_clock(config, None, clock).await.unwrap();
        let state = prepared.state().clone();
        let tls = prepared.tls();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            prepared
                .serve(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            base: format!("{scheme}://{addr}"),
            addr,
            state,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            data_dir,
            tls,
            _temp: None,
        }
    }

    /// Keeps `temp` (the data folder) alive as long as the server.
    pub fn keep_temp(&mut self, temp: tempfile::TempDir) {
        self._temp = Some(temp);
    }

    /// Stops gracefully and waits; keeps the data folder for a restart.
    pub async fn stop(mut self) -> (PathBuf, Option<tempfile::TempDir>) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        (self.data_dir.clone(), self._temp.take())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn add_user(&self, email: &str, password: &str) -> String {
        let account = tessera_core::flows::account_admin::add_account(
            &*self.state.store,
            &MemoryAuditSink::default(),
            &SystemRandom::new(),
            email,
            Some("Test User".into()),
            Some(password),
            self.state.now(),
        )
        .await
        .unwrap();
        account.id.as_str().to_owned()
    }

    /// A confidential client; returns its secret.
    pub async fn add_client(
        &self,
        client_id: &str,
        grants: &[GrantType],
        scopes: &[&str],
        audiences: &[&str],
    ) -> String {
        let request = NewClient {
            client_id: client_id.into(),
            confidential: true,
            grant_types: grants.to_vec(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audiences: audiences.iter().map(|s| s.to_string()).collect(),
            ..NewClient::default()
        };
        let (_, secret) =
            register_client(&*self.state.store, &SystemRandom::new(), &self.state.pepper, request, self.state.now())
                .await
                .unwrap();
        secret.unwrap().expose().to_owned()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
        let response = self.http.post(self.url(path)).json(&body).send().await.unwrap();
        split(response).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        split(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        split(request.send().await.unwrap()).await
    }

    /// Logs in through the JSON API; returns the token response.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let (status, body, _) =
            self.post_json("/auth/login", serde_json::json!({"username": email, "password": password})).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

pub async fn split(response: reqwest::Response) -> (u16, Value, reqwest::header::HeaderMap) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body, headers)
}

/// The claims of a JWT, unverified (tests check what the server put in).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&tessera_jose::base64url::decode(payload).unwrap()).unwrap()
}

pub fn header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&tessera_jose::base64url::decode(header).unwrap()).unwrap()
}
