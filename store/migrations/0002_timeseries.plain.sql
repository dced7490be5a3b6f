-- Time series on plain PostgreSQL: native range partitioning by day, BRIN on time.

CREATE TABLE telemetry (
    ts        timestamptz NOT NULL,
    device_id text NOT NULL,
    metric    text NOT NULL,
    value     double precision NOT NULL,
    seq       bigint,
    PRIMARY KEY (device_id, metric, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT;
CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts) WITH (autosummarize = on);

CREATE TABLE events (
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    site        text NOT NULL,
    kind        text NOT NULL,   -- access, door, motion, water, status, littering
    source      text NOT NULL,   -- gate, unit, device or camera id
    subject     text,            -- resident id where there is one
    data        jsonb NOT NULL,
    dedup_key   text NOT NULL,
    PRIMARY KEY (dedup_key, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_ts_brin ON events USING brin (ts) WITH (autosummarize = on);
CREATE INDEX events_source_ts ON events (source, ts DESC);
CREATE INDEX events_kind_ts ON events (kind, ts DESC);

SELECT ew_ensure_daily_partitions('telemetry', current_date - 31, current_date + 8);
SELECT ew_ensure_daily_partitions('events', current_date - 31, current_date + 8);

-- Hourly roll-up with the same name and columns as the TimescaleDB continuous aggregate.
CREATE VIEW telemetry_hourly AS
SELECT date_bin('1 hour', ts, timestamptz '2000-01-01') AS bucket, device_id, metric,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n
FROM telemetry GROUP BY 1, 2, 3;
