-- Console users and their server-side sessions.
-- Passwords are stored as scrypt hashes; sessions by the SHA-256 of their cookie value, so a database leak
-- hands out neither passwords nor live sessions.

CREATE TABLE users (
    username      text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name  text,
    role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash text NOT NULL,            -- scrypt$n$r$p$salt_b64$hash_b64
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz               -- a disabled user cannot log in and loses live sessions
);

CREATE TABLE sessions (
    id_sha256   text PRIMARY KEY,
    username    text REFERENCES users (username) ON DELETE CASCADE, -- null: opened with a bearer token
    name        text NOT NULL,               -- who, as shown in history ("admin" for the admin token)
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    csrf_token  text NOT NULL,               -- must come back in X-CSRF-Token on unsafe methods
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    user_agent  text
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_expires ON sessions (expires_at);
