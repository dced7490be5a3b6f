"""What each role may see of a resident: one place, so every route that serves resident data redacts alike.

A viewer (a wall display, a guard's tablet) sees the presence state only; an operator also what is needed to phone
someone; an admin everything as entered. See docs/security.md, "Privacy by role".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from api.security import Principal

# Status fields a viewer never gets: the times and signals behind the presence, and the explanation of it.
VIEWER_HIDDEN: Mapping[str, object] = {
    "since": None, "last_out_at": None, "hours_since_last_out": None, "hours_at_home": None,
    "last_activity_at": None, "explanation": None, "last_signals": {}, "away": [],
}
CALL_KEYS = ("role", "name", "phone")  # what an operator needs to phone someone


def status_for(status: Mapping[str, object], principal: Principal) -> dict[str, object]:
    """A resident status (``alerts.payloads.resident_status``) as ``principal`` may see it."""
    if principal.can("operator"):
        return dict(status)
    return {**status, **VIEWER_HIDDEN}


def contacts_for(contacts: Sequence[object], principal: Principal) -> tuple[list[object], bool]:
    """The contacts ``principal`` may see, and whether anything was withheld."""
    if principal.can("admin"):
        return list(contacts), False
    if principal.can("operator"):
        trimmed: list[object] = [{k: c[k] for k in CALL_KEYS if k in c} for c in contacts if isinstance(c, dict)]
        return trimmed, trimmed != list(contacts)
    return [], bool(contacts)
