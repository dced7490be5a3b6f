"""SQL for learnt routines and the inactivity settings: plain bytes and dicts in, plain bytes and dicts out.

The model image and the rule progress are produced and read by ``alerts.inactivity``; this module only stores
them, in batches (one statement per batch, not per resident), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

RoutineRow = tuple[str, bytes, dict[str, Any]]  # resident_id, model image, rule progress


def save_routines(conn: psycopg.Connection[Any], rows: Iterable[RoutineRow]) -> int:
    """Insert or replace the routines of these residents; return how many were written."""
    batch = list(rows)
    if not batch:
        return 0
    for rid, model, progress in batch:
        if not isinstance(model, bytes | bytearray | memoryview) or not isinstance(progress, dict):
            raise TypeError(f"routine of {rid!r}: model must be bytes and progress a dict")
    conn.execute(
        "INSERT INTO resident_routines (resident_id, model, progress, updated_at)"
        " SELECT r, m, p, clock_timestamp() FROM unnest(%s::text[], %s::bytea[], %s::jsonb[]) AS u(r, m, p)"
        " ON CONFLICT (resident_id) DO UPDATE SET model = excluded.model, progress = excluded.progress,"
        " updated_at = excluded.updated_at",
        ([r for r, _, _ in batch], [bytes(m) for _, m, _ in batch], [Jsonb(p) for _, _, p in batch]),
    )
    return len(batch)


def load_routines(conn: psycopg.Connection[Any], ids: list[str]) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """resident_id -> (model image, progress) for those of ``ids`` that have one."""
    if not ids:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT resident_id, model, progress FROM resident_routines WHERE resident_id = ANY(%s)",
                           (ids,)).fetchall()
    return {str(r["resident_id"]): (bytes(r["model"]), dict(r["progress"])) for r in rows}


def delete_routine(conn: psycopg.Connection[Any], resident_id: str) -> bool:
    """Forget what was learnt about a resident (consent withdrawn, a new occupant); True if there was a row."""
    row = conn.execute("DELETE FROM resident_routines WHERE resident_id = %s RETURNING resident_id",
                       (resident_id,)).fetchone()
    return row is not None


def set_estate_settings(conn: psycopg.Connection[Any], site: str, settings: dict[str, Any]) -> None:
    """The estate's inactivity settings (validated by the caller), replacing the previous ones."""
    conn.execute(
        "INSERT INTO inactivity_settings (site, resident_id, settings) VALUES (%s, NULL, %s)"
        " ON CONFLICT (site) WHERE resident_id IS NULL DO UPDATE SET settings = excluded.settings,"
        " updated_at = clock_timestamp()",
        (site, Jsonb(settings)),
    )


def set_resident_settings(conn: psycopg.Connection[Any], site: str, resident_id: str,
                          settings: dict[str, Any] | None) -> None:
    """A resident's overrides; None removes them (the estate's settings apply again)."""
    if settings is None:
        conn.execute("DELETE FROM inactivity_settings WHERE resident_id = %s", (resident_id,))
        return
    conn.execute(
        "INSERT INTO inactivity_settings (site, resident_id, settings) VALUES (%s, %s, %s)"
        " ON CONFLICT (resident_id) WHERE resident_id IS NOT NULL DO UPDATE SET settings = excluded.settings,"
        " site = excluded.site, updated_at = clock_timestamp()",
        (site, resident_id, Jsonb(settings)),
    )


def load_settings(conn: psycopg.Connection[Any], site: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the estate's settings, resident_id -> overrides) for one site; empty dicts where nothing is set."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT resident_id, settings FROM inactivity_settings WHERE site = %s",
                           (site,)).fetchall()
    estate: dict[str, Any] = {}
    residents: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["resident_id"] is None:
            estate = dict(row["settings"])
        else:
            residents[str(row["resident_id"])] = dict(row["settings"])
    return estate, residents
