-- Control room: silences (a matcher that mutes alerts of one type, optionally in one building, until an end time;
-- silenced alerts are still stored and listed) and each console user's preferences (language).

CREATE TABLE alert_silences (
    id          bigserial PRIMARY KEY,
    site        text NOT NULL,
    type        text NOT NULL,
    building    text,                       -- null: every building
    reason      text NOT NULL CHECK (length(reason) > 0),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    ended_at    timestamptz,                -- set when someone ends the silence early
    CHECK (ends_at > created_at)
);
CREATE INDEX alert_silences_active ON alert_silences (site, ends_at) WHERE ended_at IS NULL;

CREATE TABLE console_preferences (
    principal   text PRIMARY KEY,           -- the signed-in name (user name, or "admin" for the admin token)
    language    text NOT NULL CHECK (language IN ('en', 'zh-CN')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
