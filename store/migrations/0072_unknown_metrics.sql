-- Metrics that no sensor rule knows, counted per site, device kind and metric name, so a sensor that reports
-- under a name the profile lacks is shown to the control room instead of being ignored. One row per
-- (site, kind, metric); the alerts service adds each batch's counts in one statement.

CREATE TABLE unknown_metrics (
    site text NOT NULL,
    device_kind text NOT NULL,
    metric text NOT NULL,
    readings bigint NOT NULL DEFAULT 0 CHECK (readings >= 0),
    devices text[] NOT NULL DEFAULT '{}',  -- a few example device ids (at most 5)
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (site, device_kind, metric)
);
