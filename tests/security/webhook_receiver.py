"""A real HTTP receiver on loopback for the webhook security tests: per-path answers, delays and a record of every
request (path, headers, body, arrival time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alerts.drafts import AlertDraft

Answer = tuple[int, dict[str, str], float]  # status, headers, seconds to sleep before answering


def _ok(_n: int) -> Answer:
    return 200, {}, 0.0


@dataclass
class Seen:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Answers each path with a function of how many requests that path had before."""

    answers: dict[str, Callable[[int], Answer]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                n = sum(1 for s in receiver.seen if s.path == self.path)
                receiver.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                          time.monotonic()))
                answer = receiver.answers.get(self.path, _ok)
                status, headers, delay = answer(n)
                time.sleep(delay)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", "27")
                self.end_headers()
                self.wfile.write(b"internal secret answer 4711")

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The receiver's URL for ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self, path: str) -> list[Seen]:
        """The requests to one path."""
        return [s for s in self.seen if s.path == path]

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()


def smoke(n: int = 1, *, site: str = "s1", subject: dict[str, object] | None = None,
          details: dict[str, object] | None = None) -> AlertDraft:
    """A smoke alert for device ``dev-{n}``."""
    return AlertDraft(type="smoke", severity="critical", dedup_key=f"smoke:dev-{n}", title="Smoke", site=site,
                      occurred_at=datetime.now(UTC),
                      subject=subject or {"device": f"dev-{n}", "building": "A", "floor": 3}, details=details or {})
