-- Learnt routines of residents (alerts.inactivity): one compact model image per resident (zlib over float32
-- arrays, about 1 KB) and the no_activity rule's progress, so a restart keeps what was learnt.
CREATE TABLE resident_routines (
    resident_id text PRIMARY KEY REFERENCES residents ON DELETE CASCADE,
    model       bytea NOT NULL CHECK (octet_length(model) BETWEEN 16 AND 65536),
    progress    jsonb NOT NULL DEFAULT '{}'::jsonb,   -- silence_since, raised_for
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Settings of the inactivity rule: one row per estate (resident_id NULL) and optional per-resident overrides.
CREATE TABLE inactivity_settings (
    site        text NOT NULL,
    resident_id text REFERENCES residents ON DELETE CASCADE,
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inactivity_settings_estate ON inactivity_settings (site) WHERE resident_id IS NULL;
CREATE UNIQUE INDEX inactivity_settings_resident ON inactivity_settings (resident_id) WHERE resident_id IS NOT NULL;
