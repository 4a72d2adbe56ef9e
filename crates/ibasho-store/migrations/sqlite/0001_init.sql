-- ibasho schema, SQLite. Times are milliseconds since the Unix epoch (UTC); ids are UUID text.

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY NOT NULL,
    handle       TEXT NOT NULL,
    -- NFKC + lowercase of the handle: handles are unique case- and width-insensitively.
    handle_key   TEXT NOT NULL UNIQUE,
    avatar_shape TEXT NOT NULL,
    avatar_color TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE rooms (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    topic      TEXT NOT NULL DEFAULT '',
    capacity   INTEGER NOT NULL,
    -- The sequence number of the room's latest event; incremented in the same transaction
    -- that stores the event, so that numbers are strictly increasing without gaps.
    last_seq   INTEGER NOT NULL DEFAULT 0,
    archived   INTEGER NOT NULL DEFAULT 0,
    created_by TEXT REFERENCES accounts(id),
    created_at INTEGER NOT NULL
);

-- Messages as they stand now (history pages are read from here).
CREATE TABLE messages (
    id            TEXT PRIMARY KEY NOT NULL,
    room_id       TEXT NOT NULL REFERENCES rooms(id),
    -- The seq of the event that posted it.
    seq           INTEGER NOT NULL,
    author_id     TEXT NOT NULL REFERENCES accounts(id),
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted       INTEGER NOT NULL DEFAULT 0,
    -- The client's idempotency key: a re-sent post is stored once.
    client_msg_id TEXT,
    UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (room_id, author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id),
    stamp      TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, stamp, account_id)
);

-- Every timeline event, for resuming clients. A deleted message's text is scrubbed here too.
CREATE TABLE room_events (
    room_id    TEXT NOT NULL REFERENCES rooms(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE INDEX room_events_message ON room_events (message_id);

CREATE TABLE mutes (
    room_id    TEXT NOT NULL REFERENCES rooms(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    until      INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);

CREATE TABLE removals (
    room_id    TEXT NOT NULL REFERENCES rooms(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    at         INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);

-- Who did what to whom, when and why. Append-only.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    actor_id       TEXT NOT NULL REFERENCES accounts(id),
    action         TEXT NOT NULL,
    room_id        TEXT,
    target_account TEXT,
    target_message TEXT,
    reason         TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT 'null'
);
