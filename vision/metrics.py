"""Prometheus metrics of the vision service (parent process; workers report back to it over a queue)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

# ok = decoded and analysed; the others are refusals (before a worker) or failures (in the worker)
FRAMES = Counter("ew_frames_total", "Camera frames by outcome (ok, oversized, not_jpeg, truncated, corrupt, "
                 "decode_failed, dropped, error)", ["camera", "result"])
RESOLUTION_CHANGES = Counter("ew_camera_resolution_changes_total", "Frame size changed mid-stream", ["camera"])
SECONDS_SINCE_FRAME = Gauge("ew_camera_seconds_since_frame", "Seconds since the camera's last frame", ["camera"])
SILENT = Gauge("ew_camera_silent", "1 while the camera has sent nothing for longer than the silence limit",
               ["camera"])
SILENCES = Counter("ew_camera_silences_total", "Times a camera went silent", ["camera"])
LITTERING_EVENTS = Counter("ew_littering_events_total", "Littering events detected", ["camera"])
TRACKS_REJECTED = Counter("ew_tracks_rejected_total", "Tracks of 8 or more detections judged not to be a fall, by the "
                          "classifier's reason", ["camera", "reason"])
EVIDENCE_FAILURES = Counter("ew_evidence_failures_total", "Evidence that could not be written", ["camera"])
WORKER_RESTARTS = Counter("ew_vision_worker_restarts_total", "Vision worker processes restarted after dying")
