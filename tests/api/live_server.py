"""The real app under uvicorn on a loopback port, for tests that need real HTTP: streams that never end, the
client address and scheme a proxy reports, bodies sent in chunks, and the console in a real browser
(``tests/console/browser.py`` serves through this same helper)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from api.app import create_app
from common.settings import Settings
from estatewatch.embedded import free_port


@contextmanager
def live_server(settings: Settings, start_timeout_s: float = 20.0) -> Iterator[str]:
    """Serve the app in a background thread until the block ends; yields its base URL.

    uvicorn's own proxy-header handling is off, so only the app's ``EW_TRUSTED_PROXIES`` decides what a
    ``X-Forwarded-*`` header is worth (as in production, see docs/security.md).
    """
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1, lifespan="on", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:  # uvicorn flips this once the lifespan ran and the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
