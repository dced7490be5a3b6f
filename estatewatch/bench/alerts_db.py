"""The service's database path under ``bench alerts --db``: batched transactions (as ``AlertsService`` runs them)
against one transaction per event, on the same events, in a throwaway embedded PostgreSQL.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from alerts.db_driver import Processor
from alerts.presence import PresenceEvent
from alerts.resident_records import upsert_residents
from estatewatch.bench.alerts import DbBench, synthetic_estate
from estatewatch.embedded import EmbeddedPostgres
from store.db import connect
from store.migrate import apply_migrations


def _run(url: str, site: str, events: list[PresenceEvent], batch: int) -> float:
    proc = Processor(site)
    with connect(url) as conn:
        if proc.directory is None:
            raise RuntimeError("the processor has no resident directory to load")
        proc.directory.sync(conn, events[0].ts)  # loaded once when a service starts: not part of the rate
    started = time.perf_counter()
    with connect(url) as conn:
        for i in range(0, len(events), batch):
            with conn.transaction():
                proc.on_presence_events(conn, events[i:i + batch], events[min(i + batch, len(events)) - 1].ts)
    return time.perf_counter() - started


def run_db_bench(residents: int = 100_000, events: int = 20_000, batch: int = 500, seed: int = 7,
                 database_url: str | None = None) -> DbBench:
    """events/s through ``Processor.on_presence_events`` with ``batch`` events per transaction, and with one."""
    people, stream, _ = synthetic_estate(residents, 30.0, seed)
    server = None
    if database_url is None:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="ew-bench-")) / "pg").start()
        database_url = server.url
    try:
        apply_migrations(database_url)
        started = time.perf_counter()
        with connect(database_url) as conn, conn.transaction():
            upsert_residents(conn, "bench", people, consent=True)
        load_s = time.perf_counter() - started
        # two disjoint slices of the same stream, so neither run finds the other's rows warm
        single = stream[:events // 4]
        batched = stream[events // 4: events // 4 + events]
        single_s = _run(database_url, "bench", single, 1)
        batched_s = _run(database_url, "bench", batched, batch)
    finally:
        if server is not None:
            server.stop()
    ours, base = len(batched) / batched_s, len(single) / single_s
    return {"residents": residents, "resident_load_s": round(load_s, 2), "batch": batch,
            "events": len(batched), "events_per_s": round(ours),
            "baseline_events": len(single), "baseline_events_per_s": round(base),
            "baseline": "one transaction per event", "speedup": round(ours / base, 1)}
