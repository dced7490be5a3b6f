-- Devices, rejected messages and the helper that keeps daily partitions ahead of time.

CREATE TABLE devices (
    device_id      text PRIMARY KEY,
    site           text NOT NULL,
    kind           text NOT NULL,              -- sensor, camera, gate, unit
    registered     boolean NOT NULL DEFAULT false, -- provisioned by an operator, not just discovered
    interval_s     double precision,           -- expected reporting interval, for offline rules
    first_seen     timestamptz,
    last_seen      timestamptz,
    status         text NOT NULL DEFAULT 'unknown', -- online, offline, unknown
    status_changed timestamptz,
    messages       bigint NOT NULL DEFAULT 0,
    meta           jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX devices_site_kind ON devices (site, kind);

CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    kind         text NOT NULL,     -- telemetry, access, door, motion, water, status, frame, unknown
    reason       text NOT NULL,     -- machine-readable: not_json, schema, oversized, ...
    detail       text NOT NULL,     -- human-readable explanation
    payload      bytea,             -- first bytes of what arrived
    payload_size integer NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);
CREATE INDEX dead_letters_reason ON dead_letters (reason, received_at DESC);

-- Make one daily partition per day in [from_day, to_day) for a range-partitioned parent; a no-op for days present.
CREATE FUNCTION ew_ensure_daily_partitions(parent regclass, from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d date := from_day;
    made integer := 0;
    part text;
BEGIN
    WHILE d < to_day LOOP
        part := format('%s_p%s', parent::text, to_char(d, 'YYYYMMDD'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                           part, parent, d::timestamptz, (d + 1)::timestamptz);
            made := made + 1;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN made;
END $$;

-- Drop daily partitions wholly older than keep_from; returns how many were dropped.
CREATE FUNCTION ew_drop_daily_partitions(parent regclass, keep_from date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    dropped integer := 0;
BEGIN
    FOR r IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent AND c.relname ~ '_p[0-9]{8}$'
    LOOP
        IF to_date(right(r.relname, 8), 'YYYYMMDD') < keep_from THEN
            EXECUTE format('DROP TABLE %I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END $$;
