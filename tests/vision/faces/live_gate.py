"""What the live gate tests share: settings for the entrance service with a fresh face key, and the services run
as the ``vision`` role runs them, with ingest beside them, stopped whatever the test does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from common.settings import Settings
from estatewatch.runtime import Component
from ingest.service import IngestService
from vision.faces.crypto import EmbeddingSealer, new_key
from vision.faces.service import EntranceService


def gate_settings(settings: Settings, folder: Path,
                  cameras: Sequence[Mapping[str, object]]) -> tuple[Settings, EmbeddingSealer]:
    """``settings`` with these entrance cameras (written to ``folder``) and a new face key, a gallery that refreshes
    every 0.5 s and one vision worker; and a sealer under that key to enrol residents with.
    """
    cameras_file = folder / "entrance.json"
    cameras_file.write_text(json.dumps([dict(c) for c in cameras]))
    key = new_key()
    live = settings.model_copy(update={"entrance_cameras_file": cameras_file, "face_key": SecretStr(key),
                                       "face_gallery_refresh_s": 0.5, "vision_workers": 1})
    return live, EmbeddingSealer(key)


@contextmanager
def running(live: Settings, components: list[Component]) -> Iterator[None]:
    """Ingest and ``components`` started, ingest and the entrance service connected; everything stopped after."""
    [entrance] = [c for c in components if isinstance(c, EntranceService)]
    ingest = IngestService(live)
    ingest.start()
    for component in components:
        component.start()
    try:
        assert ingest.subscriber.wait_connected(10)
        assert entrance.running, entrance.unavailable
        assert entrance.wait_connected(10)
        yield
    finally:
        for component in reversed(components):
            component.stop()
        ingest.stop()
