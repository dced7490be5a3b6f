"""Faces at the gates for ``estatewatch demo``: the resident simulator drives the entrance cameras, face to alert.

``take_over_gates`` runs after the demo has written the residents' simulation and imported them. When the face
stage can run here it writes the entrance cameras file (one camera per gate and direction), enrols the first
watched elderly gate users with the registry photos (``estatewatch simulate gates --enrol``, a child process:
nothing in the service imports the simulators) and, after the start-up grace, spawns the bridge in place of the
resident simulator's own ``--mqtt`` run: the bridge publishes every non-gate event and card passage as that run
would, and turns face passages into camera frames, so the access events come from the vision entrance pipeline.

When it cannot (no ``faces`` extra, no photos fetched, a broker account that may not publish access events) it
says why and leaves the resident simulator to publish its own access events, as before.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from common import topics
from common.settings import Settings
from estatewatch.broker_accounts import Account, Kind
from estatewatch.runtime import Embedded, settings_env, spawn
from vision.faces.crypto import new_key
from vision.faces.service import unavailable_reason

KEY_FILE = "face.key"  # the demo's own EW_FACE_KEY, kept beside its simulation so a restart opens the gallery


def take_over_gates(settings: Settings, started: Embedded, *, residents: int, speed: float, grace_s: float,
                    for_simulators: Callable[[Settings, Embedded], Settings]) -> tuple[Settings, int]:
    """(settings, residents for the resident simulator): with faces on, the entrance settings and 0 (the bridge
    publishes the residents' events); with faces off, the settings unchanged and ``residents``.
    """
    if not residents:
        return settings, residents
    sim_dir = settings.data_dir / "sim" / "residents"
    live = settings.model_copy(update={"face_key": SecretStr(demo_key(settings, sim_dir)),
                                       "entrance_cameras_file": sim_dir / "entrance_cameras.json"})
    problem = why_not(live, started)
    if problem is None:
        problem = _enrol(live, sim_dir)
    if problem is not None:
        print(f"faces at the gates: off ({problem}); the resident simulator publishes its own gate events",
              flush=True)
        return settings, residents
    print(f"faces at the gates: on; residents' faces in {sim_dir / 'gate_cast.json'}, walks logged in "
          f"{settings.data_dir / 'logs' / 'gates.log'}", flush=True)

    def later() -> None:
        time.sleep(grace_s)
        logs = live.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        started.children.append(spawn(["simulate", "gates", "--sim", str(sim_dir), "--mqtt", "--speed", str(speed)],
                                      logs / "gates.log", for_simulators(live, started)))

    threading.Thread(target=later, name="demo-gates", daemon=True).start()
    return live, 0


def demo_key(settings: Settings, sim_dir: Path) -> str:
    """``EW_FACE_KEY`` when set; otherwise the demo's own key file (created once, readable by its owner only)."""
    if settings.face_key is not None:
        return settings.face_key.get_secret_value()
    path = sim_dir / KEY_FILE
    if not path.is_file():
        sim_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_key(), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def why_not(settings: Settings, started: Embedded) -> str | None:
    """Why the face stage cannot drive this demo's gates, or None when it can. Loads no model."""
    problem = unavailable_reason(settings)
    if problem is not None:
        return problem[1]
    if started.accounts is not None:  # the demo's own broker: the vision account must be allowed to publish passages
        vision = Account(username=f"ew.vision.{settings.site}", kind=Kind.VISION, site=settings.site,
                         password_hash="", issued_at="")
        wanted = topics.access(settings.site, "+")
        if ("write", wanted) not in vision.topics():
            return f"the vision service's broker account may not publish {wanted}"
    return None


def _enrol(settings: Settings, sim_dir: Path) -> str | None:
    """Write the entrance cameras file and enrol the cast in a child process; the error's last line on failure."""
    # our own CLI under this interpreter, with arguments built here
    done = subprocess.run([sys.executable, "-m", "estatewatch.cli", "simulate", "gates", "--sim", str(sim_dir),  # noqa: S603
                           "--enrol"], env=settings_env(settings), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"simulate gates --enrol exited with {done.returncode}"
    return None
