//! The router against random sequences of events: requests, offers, accepts, declines,
//! timeouts, disconnects, reconnects, cancels, transfers, urgency, capacity and availability
//! changes, closing and opening. After every event: nothing lost or duplicated, no counsellor
//! over capacity, every offer in queue order (urgent before normal, first come first served
//! within a class), nobody free while someone waits for them; at the end, every request has
//! ended exactly once.

use ibasho_consult::{
    Availability, ConsultId, Decision, End, Profession, RequestSpec, Router, RouterConfig, State,
};
use ibasho_protocol::AccountId;
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug)]
enum Op {
    Submit {
        profession: Option<u8>,
        urgent: bool,
    },
    Accept(usize),
    Decline(usize),
    Cancel(usize),
    End(usize),
    Transfer(usize, Option<usize>, Option<u8>),
    Flag(usize),
    LeaveMessage(usize),
    Wait(i64),
    Disconnect(usize),
    Availability(usize, u8, u32),
    Close,
    Open,
    Book(usize),
    Pause(usize, bool),
    Absent(usize),
    Missed(usize),
}

fn profession(p: u8) -> Profession {
    match p % 3 {
        0 => Profession::ClinicalPsychologist,
        1 => Profession::SocialWorker,
        _ => Profession::Other,
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (proptest::option::of(0u8..3), proptest::bool::weighted(0.2))
            .prop_map(|(profession, urgent)| Op::Submit { profession, urgent }),
        4 => (0usize..64).prop_map(Op::Accept),
        1 => (0usize..64).prop_map(Op::Decline),
        1 => (0usize..64).prop_map(Op::Cancel),
        2 => (0usize..64).prop_map(Op::End),
        1 => (0usize..64, proptest::option::of(0usize..4), proptest::option::of(0u8..3))
            .prop_map(|(r, to, p)| Op::Transfer(r, to, p)),
        1 => (0usize..64).prop_map(Op::Flag),
        1 => (0usize..64).prop_map(Op::LeaveMessage),
        3 => (1i64..200_000).prop_map(Op::Wait),
        1 => (0usize..4).prop_map(Op::Disconnect),
        2 => (0usize..4, 0u8..3, 1u32..3).prop_map(|(c, a, cap)| Op::Availability(c, a, cap)),
        1 => Just(Op::Close),
        1 => Just(Op::Open),
        1 => (0usize..4).prop_map(Op::Book),
        1 => (0usize..4, proptest::bool::ANY).prop_map(|(c, p)| Op::Pause(c, p)),
        1 => (0usize..64).prop_map(Op::Absent),
        1 => (0usize..64).prop_map(Op::Missed),
    ]
}

struct World {
    router: Router,
    now: i64,
    counsellors: Vec<(AccountId, Vec<Profession>)>,
    ids: Vec<ConsultId>,
    ended: HashMap<ConsultId, (End, usize)>,
}

impl World {
    fn new() -> Self {
        let mut router = Router::new(RouterConfig::default());
        let counsellors: Vec<(AccountId, Vec<Profession>)> = (0..4)
            .map(|i| {
                let professions = match i {
                    0 => vec![Profession::ClinicalPsychologist],
                    1 => vec![Profession::SocialWorker],
                    2 => vec![Profession::ClinicalPsychologist, Profession::SocialWorker],
                    _ => vec![Profession::Other],
                };
                (AccountId::new_v7(), professions)
            })
            .collect();
        for (id, p) in &counsellors {
            router.set_counsellor(0, *id, p.clone(), 1, Availability::Available);
        }
        Self {
            router,
            now: 0,
            counsellors,
            ids: Vec::new(),
            ended: HashMap::new(),
        }
    }

    fn pick(&self, i: usize) -> Option<ConsultId> {
        (!self.ids.is_empty()).then(|| self.ids[i % self.ids.len()])
    }

    fn offered_to(&self, id: ConsultId) -> Option<AccountId> {
        match self.router.state(id) {
            Some(State::Offered { counsellor, .. }) => Some(*counsellor),
            _ => None,
        }
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        let decisions = match op {
            Op::Submit {
                profession: p,
                urgent,
            } => {
                let spec = RequestSpec {
                    requester: AccountId::new_v7(),
                    profession: p.map(profession),
                    urgent: *urgent,
                };
                match self.router.submit(now, spec) {
                    Ok((id, d)) => {
                        self.ids.push(id);
                        d
                    }
                    Err(_) => Vec::new(),
                }
            }
            Op::Accept(i) | Op::Decline(i) => {
                let Some(id) = self.pick(*i) else { return };
                let Some(c) = self.offered_to(id) else { return };
                let r = if matches!(op, Op::Accept(_)) {
                    self.router.accept(now, id, c)
                } else {
                    self.router.decline(now, id, c)
                };
                r.expect("answering an open offer works")
            }
            Op::Cancel(i) => self.on(*i, |r, id| r.cancel(now, id)),
            Op::End(i) => self.on(*i, |r, id| r.end(now, id)),
            Op::Flag(i) => self.on(*i, |r, id| r.flag_urgent(now, id)),
            Op::LeaveMessage(i) => self.on(*i, |r, id| r.leave_message(now, id)),
            Op::Transfer(i, to, p) => {
                let to = to.map(|c| self.counsellors[c].0);
                self.on(*i, |r, id| r.transfer(now, id, to, p.map(profession)))
            }
            Op::Wait(ms) => {
                self.now += ms;
                self.router.tick(self.now)
            }
            Op::Disconnect(c) => self
                .router
                .counsellor_disconnected(now, self.counsellors[*c].0),
            Op::Availability(c, a, cap) => {
                let (id, p) = self.counsellors[*c].clone();
                let a = match a {
                    0 => Availability::Available,
                    1 => Availability::Away,
                    _ => Availability::Offline,
                };
                self.router.set_counsellor(now, id, p, *cap, a)
            }
            Op::Book(c) => {
                let spec = RequestSpec {
                    requester: AccountId::new_v7(),
                    profession: None,
                    urgent: false,
                };
                let (id, d) = self
                    .router
                    .start_booked(now, spec, self.counsellors[*c].0)
                    .expect("a new person's booking starts");
                self.ids.push(id);
                d
            }
            Op::Pause(c, paused) => {
                let id = self.counsellors[*c].0;
                self.router
                    .set_bookings(now, id, *paused, paused.then_some(now + 60_000))
            }
            Op::Absent(i) => self.on(*i, |r, id| r.counsellor_absent(now, id)),
            Op::Missed(i) => self.on(*i, |r, id| r.missed(now, id)),
            Op::Close => self.router.close(now),
            Op::Open => self.router.open(now),
        };
        self.check(&decisions);
    }

    fn on(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Router, ConsultId) -> Result<Vec<Decision>, ibasho_consult::Refused>,
    ) -> Vec<Decision> {
        let Some(id) = self.pick(i) else {
            return Vec::new();
        };
        let before = self.router.state(id).cloned();
        match f(&mut self.router, id) {
            Ok(d) => d,
            Err(_) => {
                assert_eq!(
                    self.router.state(id).cloned(),
                    before,
                    "a refusal changed nothing"
                );
                Vec::new()
            }
        }
    }

    fn check(&mut self, decisions: &[Decision]) {
        self.router.check_invariants();
        for d in decisions {
            match d {
                // The offer may have been answered within the same event by a later
                // decision; check it against the queue as it stands.
                Decision::Offer {
                    consult,
                    counsellor,
                    ..
                } if self.offered_to(*consult) == Some(*counsellor) => {
                    self.router.check_offer_order(*consult, *counsellor);
                }
                Decision::Ended { consult, end } => {
                    let n = self.ended.entry(*consult).or_insert((*end, 0));
                    n.1 += 1;
                    assert_eq!(n.1, 1, "{consult} ended twice");
                }
                _ => {}
            }
        }
        for (id, (end, _)) in &self.ended {
            assert_eq!(
                self.router.state(*id),
                Some(&State::Ended(*end)),
                "an ended request changed"
            );
        }
    }

    /// Closes the queue and ends every consult under way: everything has ended, once.
    fn wind_up(&mut self) {
        let d = self.router.close(self.now);
        self.check(&d);
        for id in self.ids.clone() {
            if matches!(self.router.state(id), Some(State::Active { .. })) {
                let d = self.router.end(self.now, id).expect("ends");
                self.check(&d);
            }
        }
        for id in &self.ids {
            assert_eq!(
                self.ended.get(id).map(|e| e.1),
                Some(1),
                "{id} did not end exactly once"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_request_is_lost_duplicated_or_served_out_of_order(ops in proptest::collection::vec(op(), 1..120)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
        }
        world.wind_up();
    }
}

fn counsellor(router: &mut Router, professions: Vec<Profession>) -> AccountId {
    let id = AccountId::new_v7();
    router.set_counsellor(0, id, professions, 1, Availability::Available);
    id
}

fn request(router: &mut Router, now: i64, urgent: bool) -> (ConsultId, Vec<Decision>) {
    router
        .submit(
            now,
            RequestSpec {
                requester: AccountId::new_v7(),
                profession: None,
                urgent,
            },
        )
        .unwrap()
}

#[test]
fn an_urgent_request_jumps_the_queue_and_offers_go_to_the_longest_idle() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let (first, d) = request(&mut router, 10, false);
    assert!(
        matches!(d[..], [Decision::Offer { consult, counsellor, until: 60_010 }] if consult == first && counsellor == a)
    );
    router.accept(20, first, a).unwrap();
    let (normal, _) = request(&mut router, 30, false);
    let (urgent, d) = request(&mut router, 40, true);
    assert_eq!(d, vec![Decision::Urgent { consult: urgent }]);
    assert_eq!(router.queue(), vec![urgent, normal]);
    assert_eq!(router.position(normal), Some(2));
    // A second counsellor arrives: the urgent request is offered first.
    let b = counsellor(&mut router, vec![Profession::SocialWorker]);
    assert_eq!(
        router.state(urgent),
        Some(&State::Offered {
            counsellor: b,
            until: 60_000
        })
    );
    // The offer lapses unanswered: it goes back, and b is not offered it again while a is free.
    let d = router.tick(60_000);
    assert_eq!(
        d[0],
        Decision::Withdraw {
            consult: urgent,
            counsellor: b
        }
    );
    // b is the only one free, so b is offered it again rather than leave it waiting.
    assert!(
        matches!(router.state(urgent), Some(State::Offered { counsellor, .. }) if *counsellor == b)
    );
    router.accept(60_100, urgent, b).unwrap();
    // a finishes the first consult (10 minutes): the estimate now has a history.
    router.end(600_020, first).unwrap();
    assert!(
        matches!(router.state(normal), Some(State::Offered { counsellor, .. }) if *counsellor == a)
    );
    router.check_invariants();
}

#[test]
fn a_counsellor_who_drops_has_a_grace_then_the_consult_returns_to_the_front() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let (talk, _) = request(&mut router, 0, false);
    router.accept(1, talk, a).unwrap();
    let (later, _) = request(&mut router, 2, false);
    // Dropped, back within the grace: the consult goes on.
    router.counsellor_disconnected(10, a);
    router.set_counsellor(
        60_000,
        a,
        vec![Profession::ClinicalPsychologist],
        1,
        Availability::Available,
    );
    assert_eq!(
        router.state(talk),
        Some(&State::Active {
            counsellor: a,
            interrupted_until: None
        })
    );
    // Dropped for good: after two minutes it waits again, ahead of the one who came later.
    router.counsellor_disconnected(70_000, a);
    let d = router.tick(70_000 + 120_000);
    assert!(d.contains(&Decision::Requeued {
        consult: talk,
        counsellor: a
    }));
    assert_eq!(router.queue(), vec![talk, later]);
    // Closing: those still waiting end with Closed, and the queue refuses new requests.
    let d = router.close(200_000);
    assert!(d.contains(&Decision::Ended {
        consult: talk,
        end: End::Closed
    }));
    assert!(d.contains(&Decision::Ended {
        consult: later,
        end: End::Closed
    }));
    assert!(
        router
            .submit(
                200_001,
                RequestSpec {
                    requester: AccountId::new_v7(),
                    profession: None,
                    urgent: false
                }
            )
            .is_err()
    );
    router.check_invariants();
}

#[test]
fn a_booked_consult_starts_past_the_queue_and_its_counsellor_takes_no_drop_ins_meanwhile() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let b = counsellor(&mut router, vec![Profession::SocialWorker]);
    // a's booked time is near: a is paused, and a waiting request goes to b.
    router.set_bookings(0, a, true, Some(300_000));
    let (drop_in, d) = request(&mut router, 10, false);
    assert!(matches!(d[..], [Decision::Offer { counsellor, .. }] if counsellor == b));
    let booked_person = AccountId::new_v7();
    let (booked, d) = router
        .start_booked(
            60_000,
            RequestSpec {
                requester: booked_person,
                profession: None,
                urgent: false,
            },
            a,
        )
        .unwrap();
    assert_eq!(
        d,
        vec![Decision::Start {
            consult: booked,
            counsellor: a
        }]
    );
    assert!(
        matches!(router.state(booked), Some(State::Active { counsellor, .. }) if *counsellor == a)
    );
    // The same person cannot have two requests open.
    assert!(
        router
            .start_booked(
                60_000,
                RequestSpec {
                    requester: booked_person,
                    profession: None,
                    urgent: false
                },
                b
            )
            .is_err()
    );
    router.check_invariants();
    // The person did not come: missed, and it does not count in the estimates.
    let d = router.missed(1_000_000, booked).unwrap();
    assert!(d.contains(&Decision::Ended {
        consult: booked,
        end: End::Missed
    }));
    router.decline(1_000_001, drop_in, b).unwrap();
    let (_, _) = request(&mut router, 1_000_002, false);
    router.check_invariants();
}

#[test]
fn an_absent_counsellor_s_booked_consult_goes_to_the_front_of_the_queue() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let b = counsellor(&mut router, vec![Profession::SocialWorker]);
    let (talk, _) = request(&mut router, 0, false);
    // b takes the drop-in; one more person waits.
    let offered = match router.state(talk) {
        Some(State::Offered { counsellor, .. }) => *counsellor,
        other => panic!("not offered: {other:?}"),
    };
    router.accept(1, talk, offered).unwrap();
    let (waiting, _) = request(&mut router, 2, false);
    let other = if offered == a { b } else { a };
    router.set_bookings(3, other, true, Some(100));
    let (booked, _) = router
        .start_booked(
            4,
            RequestSpec {
                requester: AccountId::new_v7(),
                profession: None,
                urgent: false,
            },
            other,
        )
        .unwrap();
    // Nobody came for it: it goes ahead of the one who was waiting.
    let d = router.counsellor_absent(300_000, booked).unwrap();
    assert!(d.contains(&Decision::Requeued {
        consult: booked,
        counsellor: other
    }));
    assert_eq!(router.queue(), vec![booked, waiting]);
    assert_eq!(router.position(booked), Some(1));
    router.check_invariants();
}

#[test]
fn the_estimate_leaves_out_counsellors_about_to_start_a_booked_consult() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let b = counsellor(&mut router, vec![Profession::SocialWorker]);
    // Two consults of 20 minutes make the history.
    for start in [0, 1] {
        let (id, _) = request(&mut router, start, false);
        let c = match router.state(id) {
            Some(State::Offered { counsellor, .. }) => *counsellor,
            other => panic!("not offered: {other:?}"),
        };
        router.accept(start, id, c).unwrap();
    }
    let (first, _) = request(&mut router, 2, false);
    let (second, _) = request(&mut router, 3, false);
    let (third, _) = request(&mut router, 4, false);
    let ids: Vec<_> = router
        .open_requests()
        .into_iter()
        .filter(|r| matches!(r.state, State::Active { .. }))
        .map(|r| r.id)
        .collect();
    for id in ids {
        router.end(1_200_000, id).unwrap();
    }
    // Both counsellors now have offers; take them so the three wait in line behind them.
    for id in [first, second] {
        if let Some(State::Offered { counsellor, .. }) = router.state(id).cloned() {
            router.accept(1_200_001, id, counsellor).unwrap();
        }
    }
    let now = 1_200_002;
    let both = router.estimated_wait(third, now).unwrap();
    // b's booked consult starts in 5 minutes, before a 20-minute consult could end.
    router.set_bookings(now, b, false, Some(now + 300_000));
    let one = router.estimated_wait(third, now).unwrap();
    assert!(one >= both, "{one} < {both}");
    // a too: nobody can be counted on, so no estimate rather than a wrong one.
    router.set_bookings(now, a, false, Some(now + 300_000));
    assert_eq!(router.estimated_wait(third, now), None);
    // A booking far ahead does not count.
    router.set_bookings(now, a, false, Some(now + 7_200_000));
    assert!(router.estimated_wait(third, now).is_some());
    router.check_invariants();
}

#[test]
fn a_hand_on_keeps_its_choice_and_a_named_counsellor_who_declines_frees_it() {
    let mut router = Router::new(RouterConfig::default());
    let psych = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let (talk, _) = request(&mut router, 0, false);
    router.accept(1, talk, psych).unwrap();
    let social = counsellor(&mut router, vec![Profession::SocialWorker]);
    // Twenty minutes in, handed on to a social worker: not widened on the next tick.
    let twenty = 1_200_000;
    router
        .transfer(twenty, talk, None, Some(Profession::SocialWorker))
        .unwrap();
    router.tick(twenty + 1_000);
    assert!(
        matches!(router.state(talk), Some(State::Offered { counsellor, .. }) if *counsellor == social)
    );
    router.accept(twenty + 2_000, talk, social).unwrap();
    // Handed on to psych by name, while another counsellor is free; psych declines: now
    // anyone may take it.
    let other = counsellor(&mut router, vec![Profession::Other]);
    router
        .transfer(twenty + 3_000, talk, Some(psych), None)
        .unwrap();
    assert!(
        matches!(router.state(talk), Some(State::Offered { counsellor, .. }) if *counsellor == psych)
    );
    router.decline(twenty + 4_000, talk, psych).unwrap();
    assert!(
        matches!(router.state(talk), Some(State::Offered { counsellor, .. }) if *counsellor == other)
    );
    router.check_invariants();
}

#[test]
fn a_consult_that_loses_its_counsellor_after_closing_ends_rather_than_wait_all_night() {
    let mut router = Router::new(RouterConfig::default());
    let a = counsellor(&mut router, vec![Profession::ClinicalPsychologist]);
    let (talk, _) = request(&mut router, 0, false);
    router.accept(1, talk, a).unwrap();
    router.close(10);
    router.counsellor_disconnected(20, a);
    let d = router.tick(20 + RouterConfig::default().reconnect_grace_ms);
    assert!(d.contains(&Decision::Ended {
        consult: talk,
        end: End::Closed
    }));
    router.check_invariants();
}
