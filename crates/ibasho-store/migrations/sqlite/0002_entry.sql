-- Entry: invitations, registration, credentials, device sessions.

-- active | suspended | deleted
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
-- self | family (participants and family members)
ALTER TABLE accounts ADD COLUMN relation TEXT;
ALTER TABLE accounts ADD COLUMN age_band TEXT;
-- clinical_psychologist | social_worker | other (counsellors)
ALTER TABLE accounts ADD COLUMN profession TEXT;
ALTER TABLE accounts ADD COLUMN supervisor INTEGER NOT NULL DEFAULT 0;
-- Lowercased sign-in e-mail, for roles that sign in with a password.
ALTER TABLE accounts ADD COLUMN email TEXT;
-- argon2id (PHC string) of the password or passphrase.
ALTER TABLE accounts ADD COLUMN secret_hash TEXT;
-- Base32 TOTP secret when two-step sign-in is on; the last step used, against replay.
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX accounts_email ON accounts (email) WHERE email IS NOT NULL;

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash  TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    profession  TEXT,
    supervisor  INTEGER NOT NULL DEFAULT 0,
    lang        TEXT NOT NULL DEFAULT 'ja',
    created_by  TEXT NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER,
    account_id  TEXT REFERENCES accounts(id)
);

-- One row per sign-in on a device; every refresh token descends from one.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token.
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when rotated; presenting it again means a copy exists.
    used_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
