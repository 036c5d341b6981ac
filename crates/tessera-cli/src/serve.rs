//! `tessera serve`: the identity server. Zero configuration works; `--config`, `TESSERA_*`
//! variables and these flags change it. SIGTERM or Ctrl-C stop it after in-flight requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tessera_server::app::prepare;
use tessera_server::config::Config;

/// `tessera serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A TOML configuration file (see docs/CONFIG.md).
    #[arg(long, env = "TESSERA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on; also the issuer `http://ADDR:PORT` unless one is configured.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Folder for the database, the master key and outboxes (default ./tessera-data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also create a demo user and demo clients, and print what to try.
    #[arg(long)]
    demo: bool,
}

/// Runs the server until a signal stops it.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    tessera_server::logging::init(&config.log);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal()?;
        let master_key = std::env::var("TESSERA_MASTER_KEY").ok();
        let prepared = prepare(config, master_key.as_deref()).await?;
        if args.demo {
            let address = prepared.local_addr()?;
            let demo = crate::demo::seed(prepared.state()).await?;
            println!("{}", crate::demo::instructions(&prepared.state().issuer, address, &demo));
        }
        prepared.serve(shutdown).await?;
        Ok(())
    })
}

/// Listens for SIGTERM and SIGINT from now on, and returns what completes on the first.
/// Registered before the server starts, so a signal that arrives right after "tessera is ready"
/// is a graceful stop, not the default action that kills the process.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::info!("shutting down: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing in-flight requests");
        })
    }
}
