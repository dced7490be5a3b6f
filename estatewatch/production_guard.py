"""The production guard of ``estatewatch serve``: refuse settings that are only fit for a laptop.

``serve`` is how a real estate runs EstateWatch; the demo and the tests build their services without it. A weak
secret, an anonymous broker login, unregistered devices or public docs and metrics are each a way in (see
docs/security.md), so ``serve`` stops with a message that names the setting to fix and the one that waives the check.
Every secret setting is found from the settings model itself, so a new ``SecretStr`` setting is guarded by default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from common.settings import Settings

MIN_SECRET_CHARS = 24
MIN_DISTINCT_CHARS = 8
KNOWN_DEFAULTS = frozenset({"admin", "administrator", "password", "passw0rd", "secret", "changeme", "change-me",
                            "change_me", "estatewatch", "default", "test", "token", "mosquitto", "letmein"})
_DEFAULT_WORDS = ("changeme", "change-me", "change_me", "example", "placeholder", "your-")
API_ROLES = frozenset({"api", "all"})


@dataclass(frozen=True)
class Refusal:
    """One reason not to start: what is wrong, the setting to fix, and the one that would waive it."""

    setting: str
    problem: str
    waiver: str

    def __str__(self) -> str:
        """The line ``serve`` prints."""
        return f"{self.setting}: {self.problem} (or set {self.waiver}=true to start anyway)"


class ProductionGuardError(RuntimeError):
    """``serve`` refuses these settings; the message lists every refusal."""

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        lines = "\n".join(f"  - {r}" for r in refusals)
        super().__init__(f"estatewatch serve refuses to start with these settings:\n{lines}")


def weakness(secret: str) -> str | None:
    """Why a secret is too weak to guard a production service, or None when it is fine."""
    lowered = secret.lower()
    if lowered in KNOWN_DEFAULTS or any(word in lowered for word in _DEFAULT_WORDS):
        return "is a default or placeholder value"
    if len(secret) < MIN_SECRET_CHARS:
        return f"is {len(secret)} characters, fewer than {MIN_SECRET_CHARS}"
    if len(set(secret)) < MIN_DISTINCT_CHARS:
        return f"has fewer than {MIN_DISTINCT_CHARS} distinct characters"
    return None


def _secret_refusals(settings: Settings) -> Iterable[Refusal]:
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            why = weakness(value.get_secret_value())
            if why is not None:
                yield Refusal(f"EW_{name.upper()}", f"the secret {why}; use e.g. `python -c \"import secrets; "
                              "print(secrets.token_urlsafe(32))\"`", "EW_ALLOW_WEAK_SECRETS")


def _mqtt_refusals(settings: Settings) -> Iterable[Refusal]:
    if settings.mqtt_url is None:
        return  # the role cannot start without it and says so itself
    target = settings.mqtt
    if not target.username or not target.password:
        if not settings.allow_anonymous_mqtt:
            yield Refusal("EW_MQTT_URL", "has no user and password: anyone who reaches the broker could then "
                          "publish as any device; issue a service account (`estatewatch devices issue-service`)",
                          "EW_ALLOW_ANONYMOUS_MQTT")
        return
    why = weakness(target.password)
    if why is not None and not settings.allow_weak_secrets:
        yield Refusal("EW_MQTT_URL", f"the broker password {why}", "EW_ALLOW_WEAK_SECRETS")


def check(settings: Settings, roles: Iterable[str]) -> list[Refusal]:
    """Every reason these settings are not fit to ``serve`` these roles in production (empty: fit)."""
    roles = set(roles)
    refusals: list[Refusal] = []
    if not settings.allow_weak_secrets:
        refusals += _secret_refusals(settings)
    refusals += _mqtt_refusals(settings)
    if not settings.require_registered_devices and not settings.allow_unregistered_devices:
        refusals.append(Refusal("EW_REQUIRE_REGISTERED_DEVICES", "is off: messages from any device id are "
                                "accepted; set it to true and register devices (`estatewatch devices issue`)",
                                "EW_ALLOW_UNREGISTERED_DEVICES"))
    serves_api = bool(roles & API_ROLES)
    if serves_api and settings.api_docs and not settings.allow_public_docs:
        refusals.append(Refusal("EW_API_DOCS", "is on: /docs, /redoc and /openapi.json answer without login; "
                                "set it to false", "EW_ALLOW_PUBLIC_DOCS"))
    if not settings.allow_public_metrics:
        if serves_api and settings.metrics_token is None:
            refusals.append(Refusal("EW_METRICS_TOKEN", "is unset: /metrics of the API answers without login; set "
                                    "a token for Prometheus to send as a bearer token", "EW_ALLOW_PUBLIC_METRICS"))
        if not serves_api and settings.metrics_port:
            refusals.append(Refusal("EW_METRICS_PORT", "serves /metrics without login; unset it, or keep the port "
                                    "on a private network and waive this", "EW_ALLOW_PUBLIC_METRICS"))
    return refusals


def enforce(settings: Settings, roles: Iterable[str]) -> None:
    """Raise ``ProductionGuardError`` listing every refusal, if there is any.

    Raises:
        ProductionGuardError: at least one setting is not fit for production.
    """
    refusals = check(settings, roles)
    if refusals:
        raise ProductionGuardError(refusals)
