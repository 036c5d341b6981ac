-- Tessera's first schema. Times are Unix seconds (INTEGER); lists are JSON arrays (TEXT);
-- secrets are never stored, only their hashes (BLOB).

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    secret_hash   BLOB,                 -- NULL for public clients
    redirect_uris TEXT NOT NULL,
    grant_types   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    access_ttl    INTEGER,
    refresh_ttl   INTEGER,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    sid        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('browser', 'api')),
    user_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id  TEXT REFERENCES clients(client_id) ON DELETE SET NULL,
    auth_time  INTEGER NOT NULL,
    acr        TEXT,
    amr        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE refresh_families (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sid        TEXT NOT NULL REFERENCES sessions(sid) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX refresh_families_sid ON refresh_families(sid);
CREATE INDEX refresh_families_user ON refresh_families(user_id);
CREATE INDEX refresh_families_client ON refresh_families(client_id);
CREATE INDEX refresh_families_expires ON refresh_families(expires_at);

CREATE TABLE refresh_tokens (
    hash      BLOB PRIMARY KEY,          -- SHA-256 of the token; the token itself is never stored
    family_id TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    issued_at INTEGER NOT NULL,
    used_at   INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    private_key  BLOB NOT NULL,          -- encrypted under the master key
    public_jwk   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    not_before   INTEGER NOT NULL,
    retire_after INTEGER,
    created_at   INTEGER NOT NULL
);
-- At most one signing key per algorithm is active, whatever the code does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(alg) WHERE state = 'active';

CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'sid', 'sub')),
    value      TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revocations_target ON revocations(kind, value);
CREATE INDEX revocations_expires ON revocations(expires_at);

CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL,
    actor     TEXT,
    ip        TEXT,
    client_id TEXT,                      -- no foreign key: the log outlives removed clients
    details   TEXT NOT NULL,
    time      INTEGER NOT NULL
);
