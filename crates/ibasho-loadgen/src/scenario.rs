//! Scenarios. Each returns a report that serializes to JSON; the binary also prints it as a
//! table. None of them asserts a timing: they measure.

use crate::client::{Socket, Target, connect, create_accounts, join};
use crate::measure::{Percentiles, ProcessSample, now_micros, percentiles, sample_process};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

/// Tells the tasks of a scenario to stop. A watch, not a Notify: a task that is busy with a
/// frame when the stop is given still sees it at its next turn (a missed Notify hung runs).
type Stop = tokio::sync::watch::Receiver<bool>;

/// Opens `tokens.len()` connections, `concurrency` at a time, each joined to `room` in `mode`.
async fn open_all(
    target: &Target,
    tokens: &[String],
    room: &str,
    mode: &str,
    concurrency: usize,
) -> anyhow::Result<Vec<Socket>> {
    let mut sockets = Vec::with_capacity(tokens.len());
    for (chunk_index, chunk) in tokens.chunks(concurrency.max(1)).enumerate() {
        let base = chunk_index * concurrency.max(1);
        let opened =
            futures_util::future::join_all(chunk.iter().enumerate().map(|(j, token)| async move {
                let mut ws = connect(target, token, base + j).await?;
                join(&mut ws, room, mode).await?;
                anyhow::Ok(ws)
            }))
            .await;
        for ws in opened {
            sockets.push(ws?);
        }
    }
    Ok(sockets)
}

/// Reads every frame from each socket until told to stop, counting frames and bytes, so that
/// idle clients answer pings and never become slow consumers. Returns the sockets at the end.
fn drain(
    sockets: Vec<Socket>,
    frames: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    stop: &Stop,
) -> Vec<tokio::task::JoinHandle<Option<Socket>>> {
    sockets
        .into_iter()
        .map(|mut ws| {
            let (frames, bytes, mut stop) = (frames.clone(), bytes.clone(), stop.clone());
            tokio::spawn(async move {
                loop {
                    if *stop.borrow() {
                        return Some(ws);
                    }
                    tokio::select! {
                        _ = stop.changed() => return Some(ws),
                        m = ws.next() => match m {
                            Some(Ok(Message::Text(t))) => {
                                frames.fetch_add(1, Ordering::Relaxed);
                                bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
                            }
                            Some(Ok(_)) => {}
                            _ => return None,
                        }
                    }
                }
            })
        })
        .collect()
}

/// Options of the `hold` scenario.
#[derive(Debug, Clone)]
pub struct HoldOptions {
    /// Connections to open.
    pub connections: usize,
    /// The room they join.
    pub room: String,
    /// How they attend.
    pub mode: String,
    /// Connections opened at once.
    pub concurrency: usize,
    /// How long to hold them idle, measuring CPU.
    pub hold: Duration,
    /// The server's pid, for RSS and CPU.
    pub server_pid: Option<u32>,
}

/// What `hold` measured.
#[derive(Debug, Clone, Serialize)]
pub struct HoldReport {
    /// Connections open at the end.
    pub connections: usize,
    /// Seconds to open and join them all.
    pub connect_secs: f64,
    /// Connections opened per second.
    pub connects_per_sec: f64,
    /// Server before and after (when its pid was given).
    pub server_before: Option<ProcessSample>,
    /// Server with every connection open and idle.
    pub server_held: Option<ProcessSample>,
    /// Server RSS growth per connection, bytes.
    pub rss_per_connection_bytes: Option<f64>,
    /// Server CPU use while idle, as a fraction of one core.
    pub idle_cpu_fraction: Option<f64>,
    /// Frames the clients received while joining and holding (presence and pings).
    pub frames_received: u64,
}

/// N idle connections that completed `hello` and joined a room.
pub async fn hold(target: &Target, o: &HoldOptions) -> anyhow::Result<HoldReport> {
    let tokens = create_accounts(
        target,
        &format!("h{}-", now_micros() % 100_000),
        o.connections,
        32,
    )
    .await?;
    let before = o.server_pid.and_then(sample_process);
    let started = Instant::now();
    let sockets = open_all(target, &tokens, &o.room, &o.mode, o.concurrency).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    let (frames, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let tasks = drain(sockets, frames.clone(), bytes.clone(), &stop);
    // Let the joins' presence traffic settle before measuring idleness.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held_start = o.server_pid.and_then(sample_process);
    tokio::time::sleep(o.hold).await;
    let held = o.server_pid.and_then(sample_process);
    let _ = stop_tx.send(true);
    let mut open = 0;
    for t in tasks {
        if let Ok(Some(mut ws)) = t.await {
            open += 1;
            let _ = ws.close(None).await;
        }
    }
    let rss_per_connection_bytes = match (before, held) {
        (Some(b), Some(h)) if o.connections > 0 => {
            Some((h.rss_kib.saturating_sub(b.rss_kib) * 1024) as f64 / o.connections as f64)
        }
        _ => None,
    };
    let idle_cpu_fraction = match (held_start, held) {
        (Some(a), Some(b)) => Some((b.cpu_secs - a.cpu_secs) / o.hold.as_secs_f64().max(0.001)),
        _ => None,
    };
    Ok(HoldReport {
        connections: open,
        connect_secs,
        connects_per_sec: o.connections as f64 / connect_secs.max(0.001),
        server_before: before,
        server_held: held,
        rss_per_connection_bytes,
        idle_cpu_fraction,
        frames_received: frames.load(Ordering::Relaxed),
    })
}

/// Options of the `broadcast` scenario.
#[derive(Debug, Clone)]
pub struct BroadcastOptions {
    /// Members of the room (receivers; the senders are among them).
    pub members: usize,
    /// Messages per second, in all.
    pub rate: u32,
    /// How long to send.
    pub duration: Duration,
    /// Members that write (each stays under the per-connection write limit).
    pub senders: usize,
    /// The room.
    pub room: String,
    /// Connections opened at once.
    pub concurrency: usize,
    /// The server's pid, for CPU.
    pub server_pid: Option<u32>,
}

/// What `broadcast` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BroadcastReport {
    /// Members.
    pub members: usize,
    /// Messages acknowledged.
    pub messages: u64,
    /// Deliveries received (messages × members who got them).
    pub deliveries: usize,
    /// Deliveries expected (messages × members).
    pub expected_deliveries: u64,
    /// Deliveries per second over the sending period.
    pub deliveries_per_sec: f64,
    /// Send → receive latency over all deliveries.
    pub latency: Percentiles,
    /// Server CPU seconds spent while sending (when its pid was given).
    pub server_cpu_secs: Option<f64>,
    /// Server CPU seconds per million deliveries.
    pub cpu_secs_per_million_deliveries: Option<f64>,
}

/// A room of `members` at `rate` messages per second: latency from send to every receive.
pub async fn broadcast(target: &Target, o: &BroadcastOptions) -> anyhow::Result<BroadcastReport> {
    let senders = o.senders.clamp(1, o.members.max(1));
    let tokens = create_accounts(
        target,
        &format!("b{}-", now_micros() % 100_000),
        o.members,
        32,
    )
    .await?;
    let (sender_tokens, receiver_tokens) = tokens.split_at(senders);
    let receivers = open_all(target, receiver_tokens, &o.room, "view_only", o.concurrency).await?;
    let sender_sockets =
        open_all(target, sender_tokens, &o.room, "chat_only", o.concurrency).await?;
    let latencies = Arc::new(Mutex::new(Vec::<u64>::new()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let receiving = crate::resilience::receive(receivers, latencies.clone(), &stop);
    let cpu_before = o.server_pid.and_then(sample_process);
    let (messages, send_secs) =
        crate::resilience::send(sender_sockets, &o.room, o.rate, o.duration).await?;
    // Give the last messages time to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_after = o.server_pid.and_then(sample_process);
    let _ = stop_tx.send(true);
    for t in receiving {
        let _ = t.await;
    }
    let samples = std::mem::take(&mut *latencies.lock().await);
    let deliveries = samples.len();
    let server_cpu_secs = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(b.cpu_secs - a.cpu_secs),
        _ => None,
    };
    Ok(BroadcastReport {
        members: o.members,
        messages,
        deliveries,
        expected_deliveries: messages * (o.members - senders) as u64,
        deliveries_per_sec: deliveries as f64 / send_secs.max(0.001),
        latency: percentiles(samples),
        server_cpu_secs,
        cpu_secs_per_million_deliveries: server_cpu_secs
            .map(|c| c / (deliveries.max(1) as f64) * 1e6),
    })
}

/// Options of the `lobby` scenario.
#[derive(Debug, Clone)]
pub struct LobbyOptions {
    /// Avatars in the lobby, each moving and receiving.
    pub avatars: usize,
    /// Moves per second per avatar.
    pub hz: u32,
    /// How long they move.
    pub duration: Duration,
    /// How many of them measure staleness (the rest only count frames and bytes).
    pub observers: usize,
    /// Connections opened at once.
    pub concurrency: usize,
    /// The server's pid, for CPU.
    pub server_pid: Option<u32>,
}

/// What `lobby` measured.
#[derive(Debug, Clone, Serialize)]
pub struct LobbyReport {
    /// Avatars.
    pub avatars: usize,
    /// Moves sent, in all.
    pub moves_sent: u64,
    /// Position changes seen by the observers.
    pub changes_seen: usize,
    /// From a move being sent to an observer seeing it.
    pub staleness: Percentiles,
    /// Frames each client received per second, on average.
    pub frames_per_client_per_sec: f64,
    /// Bytes each client received per second, on average.
    pub bytes_per_client_per_sec: f64,
    /// Server CPU seconds while moving (when its pid was given).
    pub server_cpu_secs: Option<f64>,
    /// The load generator's own CPU seconds while moving: near one core means the figures
    /// describe the load generator, not the server.
    pub loadgen_cpu_secs: Option<f64>,
}

/// The parts of a `positions` frame an observer reads, borrowed from the text.
#[derive(serde::Deserialize)]
struct PositionsFrame<'a> {
    #[serde(borrow)]
    moves: Vec<Move<'a>>,
}

#[derive(serde::Deserialize)]
struct Move<'a> {
    account: &'a str,
    x: u64,
    y: u64,
}

/// A unique map position for the `n`-th move of the run, so that a receiver can tell which
/// move it is seeing and when it was sent.
fn position(n: u64, width: u64, height: u64) -> (u64, u64) {
    (n % width, (n / width) % height)
}

/// `avatars` in the lobby moving at `hz`: how stale the positions each observer sees are.
pub async fn lobby(target: &Target, o: &LobbyOptions) -> anyhow::Result<LobbyReport> {
    use std::collections::HashMap;
    let tokens = create_accounts(
        target,
        &format!("l{}-", now_micros() % 100_000),
        o.avatars,
        32,
    )
    .await?;
    let sockets = open_all(target, &tokens, "lobby", "participant", o.concurrency).await?;
    let (width, height) = (960u64, 600u64);
    let sent: Arc<std::sync::RwLock<HashMap<(u64, u64), u64>>> = Arc::default();
    let counter = Arc::new(AtomicU64::new(0));
    let (frames, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let cpu_before = o.server_pid.and_then(sample_process);
    let own_before = sample_process(std::process::id());
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / f64::from(o.hz.max(1)));
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let (sent, counter, frames, bytes, samples, mut stop) = (
                sent.clone(),
                counter.clone(),
                frames.clone(),
                bytes.clone(),
                samples.clone(),
                stop.clone(),
            );
            let observer = i < o.observers;
            let duration = o.duration;
            tokio::spawn(async move {
                let (mut tx, mut rx) = ws.split();
                // Spread the avatars' moves evenly over the period (an interval made before
                // a sleep would keep its first schedule, and every avatar would move at once).
                let first = tokio::time::Instant::now() + period.mul_f64((i % 97) as f64 / 97.0);
                let mut ticker = tokio::time::interval_at(first, period);
                let until = first + duration;
                let mut last: HashMap<String, (u64, u64)> = HashMap::new();
                let mut mine = Vec::new();
                while !*stop.borrow() {
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = ticker.tick(), if tokio::time::Instant::now() < until => {
                            let n = counter.fetch_add(1, Ordering::Relaxed);
                            let (x, y) = position(n, width, height);
                            sent.write().unwrap_or_else(|e| e.into_inner()).insert((x, y), now_micros());
                            let frame = format!(r#"{{"type":"move","room":"lobby","x":{x},"y":{y}}}"#);
                            if tx.send(Message::Text(frame.into())).await.is_err() {
                                break;
                            }
                        }
                        m = rx.next() => match m {
                            Some(Ok(Message::Text(t))) => {
                                frames.fetch_add(1, Ordering::Relaxed);
                                bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
                                if observer && t.as_str().starts_with("{\"type\":\"positions\"") {
                                    let now = now_micros();
                                    let Ok(frame) = serde_json::from_str::<PositionsFrame>(t.as_str()) else { continue };
                                    let table = sent.read().unwrap_or_else(|e| e.into_inner());
                                    for Move { account, x, y } in frame.moves {
                                        if last.get(account) == Some(&(x, y)) {
                                            continue;
                                        }
                                        last.insert(account.to_owned(), (x, y));
                                        if let Some(at) = table.get(&(x, y)) {
                                            mine.push(now.saturating_sub(*at));
                                        }
                                    }
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                }
                samples.lock().await.extend(mine);
            })
        })
        .collect();
    tokio::time::sleep(o.duration).await;
    let secs = started.elapsed().as_secs_f64();
    let cpu_after = o.server_pid.and_then(sample_process);
    let own_after = sample_process(std::process::id());
    // A last batch in flight.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let samples = std::mem::take(&mut *samples.lock().await);
    let clients = o.avatars.max(1) as f64;
    Ok(LobbyReport {
        avatars: o.avatars,
        moves_sent: counter.load(Ordering::Relaxed),
        changes_seen: samples.len(),
        staleness: percentiles(samples),
        frames_per_client_per_sec: frames.load(Ordering::Relaxed) as f64 / clients / secs,
        bytes_per_client_per_sec: bytes.load(Ordering::Relaxed) as f64 / clients / secs,
        server_cpu_secs: match (cpu_before, cpu_after) {
            (Some(a), Some(b)) => Some(b.cpu_secs - a.cpu_secs),
            _ => None,
        },
        loadgen_cpu_secs: match (own_before, own_after) {
            (Some(a), Some(b)) => Some(b.cpu_secs - a.cpu_secs),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sent_time_is_read_from_event_frames_only() {
        let ev = r#"{"type":"event","room":"lobby","seq":3,"at":1,"event":{"kind":"posted","message":{"id":"x","seq":3,"body":"t123456"}}}"#;
        assert_eq!(crate::measure::sent_time(ev), Some(123_456));
        assert_eq!(
            crate::measure::sent_time(r#"{"type":"ack","body":"t1"}"#),
            None
        );
    }
}
