//! `tessera audit tail`: the newest audit events, oldest first. The events hold no secret:
//! their details were redacted before they were stored.

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Map, Value};
use tessera_core::model::audit::{AuditEvent, AuditStore};

use super::{Admin, AdminError, StateArgs, date};
use crate::token::{Failure, Output};

/// The most events one `audit tail` shows.
const MAX_LIMIT: u32 = 10_000;

/// Arguments of `tessera audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    state: StateArgs,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Show the newest events, oldest first.
    Tail {
        /// How many events.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LIMIT)))]
        limit: u32,
    },
}

/// An event as shown.
#[derive(Debug, Serialize)]
struct EventView {
    seq: i64,
    time: i64,
    kind: &'static str,
    actor: Option<String>,
    client_id: Option<String>,
    ip: Option<String>,
    details: Map<String, Value>,
}

impl From<&AuditEvent> for EventView {
    fn from(event: &AuditEvent) -> EventView {
        EventView {
            seq: event.seq,
            time: event.time.unix(),
            kind: event.kind.as_str(),
            actor: event.actor.clone(),
            client_id: event.client_id.as_ref().map(ToString::to_string),
            ip: event.ip.clone(),
            details: event.details.as_map().clone(),
        }
    }
}

/// Runs a `tessera audit` command at time `now`.
pub fn run(args: AuditArgs, now: i64) -> Result<Output, Failure> {
    super::run(&args.state, now, async move |admin: &Admin| match args.command {
        AuditCommand::Tail { limit } => tail(admin, limit).await,
    })
}

async fn tail(admin: &Admin, limit: u32) -> Result<Output, AdminError> {
    let events: Vec<EventView> = admin.store.audit_tail(limit).await?.iter().map(EventView::from).collect();
    admin.print(&events, |events| {
        if events.is_empty() {
            return "no audit events".to_owned();
        }
        events.iter().map(line).collect()
    })
}

/// `2025-01-02T03:04:05Z  #12  client.registered  actor=admin client=svc {"via":"cli"}`
fn line(event: &EventView) -> String {
    let mut line = format!("{}  #{}  {}", date(event.time), event.seq, event.kind);
    for (name, value) in [("actor", &event.actor), ("client", &event.client_id), ("ip", &event.ip)] {
        if let Some(value) = value {
            line.push_str(&format!("  {name}={value}"));
        }
    }
    if !event.details.is_empty() {
        line.push_str(&format!("  {}", Value::Object(event.details.clone())));
    }
    line.push('\n');
    line
}
