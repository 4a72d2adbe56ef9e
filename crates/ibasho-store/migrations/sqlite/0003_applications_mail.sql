-- Applications from the public home page, and the outbox of e-mail.

CREATE TABLE applications (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL,
    relation        TEXT NOT NULL,
    message         TEXT NOT NULL DEFAULT '',
    lang            TEXT NOT NULL DEFAULT 'ja',
    -- Which consent text the applicant agreed to.
    consent_version TEXT NOT NULL,
    -- pending | invited | declined | archived
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      INTEGER NOT NULL,
    decided_by      TEXT REFERENCES accounts(id),
    decided_at      INTEGER
);
CREATE INDEX applications_created ON applications (created_at);

-- Mail waits here until the SMTP server has taken it; failures are retried with backoff.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
