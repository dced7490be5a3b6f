"""The resident simulator drives the entrance cameras: its gate passages become faces walking through the gates.

The resident simulator (simulators/residents.py) writes every resident's day as ``events.jsonl``: door, motion,
water and gate passages (person, gate, direction, method, time). This bridge reads that output and publishes it as
the estate's hardware would: a gate passage by face of a resident who has a face here becomes an entrance-camera
clip (the resident's face walking through, one camera per gate and direction), so the vision entrance pipeline must
recognise them and emit the access event itself; everything else (card passages, residents without a face here,
door, motion, water) is published as the resident simulator would publish it. The resident simulator itself then
runs without ``--mqtt``, so no gate event is published twice.

Faces: only a handful of labelled identities exist in the registry photos (simulators/face_images.py), so only the
first residents of a list (the demo lists the watched elderly gate users first) get one, in the order of
``DEMO_ENROLLED``; the rest pass by card. ``STRANGER_EVERY`` face passages, one unenrolled person walks through the
same gate just before, so the pipeline's ``unknown`` passages appear beside the named ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

from common.mqtt import BoundedPublisher
from common.settings import MqttTarget
from simulators.entrance import DEMO_ENROLLED, FaceSource, demo_cast, make_entrance_scene
from simulators.entrance_publish import publish_scenes
from simulators.residents import SimEvent, Simulation, Truth, mqtt_messages

STRANGER_EVERY = 3  # one unenrolled walker before every third face passage
STRANGER_LEAD = timedelta(minutes=2)  # simulated time between the stranger and the resident behind them
Direction = Literal["in", "out"]


def camera_id(gate: str, direction: str) -> str:
    """The entrance camera watching one gate's one direction (``gate-north-in``)."""
    return f"gate-{gate}-{direction}"


def entrance_cameras(events: Sequence[SimEvent]) -> list[dict[str, str]]:
    """The ``EW_ENTRANCE_CAMERAS_FILE`` entries for every gate and direction the events use."""
    pairs = sorted({(e["gate"], e["direction"]) for e in events if e["kind"] == "access"})
    return [{"id": camera_id(g, d), "kind": "entrance", "gate": g, "direction": d} for g, d in pairs]


@dataclass(frozen=True)
class GateCast:
    """Who has a face at the gates: the face each resident walks with, their enrolment photos, the strangers."""

    walkers: dict[str, FaceSource]
    enrol: dict[str, list[FaceSource]]
    strangers: list[FaceSource]

    def identities(self) -> dict[str, str]:
        """Resident id -> photo identity (``fr:A``, ``g6:0``...), for the demo's log and docs."""
        return {r: s.identity for r, s in self.walkers.items()}


def cast_residents(residents: Sequence[str], sources: Sequence[FaceSource]) -> GateCast:
    """Give the first residents the demo's enrolled faces in order (``fr:A`` first: the one enrolled from other
    photos than the one it walks with); everyone after them has no face here.
    """
    demo_enrol, walk = demo_cast(sources)
    walking = {r: s for s, r in walk if r is not None}
    walkers: dict[str, FaceSource] = {}
    enrol: dict[str, list[FaceSource]] = {}
    for resident, demo_id in zip(residents, DEMO_ENROLLED.values(), strict=False):
        walkers[resident] = walking[demo_id]
        enrol[resident] = demo_enrol[demo_id]
    return GateCast(walkers, enrol, [s for s, r in walk if r is None])


def load_events(path: Path) -> list[SimEvent]:
    """The resident simulator's ``events.jsonl``."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass(frozen=True)
class Walk:
    """One person through a gate camera, reaching it at ``at`` (simulated local time)."""

    at: datetime
    camera: str
    gate: str
    direction: Direction
    face: FaceSource
    resident: str | None  # None: an unenrolled stranger


@dataclass(frozen=True)
class Message:
    """One event published as the resident simulator publishes it."""

    at: datetime
    topic: str
    payload: bytes


Step = Walk | Message


def plan(events: Sequence[SimEvent], cast: GateCast, site: str, tz: tzinfo, *,
         stamp_at: Callable[[datetime], datetime] | None = None, stranger_every: int = STRANGER_EVERY) -> list[Step]:
    """Every event as a walk (a face passage of a resident with a face here) or a message, in time order.

    ``stamp_at`` maps simulated time to the time written in the messages' payloads (``Clock.at``); steps keep
    their simulated time, by which they are ordered and paced.
    """
    walks: list[Walk] = []
    rest: list[SimEvent] = []
    for ev in events:
        resident = ev.get("resident")
        if ev["kind"] != "access" or ev.get("method") != "face" or resident not in cast.walkers:
            rest.append(ev)
            continue
        at = datetime.fromisoformat(ev["ts"]).replace(tzinfo=tz)
        gate, direction = ev["gate"], _direction(ev["direction"])
        face_walks = sum(w.resident is not None for w in walks)
        if cast.strangers and stranger_every > 0 and face_walks % stranger_every == stranger_every - 1:
            stranger = cast.strangers[(face_walks // stranger_every) % len(cast.strangers)]
            walks.append(Walk(at - STRANGER_LEAD, camera_id(gate, direction), gate, direction, stranger, None))
        walks.append(Walk(at, camera_id(gate, direction), gate, direction, cast.walkers[resident], resident))
    sim = Simulation(residents=[], events=rest, truth=Truth(), end=datetime.max)
    messages: list[Step] = [Message(datetime.fromisoformat(ev["ts"]).replace(tzinfo=tz), topic, body)
                            for ev, (_, topic, body) in zip(rest, mqtt_messages(sim, site, tz, stamp_at), strict=True)]
    return sorted([*messages, *walks], key=lambda s: s.at)


def _direction(value: str) -> Direction:
    if value not in ("in", "out"):
        raise ValueError(f"gate direction must be in or out, not {value!r}")
    return "in" if value == "in" else "out"


@dataclass(frozen=True)
class Clock:
    """Simulated time -> wall time: ``origin`` (simulated) is ``start`` (wall), and runs ``speed`` times faster.

    ``pace`` False publishes everything at once (tests); the payloads still carry the mapped times.
    """

    origin: datetime
    start: datetime
    speed: float = 1.0
    pace: bool = True

    def at(self, when: datetime) -> datetime:
        """The wall time of a simulated moment."""
        return self.start + (when - self.origin) / self.speed


def run(target: MqttTarget, site: str, steps: Sequence[Step], clock: Clock, *, folder: Path | None = None,
        seed: int = 1, fps: float = 10.0, frame_rate: float = 0.0,
        on_walk: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Publish the plan: messages at their mapped time (QoS 1), each walk as JPEG frames of its own clip.

    A walk's clip is timed so the face reaches the camera at the passage's mapped time; its frames are published as
    fast as the broker takes them, or ``frame_rate`` per second when set. Returns the truth of the gate passages
    (who, which camera, when the face reached it, epoch ms), also handed to ``on_walk`` as each one is published.
    """
    truth: list[dict[str, Any]] = []
    pub = BoundedPublisher(target, max_inflight=500).start()
    wall0, mono0 = time.time(), time.monotonic()
    try:
        for i, step in enumerate(steps):
            when = clock.at(step.at)
            if clock.pace:
                wait = when.timestamp() - wall0 - (time.monotonic() - mono0)
                if wait > 0:
                    time.sleep(wait)
            if isinstance(step, Message):
                pub.publish(step.topic, step.payload, qos=1)
                continue
            row = _walk(pub, site, step, when, folder=folder, seed=seed + i, fps=fps, frame_rate=frame_rate)
            truth.append(row)
            if on_walk is not None:
                on_walk(row)
    finally:
        pub.close(flush_timeout=10)
    return truth


def _walk(pub: BoundedPublisher, site: str, walk: Walk, when: datetime, *, folder: Path | None, seed: int,
          fps: float, frame_rate: float) -> dict[str, Any]:
    scene = make_entrance_scene(walk.camera, walk.gate, walk.direction, [(walk.face, walk.resident)], seed=seed,
                                fps=fps, folder=folder)
    [row] = scene.truth()
    at_ms = when.timestamp() * 1000.0
    publish_scenes(pub, site, [scene], start_ms=at_ms - row["t_end"] * 1000.0, speed=frame_rate / fps)
    return {**row, "at_ms": round(at_ms), "sim_ts": walk.at.isoformat()}

