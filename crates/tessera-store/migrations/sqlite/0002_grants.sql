-- Grants: what a user allowed one client in one session. The refresh family becomes the grant
-- (its rows and ids are kept), its refresh tokens point at it, and the access tokens it issued
-- are recorded by jti so that revoking the grant reaches them too.

ALTER TABLE refresh_families RENAME TO grants;
ALTER TABLE refresh_tokens RENAME COLUMN family_id TO grant_id;
DROP INDEX refresh_families_sid;
DROP INDEX refresh_families_user;
DROP INDEX refresh_families_client;
DROP INDEX refresh_families_expires;
CREATE INDEX grants_sid ON grants(sid);
CREATE INDEX grants_user ON grants(user_id);
CREATE INDEX grants_client ON grants(client_id);
CREATE INDEX grants_expires ON grants(expires_at);
DROP INDEX refresh_tokens_family;
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
-- Set when a rotated token was presented again within tokens.refresh_reuse_interval and
-- rotated again: a token is retried at most once.
ALTER TABLE refresh_tokens ADD COLUMN retried_at INTEGER;

CREATE TABLE grant_access_tokens (
    jti        TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX grant_access_tokens_grant ON grant_access_tokens(grant_id);
CREATE INDEX grant_access_tokens_expires ON grant_access_tokens(expires_at);

-- Facts every process on this database must agree on (the server's access-token lifetime,
-- which decides how long revocations and keys are kept), as JSON values.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The built-in first-party client was registered with the issuer of the first start as its
-- audience, which a later --listen or issuer change left stale. It now stores none: its tokens
-- take the issuer in force as audience (TokenPolicy::audiences_for).
UPDATE clients SET audiences = '[]'
WHERE client_id = 'tessera' AND audiences LIKE '["http%"]' AND audiences NOT LIKE '%","%';

-- Single-use artifacts (authorization codes, magic links, one-time codes, MFA tokens), stored
-- only as hashes. taken_at is set once; voided_at when a newer one for the subject replaces it.
CREATE TABLE artifacts (
    kind         TEXT NOT NULL,
    hash         BLOB NOT NULL,
    subject      TEXT NOT NULL,
    grant_id     TEXT,                   -- no foreign key: a replay must find it after the grant
    payload      TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    taken_at     INTEGER,
    voided_at    INTEGER,
    PRIMARY KEY (kind, hash)
);
CREATE INDEX artifacts_subject ON artifacts(kind, subject);
CREATE INDEX artifacts_expires ON artifacts(expires_at);
