"""The production guard of ``estatewatch serve``: laptop-only settings are refused, naming the setting to fix.

Checked twice: on the guard function (every rule and its waiver), and on ``estatewatch serve`` itself run as a
process, which must exit with status 2 and the refusal before it touches the database or the broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from common.settings import Settings
from estatewatch.production_guard import MIN_SECRET_CHARS, ProductionGuardError, check, enforce, weakness

STRONG = "Qm9vdHN0cmFwLXNlY3JldC0xMjM0NTY3ODkw"  # 36 characters, many distinct
MQTT_OK = f"mqtt://ew.api.estate:{STRONG}@broker:1883"


def fit(**changes: object) -> Settings:
    """Settings fit for production, with ``changes`` applied (no .env file, no environment)."""
    base: dict[str, object] = {
        "database_url": "postgresql://ew@db/ew", "mqtt_url": MQTT_OK, "admin_token": SecretStr(STRONG),
        "metrics_token": SecretStr(STRONG[::-1]), "require_registered_devices": True, "api_docs": False,
    }
    base.update(changes)
    return Settings.model_validate(base)


def settings_named(settings: Settings, roles: set[str]) -> list[str]:
    return [r.setting for r in check(settings, roles)]


def test_fit_settings_pass_for_every_role() -> None:
    for roles in ({"all"}, {"api"}, {"ingest"}, {"vision", "alerts"}):
        assert check(fit(), roles) == []
    enforce(fit(), {"all"})  # no exception


@pytest.mark.parametrize("token", ["admin", "changeme", "short-token-123", "a" * 40, "please-changeme-" + STRONG])
def test_default_or_short_admin_token_is_refused(token: str) -> None:
    assert settings_named(fit(admin_token=SecretStr(token)), {"api"}) == ["EW_ADMIN_TOKEN"]


def test_every_secret_setting_is_guarded_and_can_be_waived() -> None:
    weak = fit(metrics_token=SecretStr("metrics"))
    refusals = check(weak, {"api"})
    assert [r.setting for r in refusals] == ["EW_METRICS_TOKEN"]
    assert "EW_ALLOW_WEAK_SECRETS" in str(refusals[0])
    assert check(fit(metrics_token=SecretStr("metrics"), allow_weak_secrets=True), {"api"}) == []
    secret_fields = [n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)]
    assert {"admin_token", "metrics_token"} <= set(secret_fields)
    for name in secret_fields:  # session, webhook and any later secret settings are covered without a list
        assert f"EW_{name.upper()}" in settings_named(fit(**{name: SecretStr("admin")}), {"all"})


def test_weakness_rules() -> None:
    assert weakness(STRONG) is None
    assert weakness("x" * (MIN_SECRET_CHARS - 1)) is not None
    assert "distinct" in (weakness("ab" * 20) or "")
    assert "default" in (weakness("Admin") or "")


def test_anonymous_mqtt_is_refused_unless_allowed() -> None:
    anonymous = fit(mqtt_url="mqtt://broker:1883")
    refusals = check(anonymous, {"ingest"})
    assert [r.setting for r in refusals] == ["EW_MQTT_URL"]
    assert "EW_ALLOW_ANONYMOUS_MQTT" in str(refusals[0])
    assert check(fit(mqtt_url="mqtt://broker:1883", allow_anonymous_mqtt=True), {"ingest"}) == []
    assert settings_named(fit(mqtt_url="mqtt://ew.ingest.x:admin@broker:1883"), {"ingest"}) == ["EW_MQTT_URL"]


def test_unregistered_devices_are_refused_unless_allowed() -> None:
    assert settings_named(fit(require_registered_devices=False), {"alerts"}) == ["EW_REQUIRE_REGISTERED_DEVICES"]
    assert check(fit(require_registered_devices=False, allow_unregistered_devices=True), {"alerts"}) == []


def test_public_docs_and_metrics_are_refused_for_the_api_unless_allowed() -> None:
    assert settings_named(fit(api_docs=True), {"api"}) == ["EW_API_DOCS"]
    assert settings_named(fit(api_docs=True), {"ingest"}) == []  # a worker role serves no docs
    assert check(fit(api_docs=True, allow_public_docs=True), {"all"}) == []
    assert settings_named(fit(metrics_token=None), {"all"}) == ["EW_METRICS_TOKEN"]
    assert settings_named(fit(metrics_port=9100), {"ingest"}) == ["EW_METRICS_PORT"]
    assert check(fit(metrics_token=None, metrics_port=9100, allow_public_metrics=True), {"api"}) == []
    assert check(fit(metrics_port=9100, allow_public_metrics=True), {"ingest"}) == []


def test_every_refusal_is_listed_at_once() -> None:
    laptop = Settings(database_url="postgresql://ew@db/ew", mqtt_url="mqtt://broker:1883",
                      admin_token=SecretStr("admin"))
    with pytest.raises(ProductionGuardError) as raised:
        enforce(laptop, {"all"})
    names = [r.setting for r in raised.value.refusals]
    assert names == ["EW_ADMIN_TOKEN", "EW_MQTT_URL", "EW_REQUIRE_REGISTERED_DEVICES", "EW_API_DOCS",
                     "EW_METRICS_TOKEN"]
    for name in names:
        assert name in str(raised.value)


def _serve(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EW_")}
    # a database nobody listens on: a refused start must never get as far as connecting
    clean.update({"EW_DATABASE_URL": "postgresql://ew@127.0.0.1:9/ew", "EW_DATA_DIR": str(tmp_path / "data"), **env})
    # our own CLI under this interpreter, with arguments the test fixes
    return subprocess.run([sys.executable, "-m", "estatewatch.cli", "serve", *args], env=clean,  # noqa: S603
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)


def test_serve_refuses_laptop_settings_and_names_them(tmp_path: Path) -> None:
    done = _serve(tmp_path, {"EW_MQTT_URL": "mqtt://127.0.0.1:9", "EW_ADMIN_TOKEN": "admin"})
    assert done.returncode == 2, done.stderr
    for name in ("EW_ADMIN_TOKEN", "EW_MQTT_URL", "EW_REQUIRE_REGISTERED_DEVICES", "EW_API_DOCS",
                 "EW_METRICS_TOKEN", "EW_ALLOW_ANONYMOUS_MQTT"):
        assert name in done.stderr
    assert "refuses to start" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_worker_role_refuses_only_what_applies(tmp_path: Path) -> None:
    done = _serve(tmp_path, {"EW_MQTT_URL": MQTT_OK, "EW_REQUIRE_REGISTERED_DEVICES": "true",
                             "EW_METRICS_PORT": "9100"}, "--role", "ingest")
    assert done.returncode == 2, done.stderr
    assert "EW_METRICS_PORT" in done.stderr
    assert "EW_API_DOCS" not in done.stderr
    assert "EW_MQTT_URL" not in done.stderr


def test_serve_with_waivers_passes_the_guard(tmp_path: Path) -> None:
    """Waived on purpose, ``serve`` gets past the guard and fails only later, on the unreachable database."""
    done = _serve(tmp_path, {"EW_MQTT_URL": "mqtt://127.0.0.1:9", "EW_ALLOW_ANONYMOUS_MQTT": "true",
                             "EW_ALLOW_UNREGISTERED_DEVICES": "true", "EW_ALLOW_PUBLIC_DOCS": "true",
                             "EW_ALLOW_PUBLIC_METRICS": "true"}, "--role", "ingest")
    assert "refuses to start" not in done.stderr
    assert done.returncode not in (0, 2)
    assert "127.0.0.1" in done.stderr  # the database it could not reach


def test_metrics_token_and_docs_switch_are_enforced_by_the_app(settings: Settings) -> None:
    """What the guard asks for is real: with a metrics token /metrics needs it, with docs off they are gone."""
    closed = settings.model_copy(update={"metrics_token": SecretStr(STRONG), "api_docs": False})
    with TestClient(create_app(closed)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {STRONG}"}).status_code == 200
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/readyz").status_code == 200
    with TestClient(create_app(settings)) as client:  # the defaults of the demo and the tests
        assert client.get("/metrics").status_code == 200
        assert client.get("/openapi.json").status_code == 200
