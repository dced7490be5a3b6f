"""Settings read from the environment (prefix ``EW_``) or a ``.env`` file.

Every knob an operator may turn lives here, so ``docs/configuration.md`` can list them in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["ingest", "vision", "alerts", "api", "all"]


class MqttTarget(BaseModel):
    """A broker address parsed from ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttTarget:
        """Parse an MQTT URL; raise ``ValueError`` with the reason when it is not one."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"MQTT URL has no host: {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


class Settings(BaseSettings):
    """EstateWatch configuration. Unset URLs mean: start an embedded service (demo and tests only)."""

    model_config = SettingsConfigDict(env_prefix="EW_", env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, description="PostgreSQL URL; unset = embedded PostgreSQL")
    mqtt_url: str | None = Field(default=None, description="mqtt://user:pass@host:port; unset = embedded broker")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    admin_token: SecretStr | None = Field(default=None, description="bearer token with the admin role")
    site: str = Field(default="demo", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    data_dir: Path = Path("var")

    # ingest
    ingest_group: str | None = Field(
        default=None,
        description="shared-subscription group to split load over several ingest processes; unset = one process "
        "with a plain persistent subscription (Mosquitto 2.0 does not restore shared subscriptions after a restart)",
    )
    mqtt_client_id: str | None = Field(default=None, description="stable id for a persistent session")
    max_json_bytes: int = 64 * 1024
    max_frame_bytes: int = 4 * 1024 * 1024
    future_tolerance_s: float = 300.0
    past_tolerance_days: float = 30.0
    batch_max_rows: int = 5000
    batch_max_wait_ms: int = 200
    require_registered_devices: bool = Field(
        default=False, description="reject messages from devices not in the devices table"
    )
    retention_days: int = 90
    partitions_ahead_days: int = 7

    # vision
    vision_workers: int = Field(default=0, description="vision worker processes; 0 = one per core")
    cameras_file: Path | None = Field(default=None, description="JSON list of camera configurations")

    # alerts / webhooks
    timezone: str = Field(default="Asia/Shanghai", description="estate local time zone")

    # deployment (docker-compose.yml, docs/scaling.md)
    metrics_port: int | None = Field(default=None, description="Prometheus port of a worker role (no HTTP API)")
    vision_partition: str | None = Field(default=None, pattern=r"^\d+/[1-9]\d*$",
                                         description="i/n: this vision process takes cameras whose id hashes to i")

    # alerts area: rules / SLA / webhook retry configuration (JSON or YAML, docs/alerts.md) and MQTT group
    alert_rules_file: Path | None = Field(default=None, description="alert rules, SLA and retry configuration")
    alerts_group: str | None = Field(
        default=None,
        description="shared-subscription group of alerts processes; unset = one process, plain subscription",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            MqttTarget.parse(value)
        return value

    @property
    def mqtt(self) -> MqttTarget:
        """The broker to use; only valid once ``mqtt_url`` is set (embedded services fill it in)."""
        if self.mqtt_url is None:
            raise RuntimeError("EW_MQTT_URL is not set and no embedded broker was started")
        return MqttTarget.parse(self.mqtt_url)

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    def require_database_url(self) -> str:
        if self.database_url is None:
            raise RuntimeError("EW_DATABASE_URL is not set and no embedded PostgreSQL was started")
        return self.database_url


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return Settings()
