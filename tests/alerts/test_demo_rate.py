"""The demo's elderly alert rate: the simulator's default estate, replayed through the service's own rules, raises a
handful of alerts per real hour on the demo's fast clock, never a flood (the console's banner: 10 in a minute).

``demo_rate`` is also how docs/alerts.md's "Demo rate" figures are measured (``python -c "from
tests.alerts.test_demo_rate import demo_rate; print(demo_rate(60, 30, 1))"``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from alerts.replay import read_events, replay
from simulators.residents import SimConfig, simulate

TZ = ZoneInfo("Asia/Shanghai")
DEMO_SPEED = 1800.0  # estatewatch/demo.py RESIDENT_SPEED: simulated seconds per real second
FLOOD = 10  # api/static/js/model.js FloodMeter: new alerts in a minute


@dataclass(frozen=True)
class DemoRate:
    """Alerts the demo's residents raise, counted as an operator sees them on the fast clock."""

    watched: int  # elderly residents living alone
    new: dict[str, int]  # alerts opened, by type (reminders update them and are not counted)
    reminders: int
    closed: int  # closed by the residents' own signals
    per_real_hour: float
    peak_per_real_minute: int


def demo_rate(residents: int, days: float, seed: int, speed: float = DEMO_SPEED) -> DemoRate:
    """Replay the default simulated estate and count its alerts per real hour of the demo."""
    sim = simulate(SimConfig(residents=residents, days=days, seed=seed))
    events = list(read_events([json.dumps(e) for e in sim.events], TZ))
    fired, engine = replay(events, sim.residents, until=sim.end.replace(tzinfo=TZ), tz=TZ)
    opened = [f for f in fired if not f.reminder]
    start = events[0].ts
    real_s = sorted((f.at - start).total_seconds() / speed for f in opened)
    peak = max((sum(1 for u in real_s if t <= u < t + 60) for t in real_s), default=0)
    hours = days * 86_400 / speed / 3600
    return DemoRate(len(sim.truth.watched), dict(Counter(f.type for f in opened)), len(fired) - len(opened),
                    len(engine.closed), round(len(opened) / hours, 1), peak)


def test_the_demo_estate_raises_a_handful_an_hour_and_no_flood() -> None:
    rate = demo_rate(30, 12, seed=3)  # a smaller estate than the demo's, for speed; the demo's own: docs
    assert rate.watched >= 8
    assert rate.per_real_hour <= 20
    assert rate.peak_per_real_minute < FLOOD
