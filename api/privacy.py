"""What each role may see of a resident: one place, so every route that serves resident data redacts alike.

A viewer (a wall display, a guard's tablet) sees the presence state only; an operator also what is needed to phone
someone; an admin everything as entered. See docs/security.md, "Privacy by role".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.security import Principal

# Status fields a viewer never gets: the times and signals behind the presence, and the explanation of it.
VIEWER_HIDDEN: Mapping[str, object] = {
    "since": None, "last_out_at": None, "hours_since_last_out": None, "hours_at_home": None,
    "last_activity_at": None, "explanation": None, "last_signals": {}, "away": [], "name": None, "age": None,
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


# What a viewer keeps of the details of an alert about a resident: whether it is a reminder. Everything else there
# (hours at home, quiet hours, the explanation naming the signals and reasons, the signals' times) is the personal
# data behind the presence state, which the alert's type and subject already show.
VIEWER_RESIDENT_DETAILS = ("reminder",)


def about_resident(alert: Mapping[str, Any]) -> bool:
    """Whether an alert concerns a resident (its subject names one): elderly_not_out, no_sign_of_life, ..."""
    subject = alert.get("subject")
    return isinstance(subject, Mapping) and subject.get("resident") is not None


def alert_for(alert: Mapping[str, Any], principal: Principal) -> dict[str, Any]:
    """An alert (``alerts.payloads.alert_json``, or its detail with history and comments) as ``principal`` may
    see it. Operators and admins see all of it: they make the call. A viewer of an alert about a resident keeps
    its type, title, subject (pseudonymous id, unit), state and SLA, but not its details beyond
    ``VIEWER_RESIDENT_DETAILS``, the data of its history entries, or staff comments (they note who was phoned and
    why). Alerts about cameras and devices are not personal and are shown whole.
    """
    if principal.can("operator") or not about_resident(alert):
        return dict(alert)
    details = alert.get("details") or {}
    out = {**alert, "details": {k: details[k] for k in VIEWER_RESIDENT_DETAILS if k in details}}
    if "history" in alert:
        out["history"] = [{**entry, "data": {}} for entry in alert["history"]]
    if "comments" in alert:
        out["comments"] = []
    return out
