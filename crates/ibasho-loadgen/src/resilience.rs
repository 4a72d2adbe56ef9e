//! Scenarios that check the promises under load rather than the speed: `churn` (people come
//! and go while a room is busy; everyone who comes back resumes without a gap or a duplicate)
//! and `slow_consumer` (one client that never reads must not slow anyone else down, nor make
//! the server's memory grow).

use crate::client::{Socket, Target, connect, connect_slow, create_accounts, join};
use crate::measure::{
    Percentiles, ProcessSample, now_micros, percentiles, sample_process, sent_time,
};
use futures_util::{SinkExt, StreamExt};
use ibasho_protocol::ServerFrame;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, watch};
use tokio_tungstenite::tungstenite::Message;

type Stop = watch::Receiver<bool>;

/// Just the sequence number of an `event` frame.
#[derive(Deserialize)]
struct EventHead {
    seq: u64,
}

/// Counts of what a resuming client saw.
#[derive(Debug, Default)]
struct Continuity {
    checked: AtomicU64,
    gaps: AtomicU64,
    duplicates: AtomicU64,
    resets: AtomicU64,
}

impl Continuity {
    /// Takes event `seq` after `last`: the next one, a duplicate, or after a gap.
    fn check(&self, last: &mut u64, seq: u64) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        if seq <= *last {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if seq > *last + 1 {
            self.gaps.fetch_add(seq - *last - 1, Ordering::Relaxed);
        }
        *last = seq;
    }
}

/// Opens `n` connections joined to `room` in `mode`.
async fn open(
    target: &Target,
    tokens: &[String],
    offset: usize,
    room: &str,
    mode: &str,
) -> anyhow::Result<Vec<Socket>> {
    let mut out = Vec::with_capacity(tokens.len());
    for chunk in tokens.chunks(64) {
        let opened =
            futures_util::future::join_all(chunk.iter().enumerate().map(|(j, token)| async move {
                let mut ws = connect(target, token, offset + j).await?;
                join(&mut ws, room, mode).await?;
                anyhow::Ok(ws)
            }))
            .await;
        for ws in opened {
            out.push(ws?);
        }
    }
    Ok(out)
}

/// Receivers that record send → receive latency for every message until told to stop.
pub(crate) fn receive(
    sockets: Vec<Socket>,
    latencies: Arc<Mutex<Vec<u64>>>,
    stop: &Stop,
) -> Vec<tokio::task::JoinHandle<()>> {
    sockets
        .into_iter()
        .map(|mut ws| {
            let (latencies, mut stop) = (latencies.clone(), stop.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while !*stop.borrow() {
                    tokio::select! {
                        _ = stop.changed() => break,
                        m = ws.next() => match m {
                            Some(Ok(Message::Text(t))) => {
                                let now = now_micros();
                                if let Some(sent) = sent_time(t.as_str()) {
                                    mine.push(now.saturating_sub(sent));
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                }
                latencies.lock().await.extend(mine);
                let _ = ws.close(None).await;
            })
        })
        .collect()
}

/// Posts `rate` messages a second for `duration` from `senders` (round robin), each body
/// carrying its send time; the senders' own frames are drained. Returns how many were
/// acknowledged and how long the sending took (a second is allowed for the last acks).
pub(crate) async fn send(
    senders: Vec<Socket>,
    room: &str,
    rate: u32,
    duration: Duration,
) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let acked = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop) = watch::channel(false);
    let (mut sinks, streams): (Vec<_>, Vec<_>) = senders.into_iter().map(|ws| ws.split()).unzip();
    let drains: Vec<_> = streams
        .into_iter()
        .map(|mut rx| {
            let (acked, mut stop) = (acked.clone(), stop.clone());
            tokio::spawn(async move {
                while !*stop.borrow() {
                    tokio::select! {
                        _ = stop.changed() => break,
                        m = rx.next() => match m {
                            Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"ack\"") => {
                                acked.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        }
                    }
                }
            })
        })
        .collect();
    let total = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let n = sinks.len().max(1);
    for i in 0..total {
        ticker.tick().await;
        let body = format!(
            r#"{{"type":"post","id":{i},"room":"{room}","body":"t{}"}}"#,
            now_micros()
        );
        sinks[(i as usize) % n]
            .send(Message::Text(body.into()))
            .await?;
    }
    let secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop_tx.send(true);
    for d in drains {
        let _ = d.await;
    }
    Ok((acked.load(Ordering::Relaxed), secs))
}

/// Options of the `churn` scenario.
#[derive(Debug, Clone)]
pub struct ChurnOptions {
    /// Members who stay (they measure latency).
    pub members: usize,
    /// Members who come and go, resuming each time.
    pub churners: usize,
    /// Messages per second into the room.
    pub rate: u32,
    /// How long.
    pub duration: Duration,
    /// How long a churner stays connected each time.
    pub stay: Duration,
    /// How long a churner stays away each time.
    pub away: Duration,
    /// Members that write.
    pub senders: usize,
    /// The room.
    pub room: String,
    /// The server's pid, for CPU.
    pub server_pid: Option<u32>,
}

/// What `churn` measured.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnReport {
    /// Messages acknowledged.
    pub messages: u64,
    /// Connections opened by churners.
    pub connects: u64,
    /// Connections closed by churners.
    pub disconnects: u64,
    /// Connects and disconnects per second, together.
    pub churn_per_sec: f64,
    /// Events the churners checked for continuity (resumed backlogs and live events).
    pub events_checked: u64,
    /// Events missing from what a churner saw (must be 0).
    pub gaps: u64,
    /// Events a churner saw twice (must be 0).
    pub duplicates: u64,
    /// Resumes the server answered with a reset (the absence was longer than the resume
    /// window), so the client reloaded the latest page instead.
    pub resets: u64,
    /// Deliveries to the members who stayed, and expected.
    pub stable_deliveries: usize,
    /// Messages × members who stayed.
    pub stable_expected: u64,
    /// Send → receive latency for the members who stayed.
    pub stable_latency: Percentiles,
    /// Server CPU seconds over the run.
    pub server_cpu_secs: Option<f64>,
}

/// Connects and disconnects while a room is busy; every churner resumes with `since` and
/// checks that the events it gets continue its sequence without gap or duplicate.
pub async fn churn(target: &Target, o: &ChurnOptions) -> anyhow::Result<ChurnReport> {
    let senders = o.senders.max(1);
    let tokens = create_accounts(
        target,
        &format!("c{}-", now_micros() % 100_000),
        o.members + o.churners + senders,
        32,
    )
    .await?;
    let (member_tokens, rest) = tokens.split_at(o.members);
    let (churner_tokens, sender_tokens) = rest.split_at(o.churners);
    let members = open(target, member_tokens, 0, &o.room, "view_only").await?;
    let sender_sockets = open(target, sender_tokens, o.members, &o.room, "chat_only").await?;
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let (stop_tx, stop) = watch::channel(false);
    let receiving = receive(members, latencies.clone(), &stop);
    let continuity = Arc::new(Continuity::default());
    let (connects, disconnects) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let churning: Vec<_> = churner_tokens
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, token)| {
            let (target, room, continuity, connects, disconnects, mut stop) = (
                target.clone(),
                o.room.clone(),
                continuity.clone(),
                connects.clone(),
                disconnects.clone(),
                stop.clone(),
            );
            let (stay, away) = (o.stay, o.away);
            // Spread the churners' cycles over one cycle.
            let offset = (stay + away).mul_f64(i as f64 / o.churners.max(1) as f64);
            tokio::spawn(async move {
                tokio::time::sleep(offset).await;
                let mut last: Option<u64> = None;
                while !*stop.borrow() {
                    let cycle = churn_once(
                        &target,
                        &token,
                        i,
                        &room,
                        &mut last,
                        stay,
                        &continuity,
                        &mut stop,
                    )
                    .await;
                    match cycle {
                        Ok(()) => {
                            connects.fetch_add(1, Ordering::Relaxed);
                            disconnects.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => eprintln!("churner {i}: {e}"),
                    }
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = tokio::time::sleep(away) => {}
                    }
                }
            })
        })
        .collect();
    let cpu_before = o.server_pid.and_then(sample_process);
    let (messages, secs) = send(sender_sockets, &o.room, o.rate, o.duration).await?;
    let cpu_after = o.server_pid.and_then(sample_process);
    let _ = stop_tx.send(true);
    for t in churning {
        let _ = t.await;
    }
    for t in receiving {
        let _ = t.await;
    }
    let samples = std::mem::take(&mut *latencies.lock().await);
    let (c, d) = (
        connects.load(Ordering::Relaxed),
        disconnects.load(Ordering::Relaxed),
    );
    Ok(ChurnReport {
        messages,
        connects: c,
        disconnects: d,
        churn_per_sec: (c + d) as f64 / secs.max(0.001),
        events_checked: continuity.checked.load(Ordering::Relaxed),
        gaps: continuity.gaps.load(Ordering::Relaxed),
        duplicates: continuity.duplicates.load(Ordering::Relaxed),
        resets: continuity.resets.load(Ordering::Relaxed),
        stable_deliveries: samples.len(),
        stable_expected: messages * o.members as u64,
        stable_latency: percentiles(samples),
        server_cpu_secs: cpu_diff(cpu_before, cpu_after),
    })
}

fn cpu_diff(a: Option<ProcessSample>, b: Option<ProcessSample>) -> Option<f64> {
    Some(b?.cpu_secs - a?.cpu_secs)
}

/// One visit of a churner: connect, join (resuming after `last` if it was here before),
/// read for `stay`, leave by closing the connection.
#[allow(clippy::too_many_arguments)]
async fn churn_once(
    target: &Target,
    token: &str,
    i: usize,
    room: &str,
    last: &mut Option<u64>,
    stay: Duration,
    continuity: &Continuity,
    stop: &mut Stop,
) -> anyhow::Result<()> {
    let mut ws = connect(target, token, i).await?;
    let mut frame = serde_json::json!({"type": "join", "id": 2, "room": room, "mode": "view_only"});
    if let Some(since) = last {
        frame["since"] = (*since).into();
    }
    ws.send(Message::Text(frame.to_string().into())).await?;
    // Until `joined`: other frames (presence, the room list) may come first.
    loop {
        let Some(m) = ws.next().await else {
            anyhow::bail!("connection ended before joined")
        };
        let Message::Text(t) = m? else { continue };
        if !t.as_str().starts_with("{\"type\":\"joined\"") {
            if t.as_str().starts_with("{\"type\":\"error\"") {
                anyhow::bail!("join refused: {}", t.as_str());
            }
            continue;
        }
        let ServerFrame::Joined {
            room: info,
            missed,
            reset,
            ..
        } = serde_json::from_str(t.as_str())?
        else {
            anyhow::bail!("not joined")
        };
        match last {
            Some(at) if !reset => {
                for ev in &missed {
                    continuity.check(at, ev.seq);
                }
            }
            Some(_) => {
                continuity.resets.fetch_add(1, Ordering::Relaxed);
                *last = Some(info.last_seq);
            }
            None => *last = Some(info.last_seq),
        }
        break;
    }
    let until = tokio::time::Instant::now() + stay;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep_until(until) => break,
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) if t.as_str().starts_with("{\"type\":\"event\"") => {
                    let head: EventHead = serde_json::from_str(t.as_str())?;
                    if let Some(at) = last.as_mut() {
                        continuity.check(at, head.seq);
                    }
                }
                Some(Ok(_)) => {}
                _ => anyhow::bail!("the server closed the connection"),
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// Options of the `slow-consumer` scenario.
#[derive(Debug, Clone)]
pub struct SlowConsumerOptions {
    /// Members who read (they measure latency).
    pub members: usize,
    /// Messages per second.
    pub rate: u32,
    /// How long each of the two phases lasts.
    pub duration: Duration,
    /// Members that write.
    pub senders: usize,
    /// The room.
    pub room: String,
    /// The server's pid, for RSS over time.
    pub server_pid: Option<u32>,
}

/// What `slow-consumer` measured.
#[derive(Debug, Clone, Serialize)]
pub struct SlowConsumerReport {
    /// Latency of the readers without the slow client.
    pub without: Percentiles,
    /// Latency of the readers with one client in the room that never reads.
    pub with: Percentiles,
    /// `with.p99 / without.p99`.
    pub p99_ratio: f64,
    /// Deliveries expected and received in the second phase.
    pub expected: u64,
    /// Deliveries received in the second phase.
    pub delivered: usize,
    /// How the server ended the slow client's connection (4008: slow consumer), if it did.
    pub slow_client_close_code: Option<u16>,
    /// Server RSS every 250 ms through the second phase, KiB.
    pub rss_kib_over_time: Vec<u64>,
}

/// A busy room twice: once as it is, once with one more member that never reads. The others'
/// latency must not change, and the server must not keep growing a queue for the slow one.
pub async fn slow_consumer(
    target: &Target,
    o: &SlowConsumerOptions,
) -> anyhow::Result<SlowConsumerReport> {
    let senders = o.senders.max(1);
    let tokens = create_accounts(
        target,
        &format!("s{}-", now_micros() % 100_000),
        o.members + senders + 1,
        32,
    )
    .await?;
    let (member_tokens, rest) = tokens.split_at(o.members);
    let (sender_tokens, slow_token) = rest.split_at(senders);

    let phase = |slow: bool| {
        let (member_tokens, sender_tokens) = (member_tokens.to_vec(), sender_tokens.to_vec());
        let slow_token = slow_token[0].clone();
        async move {
            let members = open(target, &member_tokens, 0, &o.room, "view_only").await?;
            let sender_sockets =
                open(target, &sender_tokens, o.members, &o.room, "chat_only").await?;
            let mut slow_socket = None;
            if slow {
                let mut ws = connect_slow(target, &slow_token, o.members + senders).await?;
                join(&mut ws, &o.room, "view_only").await?;
                slow_socket = Some(ws);
            }
            let latencies = Arc::new(Mutex::new(Vec::new()));
            let (stop_tx, stop) = watch::channel(false);
            let receiving = receive(members, latencies.clone(), &stop);
            let rss = Arc::new(Mutex::new(Vec::new()));
            let sampler = o.server_pid.map(|pid| {
                let (rss, mut stop) = (rss.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_millis(250));
                    while !*stop.borrow() {
                        tokio::select! {
                            _ = stop.changed() => break,
                            _ = every.tick() => {
                                if let Some(s) = sample_process(pid) {
                                    rss.lock().await.push(s.rss_kib);
                                }
                            }
                        }
                    }
                })
            });
            let (messages, _) = send(sender_sockets, &o.room, o.rate, o.duration).await?;
            let _ = stop_tx.send(true);
            for t in receiving {
                let _ = t.await;
            }
            if let Some(s) = sampler {
                let _ = s.await;
            }
            // Now read what the slow client was sent, to see how the server ended it.
            let mut close_code = None;
            if let Some(mut ws) = slow_socket {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                while let Ok(Some(m)) = tokio::time::timeout_at(deadline, ws.next()).await {
                    match m {
                        Ok(Message::Close(Some(c))) => {
                            close_code = Some(u16::from(c.code));
                            break;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
            let samples = std::mem::take(&mut *latencies.lock().await);
            let rss = std::mem::take(&mut *rss.lock().await);
            anyhow::Ok((samples, messages, close_code, rss))
        }
    };
    let (without, _, _, _) = phase(false).await?;
    let (with, messages, close_code, rss) = phase(true).await?;
    let delivered = with.len();
    let (without, with) = (percentiles(without), percentiles(with));
    Ok(SlowConsumerReport {
        p99_ratio: with.p99_ms / without.p99_ms.max(0.001),
        without,
        with,
        expected: messages * o.members as u64,
        delivered,
        slow_client_close_code: close_code,
        rss_kib_over_time: rss,
    })
}
