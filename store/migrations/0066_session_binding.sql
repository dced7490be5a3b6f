-- Sessions bound to the credential that opened them, and integrator tokens that can be listed and revoked.
--
-- A session opened with a bearer token records that token's hash: it lives only while the token does (an API
-- token not revoked, the admin token not rotated). Sessions opened with a token before this migration carry no
-- such record and are ended here.

ALTER TABLE sessions ADD COLUMN token_sha256 text;
ALTER TABLE sessions ADD COLUMN admin_token boolean NOT NULL DEFAULT false;
DELETE FROM sessions WHERE username IS NULL;
ALTER TABLE sessions ADD CONSTRAINT sessions_credential CHECK (
    (username IS NOT NULL AND token_sha256 IS NULL AND NOT admin_token)
    OR (username IS NULL AND token_sha256 IS NOT NULL)
);
CREATE INDEX sessions_token ON sessions (token_sha256) WHERE token_sha256 IS NOT NULL;

-- integrator tokens: a number to list and revoke them by, who issued them, and an optional end
ALTER TABLE api_tokens ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE api_tokens ADD COLUMN created_by text;
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;
