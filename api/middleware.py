"""ASGI middleware that runs before routing and authentication: trusted proxy headers, HSTS and a body limit.

- **Proxy headers.** Behind a TLS-terminating proxy the app sees plain HTTP from the proxy's address. Only when
  the peer is one of ``EW_TRUSTED_PROXIES`` are ``X-Forwarded-Proto`` and ``X-Forwarded-For`` believed: they then
  give the scheme (so cookies get ``Secure`` and answers HSTS) and the client address (which login throttling
  counts). From anyone else these headers are ignored, so a client cannot pick its own address or scheme.
- **HSTS** on every answer served over HTTPS, direct or through a trusted proxy.
- **Body limit.** A body larger than ``EW_MAX_REQUEST_BYTES`` (``EW_MAX_UPLOAD_BYTES`` on upload routes) is
  refused with 413 from its ``Content-Length`` before a byte is read, or as soon as a chunked body passes the
  limit, before any authentication or parsing runs.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable

import psycopg
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.settings import Settings

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_DIGITS = re.compile(r"[0-9]{1,19}")
_UPLOAD_PATHS = (re.compile(r"/api/v1/residents/import"), re.compile(r"/api/v1/residents/[^/]+/face"))


def parse_networks(text: str) -> tuple[Network, ...]:
    """``EW_TRUSTED_PROXIES`` as networks: comma-separated addresses or CIDRs; raises ``ValueError`` on a bad one."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _in(host: str, networks: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values) if values else None


def forwarded_client(forwarded_for: str, trusted: tuple[Network, ...]) -> str | None:
    """The client address in an ``X-Forwarded-For`` chain: the nearest hop that is not a trusted proxy.

    None when that hop is not an address at all (then the peer's own address stands).
    """
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return None
        if not any(address in network for network in trusted):
            return hop
    return hops[0] if hops else None


class ProxyHeaders:
    """Honour ``X-Forwarded-Proto`` and ``X-Forwarded-For`` from trusted proxies only, and add HSTS on HTTPS."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...], hsts_max_age_s: int) -> None:
        self.app = app
        self.trusted = trusted
        self.hsts = f"max-age={hsts_max_age_s}; includeSubDomains".encode() if hsts_max_age_s > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the scope for a trusted peer, then pass the request on."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if client and self.trusted and _in(client[0], self.trusted):
            scope = dict(scope)
            proto = _header(scope, b"x-forwarded-proto")
            if proto:
                last = proto.split(",")[-1].strip().lower()
                if last in ("http", "https"):
                    scope["scheme"] = last if scope["type"] == "http" else {"http": "ws", "https": "wss"}[last]
            forwarded_for = _header(scope, b"x-forwarded-for")
            if forwarded_for:
                real = forwarded_client(forwarded_for, self.trusted)
                if real is not None:
                    scope["client"] = (real, 0)
        if self.hsts is None or scope.get("scheme") not in ("https", "wss"):
            await self.app(scope, receive, send)
            return
        hsts = self.hsts

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"strict-transport-security", hsts)]}
            await send(message)

        await self.app(scope, receive, send_with_hsts)


class BodyLimit:
    """Refuse request bodies over a limit with 413, before routing or authentication look at the request."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, path: str) -> int:
        """The limit of one path: the upload routes get the larger one."""
        if any(p.fullmatch(path) for p in _UPLOAD_PATHS):
            return self.max_upload_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``Content-Length`` at once and count the bytes of a body without one."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        refusal = _declared_length_refusal(_header(scope, b"content-length"), limit)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {limit} bytes")
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except HTTPException as exc:
            if started or exc.status_code != status.HTTP_413_CONTENT_TOO_LARGE:
                raise
            await _refuse(send, exc.status_code, str(exc.detail))


def _declared_length_refusal(length: str | None, limit: int) -> tuple[int, str] | None:
    """The answer to a ``Content-Length`` that is no number (400) or over the limit (413); None when fine."""
    if length is None:
        return None
    if not _DIGITS.fullmatch(length.strip()):
        return status.HTTP_400_BAD_REQUEST, "Content-Length is not a number"
    if int(length) > limit:
        return status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {limit} bytes"
    return None


async def _refuse(send: Send, code: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a NUL in text, a number out of range, an impossible date) came from the
    caller: it is their error to fix (422), not a server fault (500). Logged, since a route should have checked.
    """
    log.warning("%s %s: value refused by the database: %s", request.method, request.url.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return JSONResponse({"detail": "a value in the request cannot be stored or searched for (e.g. a NUL "
                                   "character or a number out of range)"},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the body limit and, outside it, the proxy headers and HSTS middleware, and the answer to values the
    database refuses.
    """
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(ProxyHeaders, trusted=parse_networks(settings.trusted_proxies),
                       hsts_max_age_s=settings.hsts_max_age_s)
