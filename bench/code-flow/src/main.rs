//! Load generator for Tessera's browser flows (`bench/code-flow.sh` runs it).
//!
//! - `flows`: each of N workers is one browser and one relying party. It logs in once through
//!   the login page (authorize → `/interaction/{id}` → the form with its CSRF token), keeping
//!   the `tessera_session` and `tessera_interaction` cookies, then loops over complete flows:
//!   `GET /oauth/authorize` with the session (`303` to the redirect URI with a code) →
//!   `POST /oauth/token` with the code and the PKCE verifier (`200` with an RS256 ID token,
//!   an ES256 access token and a refresh token). A flow's latency is from the authorization
//!   request to the last byte of the token response.
//! - `pages`: each worker starts one interaction (authorize without a session → `303
//!   /interaction/{id}`) and then renders its login page again and again.
//! - `visits`: each iteration is a new sign-in as a browser without a session starts it:
//!   authorize (an interaction stored) and the login page.
//!
//! Every response is checked (status, `Location`, `state`, `iss`, the form and its CSRF field,
//! the three tokens and their algorithms; signatures and claims on the first flows of every
//! worker). Prints one JSON line; exits 1 if anything failed, naming what.
//!
//! Every browser connects from its own loopback address (127.0.0.2, 127.0.0.3, … when the
//! server is on 127.0.0.1), as fifty browsers would, so the per-address login limit counts
//! each once. Plain HTTP only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Parser, ValueEnum};
use hyper::header::HeaderValue;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

mod cpu;
mod failure;
mod flow;
mod http;
mod report;
mod verify;

use cpu::CpuTimes;
use failure::Failure;
use flow::{Attempt, CodeFlow, RelyingParty, login_page, start_interaction};
use http::{Browser, Connection};
use report::{Record, micros};
use verify::TokenCheck;

/// Workers set up at once: logins are Argon2id checks, and the server answers `503` beyond
/// its queue of waiting checks (`http.password_queue`, 64).
const SETUPS_AT_ONCE: usize = 16;

/// A worker gives up after this many failures in a row (the server is down, say), so that a
/// broken run ends instead of spinning.
const GIVE_UP_AFTER: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Complete authorization-code flows with an existing session.
    Flows,
    /// Renders of the login page of a pending interaction.
    Pages,
    /// New sign-ins: authorize without a session, then the login page.
    Visits,
}

#[derive(Debug, Parser)]
#[command(about = "Load generator for the browser flows of tessera serve")]
struct Args {
    /// What to measure.
    #[arg(value_enum)]
    mode: Mode,
    /// The server, `http://HOST:PORT` (its issuer).
    #[arg(long)]
    base: String,
    /// The client (first party, so that no consent page comes between).
    #[arg(long, default_value = "bench")]
    client_id: String,
    /// The client's secret (`flows`).
    #[arg(long, default_value = "")]
    client_secret: String,
    /// The client's registered redirect URI.
    #[arg(long, default_value = "https://rp.example/cb")]
    redirect_uri: String,
    /// The scope requested.
    #[arg(long, default_value = "openid email")]
    scope: String,
    /// The user's e-mail address (`flows`).
    #[arg(long, default_value = "")]
    email: String,
    /// The user's password (`flows`).
    #[arg(long, default_value = "")]
    password: String,
    /// The algorithm ID tokens must carry (the client's `--id-token-alg`).
    #[arg(long, default_value = "RS256")]
    id_token_alg: String,
    /// Concurrent workers (browsers), each with one request in flight at a time.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// How long to measure, seconds (after every worker's setup).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Flows per worker whose tokens are fully verified (`flows`), after its login's.
    #[arg(long, default_value_t = 1)]
    verify: u64,
    /// Runtime threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// The server's process id, to report its CPU time during the measurement (Linux).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Connect every browser from the system's default address instead of one each.
    #[arg(long)]
    same_source: bool,
}

/// What every worker shares.
struct Shared {
    party: RelyingParty,
    target: SocketAddr,
    host: HeaderValue,
    spread_sources: bool,
    verify: u64,
}

impl Shared {
    /// Browser `worker`'s connection: from its own loopback address when the server is on
    /// 127.0.0.1 (127.0.0.2 for worker 0, and so on).
    fn browser_connection(&self, worker: usize) -> Connection {
        let source = match self.target.ip() {
            IpAddr::V4(ip) if self.spread_sources && ip == Ipv4Addr::LOCALHOST => {
                let offset = u32::try_from(worker).unwrap_or(0).wrapping_add(2);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::LOCALHOST) - 1 + offset)))
            }
            _ => None,
        };
        Connection::new(self.target, source, self.host.clone())
    }

    /// The relying party's connection to the token endpoint (from the default address).
    fn back_channel(&self) -> Connection {
        Connection::new(self.target, None, self.host.clone())
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("code-flow: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(record_ok) => record_ok,
        Err(message) => {
            eprintln!("code-flow: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let url = url::Url::parse(&args.base).map_err(|e| format!("--base: {e}"))?;
    if url.scheme() != "http" {
        return Err("--base: plain http:// only".into());
    }
    let (host, port) = (url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80));
    let target = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("--base: {e}"))?
        .next()
        .ok_or("--base: no address")?;
    let basic = format!("{}:{}", form_encoded(&args.client_id), form_encoded(&args.client_secret));
    let basic = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(basic)))
        .map_err(|e| format!("--client-secret: {e}"))?;
    let shared = Arc::new(Shared {
        party: RelyingParty {
            issuer: args.base.trim_end_matches('/').to_owned(),
            client_id: args.client_id.clone(),
            basic,
            redirect_uri: args.redirect_uri.clone(),
            scope: args.scope.clone(),
            email: args.email.clone(),
            password: args.password.clone(),
            id_token_alg: args.id_token_alg.clone(),
        },
        target,
        host: HeaderValue::from_str(&format!("{host}:{port}")).map_err(|e| format!("--base: {e}"))?,
        spread_sources: !args.same_source,
        verify: args.verify,
    });
    let run_for = Duration::from_secs_f64(args.seconds.max(0.1));
    let (record, seconds) = match args.mode {
        Mode::Flows => flows(&shared, args.concurrency, run_for, args.server_pid).await?,
        Mode::Pages => pages(&shared, args.concurrency, run_for, args.server_pid).await?,
        Mode::Visits => visits(&shared, args.concurrency, run_for, args.server_pid).await?,
    };
    let unit = match args.mode {
        Mode::Flows => "flows",
        Mode::Pages => "renders",
        Mode::Visits => "visits",
    };
    let failed = record.failed();
    let samples = record.samples.clone();
    let mode = format!("{:?}", args.mode).to_lowercase();
    println!("{}", record.summary(&mode, unit, args.concurrency, seconds));
    if failed > 0 {
        eprintln!("code-flow: {failed} {unit} FAILED; first ones:");
        for sample in samples.iter().take(10) {
            eprintln!("  {sample}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets up `concurrency` workers with `setup`, then runs `step` in each until `run_for` has
/// passed; returns the merged record and the seconds from the start to the last worker's end.
async fn measure<W, S, SF, T, TF>(
    concurrency: usize,
    run_for: Duration,
    server_pid: Option<u32>,
    setup: S,
    step: T,
) -> Result<(Record, f64), String>
where
    W: Send + 'static,
    S: Fn(usize) -> SF,
    SF: Future<Output = Result<W, Failure>> + Send + 'static,
    T: Fn(W, Instant) -> TF,
    TF: Future<Output = Record> + Send + 'static,
{
    let mut setups = JoinSet::new();
    let admitted = Arc::new(Semaphore::new(SETUPS_AT_ONCE));
    for worker in 0..concurrency {
        let (future, admitted) = (setup(worker), Arc::clone(&admitted));
        setups.spawn(async move {
            let _place = admitted.acquire().await;
            (worker, future.await)
        });
    }
    let mut workers: Vec<Option<W>> = (0..concurrency).map(|_| None).collect();
    while let Some(joined) = setups.join_next().await {
        let (worker, result) = joined.map_err(|e| format!("setup task: {e}"))?;
        workers[worker] = Some(result.map_err(|failure| format!("setup of worker {worker} failed: {failure}"))?);
    }
    let started = Instant::now();
    let cpu_before = CpuTimes::now(server_pid);
    let deadline = started + run_for;
    let mut running = JoinSet::new();
    for state in workers.into_iter().flatten() {
        running.spawn(step(state, deadline));
    }
    let mut record = Record::default();
    while let Some(joined) = running.join_next().await {
        record.merge(joined.map_err(|e| format!("worker task: {e}"))?);
    }
    record.cpu = CpuTimes::now(server_pid).since(&cpu_before);
    Ok((record, started.elapsed().as_secs_f64()))
}

/// Complete code flows with a session.
async fn flows(
    shared: &Arc<Shared>,
    concurrency: usize,
    run_for: Duration,
    server_pid: Option<u32>,
) -> Result<(Record, f64), String> {
    let jwks = shared
        .back_channel()
        .send("jwks", jwks_request().map_err(|f| f.to_string())?)
        .await
        .map_err(|f| f.to_string())?;
    if jwks.status != 200 {
        return Err(Failure::status("jwks", 200, &jwks).to_string());
    }
    let check = Arc::new(TokenCheck::new(&shared.party, &jwks.body).map_err(|f| f.to_string())?);
    let setup = |worker: usize| {
        let (shared, check) = (Arc::clone(shared), Arc::clone(&check));
        async move {
            let random = SystemRandom::new();
            let browser = Browser::new(shared.browser_connection(worker));
            let (flow, attempt, tokens) =
                CodeFlow::sign_in(browser, shared.back_channel(), &shared.party, &random, worker).await?;
            check.verify(&tokens, &attempt, &shared.party.client_id)?;
            Ok((flow, random))
        }
    };
    let step = |(mut flow, random): (CodeFlow, SystemRandom), deadline: Instant| {
        let (shared, check) = (Arc::clone(shared), Arc::clone(&check));
        async move {
            let mut record = Record::default();
            let mut in_a_row = 0;
            while Instant::now() < deadline && in_a_row < GIVE_UP_AFTER {
                let started = Instant::now();
                match flow.run(&shared.party, &random).await {
                    Ok((times, attempt, tokens)) => {
                        record.total.push(micros(started.elapsed()));
                        record.steps.entry("authorize").or_default().push(micros(times.authorize));
                        record.steps.entry("token").or_default().push(micros(times.token));
                        if record.verified < shared.verify {
                            match check.verify(&tokens, &attempt, &shared.party.client_id) {
                                Ok(()) => record.verified += 1,
                                Err(failure) => record.fail(failure),
                            }
                        }
                        in_a_row = 0;
                    }
                    Err(failure) => {
                        record.fail(failure);
                        in_a_row += 1;
                    }
                }
            }
            record
        }
    };
    let (mut record, seconds) = measure(concurrency, run_for, server_pid, setup, step).await?;
    // The logins' flows were verified in the setup.
    record.verified += concurrency as u64;
    Ok((record, seconds))
}

/// Renders of the login page of one pending interaction per worker.
async fn pages(
    shared: &Arc<Shared>,
    concurrency: usize,
    run_for: Duration,
    server_pid: Option<u32>,
) -> Result<(Record, f64), String> {
    let setup = |worker: usize| {
        let shared = Arc::clone(shared);
        async move {
            let mut browser = Browser::new(shared.browser_connection(worker));
            let attempt = Attempt::new(&SystemRandom::new(), worker, 0)?;
            let (id, _) = start_interaction(&mut browser, &shared.party, &attempt).await?;
            Ok((browser, id))
        }
    };
    let step = |(mut browser, id): (Browser, String), deadline: Instant| async move {
        let mut record = Record::default();
        let mut in_a_row = 0;
        while Instant::now() < deadline && in_a_row < GIVE_UP_AFTER {
            let started = Instant::now();
            match login_page(&mut browser, &id).await {
                Ok(_) => {
                    record.total.push(micros(started.elapsed()));
                    in_a_row = 0;
                }
                Err(failure) => {
                    record.fail(failure);
                    in_a_row += 1;
                }
            }
        }
        record
    };
    measure(concurrency, run_for, server_pid, setup, step).await
}

/// New sign-ins: authorize without a session, then the login page it leads to.
async fn visits(
    shared: &Arc<Shared>,
    concurrency: usize,
    run_for: Duration,
    server_pid: Option<u32>,
) -> Result<(Record, f64), String> {
    let setup = |worker: usize| {
        let shared = Arc::clone(shared);
        async move { Ok::<_, Failure>((worker, Browser::new(shared.browser_connection(worker)))) }
    };
    let step = |(worker, mut browser): (usize, Browser), deadline: Instant| {
        let shared = Arc::clone(shared);
        async move {
            let (random, mut record, mut in_a_row, mut n) = (SystemRandom::new(), Record::default(), 0, 0);
            while Instant::now() < deadline && in_a_row < GIVE_UP_AFTER {
                n += 1;
                let started = Instant::now();
                let visit = async {
                    let attempt = Attempt::new(&random, worker, n)?;
                    let (id, _) = start_interaction(&mut browser, &shared.party, &attempt).await?;
                    let stored = Instant::now();
                    login_page(&mut browser, &id).await?;
                    Ok::<_, Failure>(stored)
                };
                match visit.await {
                    Ok(stored) => {
                        record.total.push(micros(started.elapsed()));
                        record.steps.entry("start").or_default().push(micros(stored - started));
                        record.steps.entry("page").or_default().push(micros(stored.elapsed()));
                        in_a_row = 0;
                    }
                    Err(failure) => {
                        record.fail(failure);
                        in_a_row += 1;
                    }
                }
            }
            record
        }
    };
    measure(concurrency, run_for, server_pid, setup, step).await
}

fn jwks_request() -> Result<hyper::Request<http_body_util::Full<hyper::body::Bytes>>, Failure> {
    hyper::Request::get("/.well-known/jwks.json")
        .body(http_body_util::Full::default())
        .map_err(|e| Failure::new("jwks", "build", e.to_string()))
}

/// `application/x-www-form-urlencoded` of one value (RFC 6749 §2.3.1 encodes the Basic parts).
fn form_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
