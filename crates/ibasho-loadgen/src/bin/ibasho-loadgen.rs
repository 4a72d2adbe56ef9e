//! `ibasho-loadgen`: runs a benchmark scenario against a running ibasho and prints the result
//! as a table and as JSON (`--json FILE`). See docs/benchmarks.md.

use clap::{Parser, Subcommand};
use ibasho_loadgen::client::Target;
use ibasho_loadgen::resilience::{self, ChurnOptions, SlowConsumerOptions};
use ibasho_loadgen::scenario::{self, BroadcastOptions, HoldOptions, LobbyOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "ibasho-loadgen", about = "Load generator for ibasho")]
struct Cli {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:8080", global = true)]
    server: SocketAddr,
    /// The server's pid, to read its memory and CPU time from /proc.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Loopback source addresses to spread connections over (127.0.0.1 … 127.0.0.N).
    #[arg(long, default_value_t = 4, global = true)]
    sources: u8,
    /// Connections opened at once.
    #[arg(long, default_value_t = 64, global = true)]
    concurrency: usize,
    /// Also write the report as JSON here.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand, Debug)]
enum Scenario {
    /// N idle connections that completed hello and joined a room.
    Hold {
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value = "lobby")]
        room: String,
        #[arg(long, default_value = "view_only")]
        mode: String,
        /// Seconds to hold them idle.
        #[arg(long, default_value_t = 10)]
        hold_secs: u64,
    },
    /// A room of N members at R messages per second.
    Broadcast {
        #[arg(long, default_value_t = 100)]
        members: usize,
        #[arg(long, default_value_t = 10)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Members that write; each must stay under the server's write limit.
        #[arg(long, default_value_t = 4)]
        senders: usize,
        #[arg(long, default_value = "lobby")]
        room: String,
    },
    /// N avatars moving in the lobby at H Hz: staleness of the positions others see.
    Lobby {
        #[arg(long, default_value_t = 250)]
        avatars: usize,
        #[arg(long, default_value_t = 10)]
        hz: u32,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Avatars that measure staleness (the rest count frames and bytes).
        #[arg(long, default_value_t = 16)]
        observers: usize,
    },
    /// A busy room while members come and go, each resuming and checking for gaps and
    /// duplicates.
    Churn {
        /// Members who stay and measure latency.
        #[arg(long, default_value_t = 200)]
        members: usize,
        /// Members who come and go.
        #[arg(long, default_value_t = 100)]
        churners: usize,
        #[arg(long, default_value_t = 10)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Milliseconds a churner stays each time.
        #[arg(long, default_value_t = 1000)]
        stay_ms: u64,
        /// Milliseconds a churner stays away each time.
        #[arg(long, default_value_t = 500)]
        away_ms: u64,
        #[arg(long, default_value_t = 4)]
        senders: usize,
        #[arg(long, default_value = "lobby")]
        room: String,
    },
    /// A busy room with and without one member that never reads.
    SlowConsumer {
        #[arg(long, default_value_t = 200)]
        members: usize,
        #[arg(long, default_value_t = 100)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        #[arg(long, default_value_t = 20)]
        senders: usize,
        #[arg(long, default_value = "lobby")]
        room: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let target = Target::new(cli.server, cli.sources);
    let report: serde_json::Value = runtime.block_on(async {
        anyhow::Ok(match cli.scenario {
            Scenario::Hold {
                connections,
                room,
                mode,
                hold_secs,
            } => {
                let o = HoldOptions {
                    connections,
                    room,
                    mode,
                    concurrency: cli.concurrency,
                    hold: Duration::from_secs(hold_secs),
                    server_pid: cli.server_pid,
                };
                serde_json::to_value(scenario::hold(&target, &o).await?)?
            }
            Scenario::Broadcast {
                members,
                rate,
                duration_secs,
                senders,
                room,
            } => {
                let o = BroadcastOptions {
                    members,
                    rate,
                    duration: Duration::from_secs(duration_secs),
                    senders,
                    room,
                    concurrency: cli.concurrency,
                    server_pid: cli.server_pid,
                };
                serde_json::to_value(scenario::broadcast(&target, &o).await?)?
            }
            Scenario::Lobby {
                avatars,
                hz,
                duration_secs,
                observers,
            } => {
                let o = LobbyOptions {
                    avatars,
                    hz,
                    duration: Duration::from_secs(duration_secs),
                    observers,
                    concurrency: cli.concurrency,
                    server_pid: cli.server_pid,
                };
                serde_json::to_value(scenario::lobby(&target, &o).await?)?
            }
            Scenario::Churn {
                members,
                churners,
                rate,
                duration_secs,
                stay_ms,
                away_ms,
                senders,
                room,
            } => {
                let o = ChurnOptions {
                    members,
                    churners,
                    rate,
                    duration: Duration::from_secs(duration_secs),
                    stay: Duration::from_millis(stay_ms),
                    away: Duration::from_millis(away_ms),
                    senders,
                    room,
                    server_pid: cli.server_pid,
                };
                serde_json::to_value(resilience::churn(&target, &o).await?)?
            }
            Scenario::SlowConsumer {
                members,
                rate,
                duration_secs,
                senders,
                room,
            } => {
                let o = SlowConsumerOptions {
                    members,
                    rate,
                    duration: Duration::from_secs(duration_secs),
                    senders,
                    room,
                    server_pid: cli.server_pid,
                };
                serde_json::to_value(resilience::slow_consumer(&target, &o).await?)?
            }
        })
    })?;
    print_table("", &report);
    if let Some(path) = cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

fn print_table(prefix: &str, v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                print_table(&key, v);
            }
        }
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => println!("{prefix:<40} {f:>14.3}"),
            _ => println!("{prefix:<40} {n:>14}"),
        },
        other => println!("{prefix:<40} {other:>14}"),
    }
}
