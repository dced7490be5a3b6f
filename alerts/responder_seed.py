"""A demo estate's responder directory: three teams with a supervisor each; the names and phone numbers are made up.
Responder ids are unique across sites.

``seed_demo_responders`` is what the demo calls; it leaves responders that already exist as they are.
"""

from __future__ import annotations

from store import responders as responder_rows
from store.db import Conn

# (id, name, team, phone, supervisor id); supervisors come before the people they supervise
DEMO_RESPONDERS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("grid-lead-zhou", "周建国 Zhou Jianguo", "grid", "+86 138 0000 0101", None),
    ("grid-wang", "王丽 Wang Li", "grid", "+86 138 0000 0102", "grid-lead-zhou"),
    ("grid-chen", "陈晓明 Chen Xiaoming", "grid", "+86 138 0000 0103", "grid-lead-zhou"),
    ("sec-lead-li", "李强 Li Qiang", "security", "+86 138 0000 0111", None),
    ("sec-zhao", "赵磊 Zhao Lei", "security", "+86 138 0000 0112", "sec-lead-li"),
    ("sec-sun", "孙伟 Sun Wei", "security", "+86 138 0000 0113", "sec-lead-li"),
    ("mnt-lead-huang", "黄志刚 Huang Zhigang", "maintenance", "+86 138 0000 0121", None),
    ("mnt-liu", "刘洋 Liu Yang", "maintenance", "+86 138 0000 0122", "mnt-lead-huang"),
)


def seed_demo_responders(conn: Conn, site: str) -> int:
    """Add the demo's responders to ``site`` in the caller's transaction; returns how many were new."""
    added = 0
    for responder_id, name, team, phone, supervisor in DEMO_RESPONDERS:
        row = responder_rows.add_responder(conn, site=site, responder_id=responder_id, name=name, team=team,
                                           phone=phone, supervisor_id=supervisor)
        added += row is not None
    return added
