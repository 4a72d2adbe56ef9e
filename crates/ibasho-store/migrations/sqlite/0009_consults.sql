-- Private consultations (issue 5). A request's row is written before anyone is told of a
-- change, so that a restart finds the queue as it was. What was said lives in the consult's
-- room (rooms/messages/room_events, room id 'consult-<id>'); the retention purge deletes it
-- together with the first message, the handover note and left messages.

CREATE TABLE consults (
    id            INTEGER PRIMARY KEY NOT NULL,
    requester_id  TEXT NOT NULL REFERENCES accounts(id),
    topic         TEXT NOT NULL,
    for_whom      TEXT NOT NULL,
    profession    TEXT,
    channel       TEXT NOT NULL,
    first_message TEXT,
    urgent        INTEGER NOT NULL DEFAULT 0,
    requested_at  INTEGER NOT NULL,
    queued_at     INTEGER NOT NULL,
    front         INTEGER NOT NULL DEFAULT 0,
    counsellor_id TEXT REFERENCES accounts(id),
    started_at    INTEGER,
    only_id       TEXT REFERENCES accounts(id),
    handover      TEXT,
    ended         TEXT,
    ended_at      INTEGER,
    purged        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX consults_open ON consults (id) WHERE ended IS NULL;
CREATE INDEX consults_ended_at ON consults (ended_at) WHERE ended IS NOT NULL AND purged = 0;

-- A counsellor's private wrap-up, one per counsellor who had the consult. Never shown to the
-- requester; kept after the purge (the service's record of what it did).
CREATE TABLE consult_notes (
    consult_id    INTEGER NOT NULL REFERENCES consults(id),
    counsellor_id TEXT NOT NULL REFERENCES accounts(id),
    notes         TEXT NOT NULL,
    outcome       TEXT,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (consult_id, counsellor_id)
);

-- Messages left when no one was free, to be contacted at the next opening.
CREATE TABLE consult_messages (
    consult_id  INTEGER PRIMARY KEY NOT NULL REFERENCES consults(id),
    body        TEXT NOT NULL,
    left_at     INTEGER NOT NULL,
    handled_by  TEXT REFERENCES accounts(id),
    handled_at  INTEGER
);

-- What staff set for each counsellor.
CREATE TABLE counsellor_profiles (
    account_id  TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id),
    professions TEXT NOT NULL,
    capacity    INTEGER NOT NULL,
    supervisor  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL
);
