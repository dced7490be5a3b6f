-- Bearer tokens for integrators and staff; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    token_sha256 text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
