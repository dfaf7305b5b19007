-- Signed-out sign-in tokens (POST /v1/auth/logout): a token's id (its `jti`) is refused by every ingress
-- replica until the token expires, across restarts. Only ids and expiry times are kept, never a name;
-- rows are deleted once their token has expired (lfr_core/tokens.py). The services' login writes them
-- (default privileges, lfr_core/db/harden.py); people have no rights here and sign out through the API.
CREATE TABLE revoked_tokens (
    jti text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 255),
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
