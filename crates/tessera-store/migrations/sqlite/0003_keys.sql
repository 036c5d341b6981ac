-- Signing keys gain the state 'revoked' (`tessera keys revoke KID`: withdrawn at once, never
-- published again). SQLite cannot alter a CHECK constraint, so the table is rebuilt; nothing
-- references it.
CREATE TABLE signing_keys_v3 (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL,
    private_key  BLOB NOT NULL,          -- encrypted under the master key
    public_jwk   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired', 'revoked')),
    not_before   INTEGER NOT NULL,
    retire_after INTEGER,
    created_at   INTEGER NOT NULL
);
INSERT INTO signing_keys_v3 (kid, alg, private_key, public_jwk, state, not_before, retire_after, created_at)
    SELECT kid, alg, private_key, public_jwk, state, not_before, retire_after, created_at FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_v3 RENAME TO signing_keys;
-- At most one signing key per algorithm is active, whatever the code does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(alg) WHERE state = 'active';
