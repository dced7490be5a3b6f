"""The 54321 loop of a work order as pure rules: which stages it has, when each is due, what meets one, which are
breached at a given time, and which status changes are allowed.

Stages run from the moment of dispatch: on site within 5 minutes; a simple problem solved within 40 minutes, a
general one within 3 hours, a complex one within 2 days; a hard case needs a plan within 1 day (its solution has no
fixed deadline). The store keeps what these functions decide, so they are tested on a fake clock without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

Complexity = Literal["simple", "general", "complex", "hard"]
StageName = Literal["on_site", "solve", "plan"]
WorkStatus = Literal["assigned", "on_site", "solved"]
Team = Literal["grid", "security", "maintenance"]

COMPLEXITIES: tuple[Complexity, ...] = ("simple", "general", "complex", "hard")
TEAMS: tuple[Team, ...] = ("grid", "security", "maintenance")


class DispatchError(ValueError):
    """A change the work order's state does not allow (e.g. solving it twice)."""


def _default_solve() -> dict[str, timedelta]:
    return {"simple": timedelta(minutes=40), "general": timedelta(hours=3), "complex": timedelta(days=2)}


@dataclass(frozen=True)
class StagePolicy:
    """The 54321 deadlines, measured from dispatch."""

    on_site_within: timedelta = timedelta(minutes=5)
    solve_within: dict[str, timedelta] = field(default_factory=_default_solve)
    plan_within: timedelta = timedelta(days=1)
    link_valid_for: timedelta = timedelta(days=3)

    def stages(self, complexity: Complexity, dispatched_at: datetime) -> list[Stage]:
        """The clocks of a new work order: on site, then solve (or, for a hard case, a plan)."""
        on_site = Stage("on_site", dispatched_at + self.on_site_within)
        if complexity == "hard":
            return [on_site, Stage("plan", dispatched_at + self.plan_within)]
        return [on_site, Stage("solve", dispatched_at + self.solve_within[complexity])]


@dataclass(frozen=True)
class Stage:
    """One stage's clock: due, and when it was met or breached (a late stage may be both, breached first)."""

    name: StageName
    due_at: datetime
    met_at: datetime | None = None
    breached_at: datetime | None = None
    escalated_to: str | None = None

    @property
    def state(self) -> str:
        """pending, met (in time), late (met after its breach) or breached (still not met)."""
        if self.met_at is not None:
            return "late" if self.breached_at is not None else "met"
        return "breached" if self.breached_at is not None else "pending"


def complexity_for(sla_class: str) -> Complexity:
    """The default complexity of a work order from its alert's SLA class (unknown classes are general)."""
    return next((c for c in COMPLEXITIES if c == sla_class), "general")


def due_breaches(stages: list[Stage], now: datetime) -> list[Stage]:
    """Stages whose deadline has passed without being met and that have not been escalated yet."""
    return [s for s in stages if s.met_at is None and s.breached_at is None and s.due_at <= now]


def meet(stages: list[Stage], names: tuple[StageName, ...], now: datetime) -> list[Stage]:
    """The stages with ``names`` marked met at ``now`` (ones already met keep their time)."""
    return [replace(s, met_at=now) if s.name in names and s.met_at is None else s for s in stages]


def arrive(status: str) -> WorkStatus:
    """The status after the responder confirms being on site.

    Raises:
        DispatchError: when the work order is already on site or solved.
    """
    if status != "assigned":
        raise DispatchError(f"the work order is {status}: on site can only be confirmed once")
    return "on_site"


def solve(status: str) -> tuple[WorkStatus, tuple[StageName, ...]]:
    """The status after the responder marks the problem solved, and the stages that meets. Solving without having
    confirmed on site first also meets the on-site stage: someone was there.

    Raises:
        DispatchError: when the work order is already solved.
    """
    if status == "solved":
        raise DispatchError("the work order is already solved")
    return "solved", ("on_site", "solve", "plan")


def plan(status: str, complexity: str) -> tuple[StageName, ...]:
    """The stages a plan meets (only hard cases have a plan stage).

    Raises:
        DispatchError: when the work order is solved or not a hard case.
    """
    if complexity != "hard":
        raise DispatchError("only hard cases take a plan")
    if status == "solved":
        raise DispatchError("the work order is already solved")
    return ("plan",)


def link_usable(expires_at: datetime, now: datetime) -> bool:
    """A responder's link works until it expires."""
    return now < expires_at
