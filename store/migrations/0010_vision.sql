-- Vision: cameras with their calibration and health, and littering events with their evidence.

CREATE TABLE cameras (
    camera_id     text PRIMARY KEY,
    site          text NOT NULL,
    name          text,
    building      text,
    config        jsonb NOT NULL DEFAULT '{}'::jsonb,  -- the CAMERA.json object (floor_lines, masks, columns)
    width         integer,                            -- full resolution of the latest frame
    height        integer,
    fps           double precision,                   -- measured over the last health interval
    last_frame_at timestamptz,
    frames        bigint NOT NULL DEFAULT 0,
    rejected      bigint NOT NULL DEFAULT 0,           -- corrupt, truncated, oversized, undecodable frames
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cameras_site ON cameras (site);

CREATE TABLE littering_events (
    event_id      text PRIMARY KEY,
    site          text NOT NULL,
    camera_id     text NOT NULL,
    building      text,
    occurred_at   timestamptz NOT NULL,   -- first detection of the falling object
    ended_at      timestamptz NOT NULL,
    frame_start   bigint NOT NULL,        -- frame numbers counted by the vision worker since it first saw the camera
    frame_end     bigint NOT NULL,
    floor         integer,                -- null without floor calibration
    window_column integer,
    origin_x      real NOT NULL,          -- estimated release point, full-resolution px
    origin_y      real NOT NULL,
    score         real NOT NULL,
    track         jsonb NOT NULL,         -- [[frame, x, y], ...]
    snapshot_path text,                   -- relative to the evidence directory; null until written
    mjpeg_path    text,                   -- the clip as the camera's JPEGs (index file), written with the snapshot
    clip_path     text,                   -- the clip as VP9/MP4, encoded a few seconds later
    alert_id      text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX littering_events_site_ts ON littering_events (site, occurred_at DESC);
CREATE INDEX littering_events_camera_ts ON littering_events (camera_id, occurred_at DESC);
