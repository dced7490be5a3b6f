"""A bearer token in front of ``/metrics`` when ``EW_METRICS_TOKEN`` is set: metrics name devices and cameras.

Plain ASGI rather than a FastAPI dependency so that the route stays as it is and the check runs before any
routing; it looks at nothing but the path and the ``Authorization`` header.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

METRICS_PATH = "/metrics"


class MetricsToken:
    """Answers 401 to a ``/metrics`` request without ``Authorization: Bearer <token>``; passes everything else."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``/metrics`` requests, hand on the rest untouched."""
        if scope["type"] == "http" and scope.get("path") == METRICS_PATH:
            given = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"detail": "missing or invalid credentials"}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
