//! Routing decisions per second with a long queue: `waiting` requests (default 10,000) and
//! `counsellors` (default 500, capacity 1, all busy). Each round, one consult ends, which
//! frees its counsellor, who is offered the next request and accepts it: three events, and
//! the decisions they return (ended, offer, start). Run in release:
//!
//! ```text
//! cargo run --release -p ibasho-consult --example route_bench -- 10000 500 50000
//! ```

use ibasho_consult::{Availability, Decision, Profession, RequestSpec, Router, RouterConfig};
use ibasho_protocol::AccountId;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: waiting counsellors rounds"))
        .collect();
    let waiting = args.first().copied().unwrap_or(10_000);
    let counsellors = args.get(1).copied().unwrap_or(500);
    let rounds = args.get(2).copied().unwrap_or(50_000);
    let professions = [Profession::ClinicalPsychologist, Profession::SocialWorker];
    let mut router = Router::new(RouterConfig::default());
    let mut now = 0i64;
    let mut active = std::collections::VecDeque::new();
    let spec = |i: usize| RequestSpec {
        requester: AccountId::new_v7(),
        profession: i.is_multiple_of(3).then(|| professions[i % 2]),
        urgent: i.is_multiple_of(50),
    };
    // Fill every counsellor with a consult, then the queue behind them.
    for i in 0..counsellors {
        let c = AccountId::new_v7();
        router.set_counsellor(now, c, professions.to_vec(), 1, Availability::Available);
        now += 1;
        let (id, d) = router.submit(now, spec(i)).expect("submit");
        for d in d {
            if let Decision::Offer { counsellor, .. } = d {
                router.accept(now, id, counsellor).expect("accept");
                active.push_back(id);
            }
        }
    }
    for i in 0..waiting {
        now += 1;
        router.submit(now, spec(counsellors + i)).expect("submit");
    }
    let mut decisions = 0usize;
    let started = Instant::now();
    for next in (counsellors + waiting..).take(rounds) {
        now += 1;
        let Some(done) = active.pop_front() else {
            break;
        };
        let ended = router.end(now, done).expect("end");
        decisions += ended.len();
        for d in ended {
            if let Decision::Offer {
                consult,
                counsellor,
                ..
            } = d
            {
                let started = router.accept(now, consult, counsellor).expect("accept");
                decisions += started.len();
                active.push_back(consult);
            }
        }
        // Keep the queue as long as it was.
        router.submit(now, spec(next)).expect("submit");
    }
    let secs = started.elapsed().as_secs_f64();
    let (urgent, total) = router.waiting();
    println!(
        "{{\"waiting\":{total},\"urgent_waiting\":{urgent},\"counsellors\":{counsellors},\"rounds\":{rounds},\"decisions\":{decisions},\"seconds\":{secs:.3},\"decisions_per_second\":{:.0},\"events_per_second\":{:.0}}}",
        decisions as f64 / secs,
        (rounds * 3) as f64 / secs
    );
}
