"""Versioned SQL migrations.

Files in ``store/migrations`` are named ``NNNN_name.sql``. A migration that differs between TimescaleDB and plain
PostgreSQL comes as a pair, ``NNNN_name.timescale.sql`` and ``NNNN_name.plain.sql``; the one matching the server runs.
Each migration runs in its own transaction under an advisory lock, so several processes may start at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from store.db import Conn, connect, has_timescaledb

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescale|plain))?\.sql$")
_LOCK_ID = 0x45574D47  # "EWMG"


@dataclass(frozen=True)
class Migration:
    """One migration file chosen for this server, applied once and recorded by ``version``."""

    version: int
    name: str
    path: Path


def discover(timescale: bool, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations for this kind of server, in version order."""
    wanted = "timescale" if timescale else "plain"
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file name not understood: {path.name}")
        version, name, variant = int(match[1]), match[2], match[3]
        if variant not in (None, wanted):
            continue
        if version in found:
            raise ValueError(f"two migrations with version {version}: {found[version].path.name}, {path.name}")
        found[version] = Migration(version, name, path)
    return [found[v] for v in sorted(found)]


def apply_migrations(url: str) -> list[int]:
    """Bring the database up to date; return the versions applied now."""
    applied_now: list[int] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            timescale = has_timescaledb(conn)
            if timescale:
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
            for migration in discover(timescale):
                if migration.version in done:
                    continue
                _apply_one(conn, migration)
                applied_now.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now


def _apply_one(conn: Conn, migration: Migration) -> None:
    log.info("applying migration %04d_%s", migration.version, migration.name)
    sql = migration.path.read_text(encoding="utf-8")
    with conn.transaction():
        conn.execute(sql.encode())
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (migration.version, migration.name)
        )
