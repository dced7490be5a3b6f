-- Alerts area: residents and their presence/rule state, one alert model with history and comments,
-- webhook endpoints, the durable outbox (webhooks and the MQTT alerts topic) and every delivery attempt.

CREATE TABLE residents (
    resident_id    text PRIMARY KEY,            -- pseudonymous id from the access / face-recognition system
    site           text NOT NULL,
    unit           text NOT NULL,
    building       text,
    floor          integer,
    elderly        boolean NOT NULL DEFAULT false,
    lives_alone    boolean NOT NULL DEFAULT false,
    not_out_hours  double precision NOT NULL DEFAULT 24 CHECK (not_out_hours > 0),
    no_sign_hours  double precision NOT NULL DEFAULT 12 CHECK (no_sign_hours > 0),
    contacts       jsonb NOT NULL DEFAULT '[]'::jsonb,
    consent        boolean NOT NULL DEFAULT true,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX residents_site_unit ON residents (site, unit);

-- Away / hospital periods pause the rules for a resident.
CREATE TABLE resident_away (
    id          bigserial PRIMARY KEY,
    resident_id text NOT NULL REFERENCES residents ON DELETE CASCADE,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT 'away',   -- away, hospital, other
    CHECK (ends_at > starts_at)
);
CREATE INDEX resident_away_resident ON resident_away (resident_id, ends_at);

-- Fused presence and rule progress per resident; next_due_at drives the due-time tick, so a restart loses no timer.
CREATE TABLE resident_state (
    resident_id text PRIMARY KEY REFERENCES residents ON DELETE CASCADE,
    state       jsonb NOT NULL,                 -- alerts.presence.PresenceState as JSON
    next_due_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resident_state_due ON resident_state (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE alerts (
    id               text PRIMARY KEY,
    site             text NOT NULL,
    type             text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('info', 'minor', 'major', 'critical')),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    dedup_key        text NOT NULL,
    count            integer NOT NULL DEFAULT 1,
    title            text NOT NULL,
    subject          jsonb NOT NULL DEFAULT '{}'::jsonb,
    building         text,
    floor            integer,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb,
    evidence         jsonb NOT NULL DEFAULT '{}'::jsonb,
    first_occurred_at timestamptz NOT NULL,
    last_occurred_at timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    resolved_at      timestamptz,
    resolution       text CHECK (resolution IN ('true_positive', 'false_positive', 'duplicate', 'other')),
    assignee         text,
    sla_class        text NOT NULL,
    ack_due_at       timestamptz NOT NULL,
    resolve_due_at   timestamptz NOT NULL,
    ack_breached     boolean NOT NULL DEFAULT false,
    resolve_breached boolean NOT NULL DEFAULT false,
    escalation_level integer NOT NULL DEFAULT 0,
    recipient_group  text NOT NULL
);
-- At most one active alert per dedup key: a second raise updates it.
CREATE UNIQUE INDEX alerts_active_dedup ON alerts (site, dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_created ON alerts (created_at DESC);
CREATE INDEX alerts_status_type ON alerts (status, type, created_at DESC);
CREATE INDEX alerts_sla_open ON alerts (ack_due_at) WHERE status = 'open' AND NOT ack_breached;
CREATE INDEX alerts_sla_unresolved ON alerts (resolve_due_at) WHERE status <> 'resolved' AND NOT resolve_breached;
CREATE INDEX alerts_subject_resident ON alerts ((subject->>'resident')) WHERE subject ? 'resident';

CREATE TABLE alert_history (
    id       bigserial PRIMARY KEY,
    alert_id text NOT NULL REFERENCES alerts ON DELETE CASCADE,
    at       timestamptz NOT NULL,
    kind     text NOT NULL,       -- created, repeated, acknowledged, assigned, commented, escalated, resolved
    actor    text NOT NULL,       -- system or the staff member's name
    data     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

CREATE TABLE alert_comments (
    id       bigserial PRIMARY KEY,
    alert_id text NOT NULL REFERENCES alerts ON DELETE CASCADE,
    at       timestamptz NOT NULL,
    author   text NOT NULL,
    body     text NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments (alert_id, id);

CREATE TABLE webhook_endpoints (
    id              text PRIMARY KEY,
    url             text NOT NULL,
    secret          text NOT NULL,               -- whsec_<base64>
    events          text[] NOT NULL DEFAULT '{}', -- alert.new, alert.update, alert.resolved; empty = all
    alert_types     text[] NOT NULL DEFAULT '{}', -- empty = all
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    description     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Written in the same transaction as the alert change; the dispatcher delivers it at least once.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    created_at      timestamptz NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('webhook', 'mqtt')),
    endpoint_id     text REFERENCES webhook_endpoints ON DELETE CASCADE,
    msg_id          text NOT NULL,               -- webhook-id: the same on every retry
    event_type      text NOT NULL,               -- alert.new, alert.update, alert.resolved
    alert_id        text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    delivered_at    timestamptz,
    CHECK ((channel = 'webhook') = (endpoint_id IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (id DESC) WHERE status = 'dead';
CREATE INDEX outbox_alert ON outbox (alert_id);

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint NOT NULL REFERENCES outbox ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status_code integer,
    error       text,
    duration_ms double precision NOT NULL
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, id);

-- Sensor and device rule progress (e-bike charger windows, offline timers), keyed by device.
CREATE TABLE sensor_rule_state (
    device_id   text PRIMARY KEY,
    site        text NOT NULL,
    state       jsonb NOT NULL,
    next_due_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sensor_rule_state_due ON sensor_rule_state (next_due_at) WHERE next_due_at IS NOT NULL;

-- The rules' in-memory resident directory checks these two to know when to reload.
CREATE INDEX residents_site_updated ON residents (site, updated_at);
