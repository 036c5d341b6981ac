-- The browser flows: a client's browser settings, browser sessions reached by their cookie's
-- hash, and remembered consents.
ALTER TABLE clients ADD COLUMN browser TEXT NOT NULL DEFAULT '{}';

-- Claims a grant's client asked for one by one (the claims parameter), released with its scopes.
ALTER TABLE grants ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';

-- The OpenID Connect standard claims of an account (profile, address, phone), as one document.
ALTER TABLE accounts ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';

ALTER TABLE sessions ADD COLUMN cookie_hash BLOB;       -- SHA-256 of the cookie; NULL for API sessions
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;   -- the idle lifetime runs from here
CREATE UNIQUE INDEX sessions_cookie ON sessions(cookie_hash) WHERE cookie_hash IS NOT NULL;

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
