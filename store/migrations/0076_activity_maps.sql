-- Learned nuisance zones: each camera's activity map (vision/activity_map.py), saved by the vision worker that owns
-- the camera every few minutes and when it stops, and loaded when it starts again; the API shows it to the console.

CREATE TABLE activity_maps (
    site        text NOT NULL,
    camera_id   text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    grid_rows   integer NOT NULL CHECK (grid_rows > 0),
    grid_cols   integer NOT NULL CHECK (grid_cols > 0),
    observed_s  double precision NOT NULL CHECK (observed_s >= 0),  -- seconds of frames the map is made of
    data        bytea NOT NULL,             -- the map as vision/activity_map.py stores it (header and cells)
    PRIMARY KEY (site, camera_id)
);
