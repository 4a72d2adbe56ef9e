//! A seconds-long smoke run of every load-generator scenario, to prove they still work. It
//! checks that every delivery arrived, never how fast: speed is measured by the benchmarks
//! (docs/benchmarks.md), not by tests.

use ibasho_e2e::TestServer;
use ibasho_loadgen::client::Target;
use ibasho_loadgen::resilience::{self, ChurnOptions, SlowConsumerOptions};
use ibasho_loadgen::scenario::{self, BroadcastOptions, HoldOptions, LobbyOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let target = Target::new(server.addr(), 2);
    let pid = Some(std::process::id());

    let hold = scenario::hold(
        &target,
        &HoldOptions {
            connections: 40,
            room: "lobby".into(),
            mode: "view_only".into(),
            concurrency: 16,
            hold: Duration::from_millis(500),
            server_pid: pid,
        },
    )
    .await?;
    assert_eq!(hold.connections, 40);
    assert!(hold.server_held.is_some());

    let broadcast = scenario::broadcast(
        &target,
        &BroadcastOptions {
            members: 20,
            rate: 20,
            duration: Duration::from_secs(1),
            senders: 5,
            room: "lobby".into(),
            concurrency: 16,
            server_pid: pid,
        },
    )
    .await?;
    assert_eq!(broadcast.messages, 20);
    assert_eq!(
        broadcast.deliveries as u64, broadcast.expected_deliveries,
        "every member got every message"
    );

    let lobby = scenario::lobby(
        &target,
        &LobbyOptions {
            avatars: 12,
            hz: 5,
            duration: Duration::from_secs(1),
            observers: 4,
            concurrency: 16,
            server_pid: pid,
        },
    )
    .await?;
    assert!(lobby.moves_sent >= 12, "{lobby:?}");
    assert!(
        lobby.changes_seen > 0,
        "observers saw the others move: {lobby:?}"
    );

    let churn = resilience::churn(
        &target,
        &ChurnOptions {
            members: 8,
            churners: 6,
            rate: 20,
            duration: Duration::from_secs(2),
            stay: Duration::from_millis(300),
            away: Duration::from_millis(150),
            senders: 5,
            room: "lobby".into(),
            server_pid: pid,
        },
    )
    .await?;
    assert!(churn.connects >= 6 && churn.events_checked > 0, "{churn:?}");
    assert_eq!((churn.gaps, churn.duplicates), (0, 0), "{churn:?}");
    assert_eq!(
        churn.stable_deliveries as u64, churn.stable_expected,
        "{churn:?}"
    );

    let slow = resilience::slow_consumer(
        &target,
        &SlowConsumerOptions {
            members: 8,
            rate: 20,
            duration: Duration::from_secs(1),
            senders: 5,
            room: "lobby".into(),
            server_pid: pid,
        },
    )
    .await?;
    assert_eq!(slow.delivered as u64, slow.expected, "{slow:?}");
    assert!(!slow.rss_kib_over_time.is_empty());
    server.server.shutdown().await
}
