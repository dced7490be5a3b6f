-- Webhook secrets: never empty, sealed at rest by the application (AES-GCM), and a previous secret that still
-- signs during a rotation's overlap. Indexes for the retention passes over the outbox and the dead letters.
ALTER TABLE webhook_endpoints
    ADD COLUMN previous_secret       text,
    ADD COLUMN previous_secret_until timestamptz,
    ADD CONSTRAINT webhook_secret_not_empty CHECK (secret <> ''),
    ADD CONSTRAINT webhook_previous_secret_not_empty CHECK (previous_secret IS NULL OR previous_secret <> '');

CREATE INDEX outbox_delivered_at ON outbox (delivered_at) WHERE status = 'delivered';
CREATE INDEX outbox_dead_created ON outbox (created_at) WHERE status = 'dead';
CREATE INDEX littering_events_evidence_age ON littering_events (occurred_at)
    WHERE snapshot_path IS NOT NULL OR mjpeg_path IS NOT NULL OR clip_path IS NOT NULL;
