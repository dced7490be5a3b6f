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

ServiceRole = Literal["ingest", "vision", "alerts", "api", "all"]


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
    camera_offline_s: float = Field(default=30.0, gt=0,
                                    description="seconds without a frame before a camera raises device_offline")
    cameras_file: Path | None = Field(default=None, description="JSON list of camera configurations")
    estate_file: Path | None = Field(
        default=None, description="site plan of the estate map (towers, gates, camera positions); unset = derived")
    # learned nuisance zones (vision/activity_map.py, docs/cameras.md)
    activity_map_save_s: float = Field(default=300.0, gt=0,
                                       description="seconds between saves of each camera's activity map")
    activity_map_tau_h: float = Field(default=6.0, gt=0,
                                      description="time constant (hours) over which the activity map forgets")
    activity_map_warmup_h: float = Field(default=1.0, ge=0,
                                         description="hours of frames a camera's activity map needs before it acts")

    # entrance cameras and face recognition (vision/faces/service.py, docs/privacy.md)
    entrance_cameras_file: Path | None = Field(
        default=None, description="JSON list of entrance cameras (id, gate, direction or line); unset = none")
    face_key: SecretStr | None = Field(
        default=None, description="URL-safe base64 of 32 bytes: AES-GCM key of face embeddings at rest")
    face_gallery_refresh_s: float = Field(
        default=10.0, gt=0, description="seconds between checks for enrolments and deletions in the face gallery")

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

    # hostile input, webhooks, retention and outages (docs/security.md)
    max_frame_pixels: int = Field(default=20_000_000, ge=1,
                                  description="largest width x height a JPEG header may claim; refused before decoding")
    vision_max_cameras: int = Field(default=512, ge=1,
                                    description="distinct camera ids one vision process tracks; frames of more refused")
    vision_max_cameras_per_worker: int = Field(default=64, ge=1,
                                               description="cameras one vision worker keeps state for")
    vision_ring_bytes: int = Field(default=48 * 1024 * 1024, ge=1024 * 1024,
                                   description="JPEG bytes one camera's evidence ring buffer may hold")
    webhook_allow_networks: str = Field(
        default="", description="comma-separated CIDRs webhooks may reach although internal (on-site receivers)")
    webhook_deadline_s: float = Field(default=15.0, gt=0, le=55,
                                      description="total time one webhook attempt may take, connect to last byte")
    webhook_concurrency: int = Field(default=8, ge=1, le=64,
                                     description="webhook endpoints delivered to at the same time")
    webhook_secret_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes: AES-GCM key of webhook secrets at rest; "
        "unset = a key file made in data_dir")
    evidence_retention_days: float = Field(default=30.0, gt=0, description="days evidence files are kept")
    dead_letter_retention_days: float = Field(default=30.0, gt=0,
                                              description="days dead letters (ingest and webhooks) are kept")
    outbox_retention_days: float = Field(default=7.0, gt=0, description="days delivered outbox rows are kept")
    retention_every_s: float = Field(default=3600.0, gt=0, description="seconds between retention passes")
    ingest_queue_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024,
                                    description="payload bytes ingest holds in memory before it stops reading")

    # broker identity (estatewatch/broker_accounts.py, docs/security.md) and the production guard of `serve`
    broker_auth_dir: Path | None = Field(
        default=None, description="folder of the broker's accounts.json, passwd and acl; unset = data_dir/broker-auth")
    broker_pid_file: Path | None = Field(
        default=None, description="Mosquitto's pid_file: after an account change the broker gets SIGHUP")
    broker_reload_command: str | None = Field(
        default=None, description="command (shell words) that reloads the broker instead of SIGHUP, e.g. in a "
        "container next to it; unset with no pid file = write the files only")
    broker_file_owner: str | None = Field(
        default=None, pattern=r"^\d+:\d+$", description="uid:gid for the written passwd/acl (the broker's user)")
    api_docs: bool = Field(default=True, description="serve /docs, /redoc and /openapi.json (without login)")
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token /metrics of the API asks for; unset = /metrics is public")
    allow_weak_secrets: bool = Field(default=False, description="let `serve` start with short or default secrets")
    allow_anonymous_mqtt: bool = Field(default=False, description="let `serve` start with an EW_MQTT_URL "
                                       "without credentials")
    allow_unregistered_devices: bool = Field(
        default=False, description="let `serve` start with EW_REQUIRE_REGISTERED_DEVICES off")
    allow_public_docs: bool = Field(default=False, description="let `serve` start with EW_API_DOCS on")
    allow_public_metrics: bool = Field(
        default=False, description="let `serve` start with /metrics unauthenticated (no EW_METRICS_TOKEN, or a "
        "worker's EW_METRICS_PORT, which has no login)")

    # API sessions, logins, proxies and request limits (api/, docs/security.md)
    session_idle_minutes: float = Field(default=720.0, gt=0, description="a session unused this long ends")
    session_max_hours: float = Field(default=24.0, gt=0,
                                     description="absolute lifetime of a session, however busy it is")
    admin_token_login: Literal["bootstrap", "always", "never"] = Field(
        default="bootstrap", description="when the admin token may open a console session: bootstrap = only "
        "while no enabled admin user exists")
    login_max_failures_user: int = Field(default=5, ge=1, description="failed logins per user name before lockout")
    login_max_failures_address: int = Field(default=20, ge=1,
                                            description="failed logins per client address before lockout")
    login_window_s: float = Field(default=900.0, gt=0, description="seconds failed logins are counted over")
    login_lockout_s: float = Field(default=300.0, gt=0, description="seconds a locked user or address waits")
    trusted_proxies: str = Field(default="", description="comma-separated IPs/CIDRs whose X-Forwarded-For and "
                                 "X-Forwarded-Proto are honoured; empty = none")
    cookie_secure: bool = Field(default=False, description="always mark the session cookie Secure "
                                "(it is anyway on HTTPS, also behind a trusted proxy)")
    hsts_max_age_s: int = Field(default=31_536_000, ge=0,
                                description="Strict-Transport-Security max-age on HTTPS answers; 0 = no header")
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024,
                                   description="largest request body, refused with 413 before authentication")
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, ge=1024,
                                  description="largest body of the upload routes (calibration images, CSV imports)")
    stream_max_connections: int = Field(default=200, ge=1,
                                        description="open alert streams per API process; more get 503")

    @property
    def broker_auth_path(self) -> Path:
        """Where the broker's account files live: ``broker_auth_dir``, else inside ``data_dir``."""
        return self.broker_auth_dir if self.broker_auth_dir is not None else self.data_dir / "broker-auth"

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
        """Where evidence clips are written: inside ``data_dir`` so one volume holds all state."""
        return self.data_dir / "evidence"

    def require_database_url(self) -> str:
        """The database URL, or a clear error for roles that cannot run without PostgreSQL.

        Raises:
            RuntimeError: ``EW_DATABASE_URL`` is unset and no embedded PostgreSQL filled it in.
        """
        if self.database_url is None:
            raise RuntimeError("EW_DATABASE_URL is not set and no embedded PostgreSQL was started")
        return self.database_url


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings, read once."""
    return Settings()
