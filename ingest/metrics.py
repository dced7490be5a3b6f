"""Prometheus metrics of the ingest path (shown at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "ew_ingest_messages_total", "MQTT messages handled by ingest", ["kind", "result", "reason"]
)
ROWS = Counter("ew_ingest_rows_total", "Rows newly stored (redeliveries excluded)", ["table"])
DUPLICATES = Counter("ew_ingest_duplicates_total", "Rows skipped because they were already stored", ["table"])
BATCH_ROWS = Histogram(
    "ew_ingest_batch_messages", "Messages per committed batch", buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000)
)
WRITE_SECONDS = Histogram(
    "ew_ingest_write_seconds", "Time to write and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_DEPTH = Gauge("ew_ingest_queue_depth", "Messages received and not yet committed")
DB_ERRORS = Counter("ew_ingest_db_errors_total", "Failed batch writes (retried until they succeed)")
MQTT_CONNECTED = Gauge("ew_ingest_mqtt_connected", "1 while the ingest MQTT session is up")
