-- Time series on TimescaleDB: hypertables, compression, retention and an hourly continuous aggregate.

CREATE TABLE telemetry (
    ts        timestamptz NOT NULL,
    device_id text NOT NULL,
    metric    text NOT NULL,
    value     double precision NOT NULL,
    seq       bigint,
    PRIMARY KEY (device_id, metric, ts)
);
SELECT create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day');
ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id, metric',
                           timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('telemetry', interval '7 days');
SELECT add_retention_policy('telemetry', interval '90 days');

CREATE TABLE events (
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    site        text NOT NULL,
    kind        text NOT NULL,
    source      text NOT NULL,
    subject     text,
    data        jsonb NOT NULL,
    dedup_key   text NOT NULL,
    PRIMARY KEY (dedup_key, ts)
);
SELECT create_hypertable('events', 'ts', chunk_time_interval => interval '7 days');
CREATE INDEX events_source_ts ON events (source, ts DESC);
CREATE INDEX events_kind_ts ON events (kind, ts DESC);
SELECT add_retention_policy('events', interval '365 days');

CREATE MATERIALIZED VIEW telemetry_hourly WITH (timescaledb.continuous) AS
SELECT time_bucket('1 hour', ts) AS bucket, device_id, metric,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n
FROM telemetry GROUP BY 1, 2, 3 WITH NO DATA;
SELECT add_continuous_aggregate_policy('telemetry_hourly', start_offset => interval '3 days',
                                       end_offset => interval '1 hour', schedule_interval => interval '30 minutes');
