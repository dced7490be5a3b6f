"""Login throttling through the real API: failures are counted per user name and per client address, a locked
caller gets 429 with a numeric ``Retry-After``, and a locked attempt costs no scrypt at all (no CPU exhaustion)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import create_user
from api.throttle import FailureCounter, ThrottlePolicy
from common.settings import Settings
from store.db import connect

PASSWORD = "correct horse battery"
SECONDS = re.compile(r"[0-9]{1,6}")


@pytest.fixture
def throttled(settings: Settings) -> Settings:
    with connect(settings.require_database_url()) as conn:
        create_user(conn, "oscar", PASSWORD, "operator")
        create_user(conn, "olga", PASSWORD, "operator")
        conn.commit()
    return settings.model_copy(update={"login_max_failures_user": 3, "login_max_failures_address": 5,
                                       "login_lockout_s": 120.0})


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real scrypt runs (each call still goes to hashlib's scrypt)."""
    calls: list[int] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def counting(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def _login(client: TestClient, user: str, password: str) -> int:
    code: int = client.post("/api/v1/auth/login", json={"username": user, "password": password}).status_code
    return code


def test_a_user_is_locked_out_after_repeated_failures(throttled: Settings, scrypt_calls: list[int]) -> None:
    with TestClient(create_app(throttled), base_url="http://console.test", client=("198.51.100.1", 4000)) as client:
        assert [_login(client, "oscar", "wrong-password") for _ in range(2)] == [401, 401]
        third = client.post("/api/v1/auth/login", json={"username": "oscar", "password": "wrong-password"})
        assert third.status_code == 429
        assert SECONDS.fullmatch(third.headers["retry-after"])
        assert 0 < int(third.headers["retry-after"]) <= 120
        hashed = len(scrypt_calls)
        # locked: even the right password is refused, and no scrypt runs for it
        locked = client.post("/api/v1/auth/login", json={"username": "oscar", "password": PASSWORD})
        assert locked.status_code == 429
        assert SECONDS.fullmatch(locked.headers["retry-after"])
        assert [_login(client, "OSCAR", PASSWORD) for _ in range(20)] == [429] * 20
        assert len(scrypt_calls) == hashed
        # another user from the same address is not locked by oscar's failures
        assert _login(client, "olga", PASSWORD) == 200


def test_one_address_is_locked_out_whatever_names_it_tries(throttled: Settings, scrypt_calls: list[int]) -> None:
    app = create_app(throttled)
    with TestClient(app, base_url="http://console.test", client=("198.51.100.2", 4000)) as attacker:
        codes = [_login(attacker, f"guess{i}", "wrong-password") for i in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        hashed = len(scrypt_calls)
        assert [_login(attacker, f"more{i}", "x" * 200) for i in range(30)] == [429] * 30
        assert _login(attacker, "olga", PASSWORD) == 429
        assert len(scrypt_calls) == hashed
        with TestClient(app, base_url="http://console.test", client=("198.51.100.3", 4000)) as colleague:
            assert _login(colleague, "olga", PASSWORD) == 200


def test_a_token_login_is_throttled_per_address(throttled: Settings) -> None:
    with TestClient(create_app(throttled), base_url="http://console.test", client=("198.51.100.4", 4000)) as client:
        codes = [client.post("/api/v1/auth/login", json={"token": f"guess-{i}"}).status_code for i in range(6)]
        assert codes == [401, 401, 401, 401, 429, 429]


def test_counter_window_lockout_and_memory_bound() -> None:
    now = [1000.0]
    counter = FailureCounter(ThrottlePolicy(max_failures=3, window_s=60.0, lockout_s=30.0), max_keys=100,
                             clock=lambda: now[0])
    assert counter.fail("k") == 0.0
    now[0] += 61.0  # outside the window: the first failure no longer counts
    assert counter.fail("k") == 0.0
    assert counter.fail("k") == 0.0
    assert counter.fail("k") == 30.0
    now[0] += 10.0
    assert counter.retry_after("k") == pytest.approx(20.0)
    now[0] += 21.0
    assert counter.retry_after("k") == 0.0
    for i in range(1000):
        counter.fail(f"flood-{i}")
    assert len(counter._records) == 100
