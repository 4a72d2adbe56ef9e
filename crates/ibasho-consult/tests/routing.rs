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
