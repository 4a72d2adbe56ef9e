-- Programmes, their sessions (one occurrence or a recurring series), and occurrences called
-- off. A session's schedule is stored as the JSON the API takes (first_date, start, minutes,
-- rrule, except_dates, extra_dates, open_before_minutes, warn_before_minutes): it is read
-- whole and compiled by the schedule crate, never queried by field.

CREATE TABLE programmes (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL,
    -- JSON arrays: account ids; attendance modes; age bands.
    hosts       TEXT NOT NULL DEFAULT '[]',
    modes       TEXT NOT NULL,
    capacity    INTEGER NOT NULL,
    age_bands   TEXT NOT NULL DEFAULT '[]',
    -- JSON: {"kind":"upload",...} or {"kind":"link","url":...}; NULL: none.
    gallery     TEXT,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_by  TEXT REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE programme_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes(id),
    schedule     TEXT NOT NULL,
    -- The whole series was called off (occurrences after updated_at), with this reason.
    cancelled    TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX programme_sessions_programme ON programme_sessions (programme_id);

CREATE TABLE session_cancellations (
    session_id TEXT NOT NULL REFERENCES programme_sessions(id),
    start      INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, start)
);

-- A programme room carries its programme description (JSON, as in the protocol's RoomInfo).
ALTER TABLE rooms ADD COLUMN programme TEXT;
