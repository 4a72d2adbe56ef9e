-- Consult appointments (issue 7). A counsellor's bookable time is kept as the rule they gave
-- (slots are cut from it when asked); a booking holds one counsellor's time. Of two attempts
-- at the same time exactly one wins: the booking is one conditional INSERT (no live booking
-- of that counsellor overlaps it), and the partial unique index below refuses a second live
-- booking of the same start even where statements are not serialised.

CREATE TABLE appointment_rules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    counsellor_id TEXT NOT NULL REFERENCES accounts(id),
    spec          TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES accounts(id),
    created_at    INTEGER NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX appointment_rules_live ON appointment_rules (counsellor_id) WHERE deleted_at IS NULL;

CREATE TABLE appointments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    counsellor_id       TEXT NOT NULL REFERENCES accounts(id),
    requester_id        TEXT NOT NULL REFERENCES accounts(id),
    starts_at           INTEGER NOT NULL,
    ends_at             INTEGER NOT NULL,
    for_whom            TEXT NOT NULL,
    topic               TEXT NOT NULL,
    first_note          TEXT,
    state               TEXT NOT NULL,
    cancelled_by        TEXT,
    message             TEXT,
    email_reminders     INTEGER NOT NULL DEFAULT 0,
    -- The address the person gave for this booking's reminders (participants' accounts keep
    -- no address); erased with the first note.
    email               TEXT,
    consult_id          INTEGER REFERENCES consults(id),
    booked_at           INTEGER NOT NULL,
    changed_at          INTEGER NOT NULL,
    reminded_day_before INTEGER NOT NULL DEFAULT 0,
    reminded_soon       INTEGER NOT NULL DEFAULT 0,
    requester_came_at   INTEGER,
    counsellor_came_at  INTEGER,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX appointments_one_per_slot ON appointments (counsellor_id, starts_at)
    WHERE state IN ('booked', 'open');
CREATE INDEX appointments_starts ON appointments (starts_at);
CREATE INDEX appointments_requester ON appointments (requester_id, starts_at);
CREATE INDEX appointments_live ON appointments (starts_at) WHERE state IN ('booked', 'open');

-- The booking a consult was opened for.
ALTER TABLE consults ADD COLUMN appointment_id INTEGER REFERENCES appointments(id);
