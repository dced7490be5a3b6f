-- Dispatch and the 54321 loop: the people an alert can be sent to, work orders with one SLA clock per stage
-- (on site, solved, a plan for hard cases), and the notes one shift leaves the next.

CREATE TABLE responders (
    id            text PRIMARY KEY,            -- short slug, e.g. grid-wang
    site          text NOT NULL,
    name          text NOT NULL CHECK (length(name) > 0),
    team          text NOT NULL CHECK (team IN ('grid', 'security', 'maintenance')),
    phone         text NOT NULL CHECK (length(phone) > 0),
    supervisor_id text REFERENCES responders ON DELETE SET NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (supervisor_id IS NULL OR supervisor_id <> id)
);
CREATE INDEX responders_site_team ON responders (site, team, name);

CREATE TABLE work_orders (
    id               text PRIMARY KEY,
    site             text NOT NULL,
    alert_id         text NOT NULL REFERENCES alerts ON DELETE CASCADE,
    team             text NOT NULL CHECK (team IN ('grid', 'security', 'maintenance')),
    responder_id     text REFERENCES responders ON DELETE SET NULL,   -- null: sent to the whole team
    assignee_name    text NOT NULL,               -- as dispatched, so the record stays true if the directory changes
    assignee_phone   text,
    supervisor_id    text REFERENCES responders ON DELETE SET NULL,
    supervisor_name  text,
    complexity       text NOT NULL CHECK (complexity IN ('simple', 'general', 'complex', 'hard')),
    status           text NOT NULL DEFAULT 'assigned' CHECK (status IN ('assigned', 'on_site', 'solved')),
    brief            jsonb NOT NULL,              -- the alert as sent: type, place, title, evidence links
    token_sha256     text NOT NULL UNIQUE,        -- the responder's link carries the token; only its hash is kept
    token_expires_at timestamptz NOT NULL,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    on_site_at       timestamptz,
    solved_at        timestamptz,
    plan_note        text,
    solve_note       text
);
CREATE INDEX work_orders_alert ON work_orders (alert_id, created_at);
CREATE INDEX work_orders_site_open ON work_orders (site, created_at DESC) WHERE status <> 'solved';

-- One SLA clock per stage of a work order: when it is due, when it was met, when it was breached and who was told.
CREATE TABLE work_order_stages (
    work_order_id text NOT NULL REFERENCES work_orders ON DELETE CASCADE,
    stage         text NOT NULL CHECK (stage IN ('on_site', 'solve', 'plan')),
    due_at        timestamptz NOT NULL,
    met_at        timestamptz,
    breached_at   timestamptz,
    escalated_to  text,
    PRIMARY KEY (work_order_id, stage)
);
CREATE INDEX work_order_stages_due ON work_order_stages (due_at) WHERE met_at IS NULL AND breached_at IS NULL;

CREATE TABLE handover_notes (
    id         bigserial PRIMARY KEY,
    site       text NOT NULL,
    author     text NOT NULL,
    body       text NOT NULL CHECK (length(body) > 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX handover_notes_site ON handover_notes (site, created_at DESC);

CREATE TABLE handover_reads (
    note_id   bigint NOT NULL REFERENCES handover_notes ON DELETE CASCADE,
    principal text NOT NULL,
    read_at   timestamptz NOT NULL,
    PRIMARY KEY (note_id, principal)
);
