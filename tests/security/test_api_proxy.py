"""Behind a TLS proxy, over real HTTP (uvicorn on loopback): the session cookie is ``Secure`` and answers carry HSTS
when a trusted proxy says the client came over HTTPS; ``X-Forwarded-*`` from anyone else is ignored, so a client
can neither fake HTTPS nor pick the address that login throttling counts."""

from __future__ import annotations

import httpx
import pytest

from api.middleware import forwarded_client, parse_networks
from api.security import create_user
from common.settings import Settings
from store.db import connect
from tests.api.live_server import live_server

PASSWORD = "correct horse battery"
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def user(settings: Settings) -> str:
    with connect(settings.require_database_url()) as conn:
        create_user(conn, "oscar", PASSWORD, "operator")
        conn.commit()
    return "oscar"


def _login(base: str, headers: dict[str, str], username: str = "oscar", password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password},
                      headers=headers, timeout=10)


def test_a_trusted_proxy_makes_cookies_secure_and_adds_hsts(settings: Settings, user: str) -> None:
    trusted = settings.model_copy(update={"trusted_proxies": "127.0.0.1/32, ::1"})
    with live_server(trusted) as base:
        response = _login(base, HTTPS)
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "; secure" in cookie
        assert "httponly" in cookie
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        plain = _login(base, {})
        assert "; secure" not in plain.headers["set-cookie"].lower()
        assert "strict-transport-security" not in plain.headers


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(settings: Settings, user: str) -> None:
    untrusted = settings.model_copy(update={"login_max_failures_address": 3, "login_max_failures_user": 100})
    with live_server(untrusted) as base:
        response = _login(base, {**HTTPS, "X-Forwarded-For": "203.0.113.1"})
        assert response.status_code == 200
        assert "; secure" not in response.headers["set-cookie"].lower()
        assert "strict-transport-security" not in response.headers
        # a guesser that names a new address in every request is still one address (the real peer)
        codes = [_login(base, {"X-Forwarded-For": f"203.0.113.{i}"}, f"guess{i}", "wrong-password").status_code
                 for i in range(10, 14)]
        assert codes == [401, 401, 429, 429]


def test_a_trusted_proxy_gives_the_client_address_that_throttling_counts(settings: Settings, user: str) -> None:
    trusted = settings.model_copy(update={"trusted_proxies": "127.0.0.1", "login_max_failures_address": 2,
                                          "login_max_failures_user": 100})
    with live_server(trusted) as base:
        guesser = {"X-Forwarded-For": "203.0.113.50"}
        codes = [_login(base, guesser, f"guess{i}", "wrong-password").status_code for i in range(3)]
        assert codes == [401, 429, 429]
        # someone else behind the same proxy signs in undisturbed
        assert _login(base, {"X-Forwarded-For": "203.0.113.51"}).status_code == 200
        # a hop the client wrote itself ahead of its real address does not help it
        spoofed = {"X-Forwarded-For": "192.0.2.99, 203.0.113.50"}
        assert _login(base, spoofed, "guess9", "wrong-password").status_code == 429


def test_forwarded_for_parsing() -> None:
    trusted = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert forwarded_client("203.0.113.7", trusted) == "203.0.113.7"
    assert forwarded_client("198.51.100.1, 203.0.113.7, 10.1.2.3", trusted) == "203.0.113.7"
    assert forwarded_client("10.0.0.1, 127.0.0.1", trusted) == "10.0.0.1"
    assert forwarded_client("not-an-address, 10.0.0.1", trusted) is None
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        parse_networks("10.0.0.0/8, proxy.local")
