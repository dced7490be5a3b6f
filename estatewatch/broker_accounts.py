"""Per-device and per-service MQTT accounts on Mosquitto: issue, rotate, revoke, and keep the broker's files in step.

Every device, camera and EstateWatch service logs in with an account of its own, so that one leaked or compromised
device can publish only under its own topics. EstateWatch owns three files in one folder:

- ``accounts.json``: the registry (username, kind, site, unit, hash, when issued); the source of the other two;
- ``passwd``: Mosquitto's password file, one ``username:$7$...`` line per account (PBKDF2-SHA512, Mosquitto 2);
- ``acl``: Mosquitto's ACL file, one ``user`` section per account naming exactly the topics it may use.

All three are replaced atomically (temporary file in the same folder, fsync, rename) with mode 0600, under an
exclusive lock so that the CLI and the API can both issue accounts. After each change the broker is told to re-read
the files (SIGHUP); Mosquitto then also disconnects clients whose account is gone.

Why per-account ``user`` sections rather than ``pattern`` lines: in Mosquitto 2 a ``pattern`` line applies to every
account, so ``pattern write estate/s/sensor/%u/telemetry`` would let a camera publish sensor telemetry under its own
name. Each account's section lists its own topics (the ``%u`` of the pattern written out), and nothing else.
Usernames are the device ids that appear in the topics; a unit device's username is its device id, and the registry
maps it to its unit (see docs/security.md).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

ITERATIONS = 101
"""PBKDF2 rounds: Mosquitto 2's own default. Secrets are 192 random bits, so stretching adds no strength, only
broker CPU at every CONNECT (Mosquitto hashes the offered password each time)."""
SALT_BYTES = 12  # Mosquitto 2.0 refuses any other salt length
HASH_BYTES = 64  # SHA-512 output; Mosquitto 2.0 refuses any other length

_DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # the protocol's id grammar without ':' (the passwd separator)
_UNIT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SITE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SERVICE_PREFIX = "ew."
MIN_CHOSEN_PASSWORD = 24  # for passwords an operator picks; issued ones are 32 random URL-safe characters
UNIT_LEAVES = ("door", "motion", "water")


class AccountError(ValueError):
    """A request the registry refuses: a bad id, a duplicate, an unknown account. The message says which."""


class AccountExistsError(AccountError):
    """The username is already issued: rotate or revoke it instead (HTTP 409)."""


class UnknownAccountError(AccountError):
    """No account by that username (HTTP 404)."""


class BrokerReloadError(RuntimeError):
    """The files were written but the broker could not be told to re-read them."""


class Kind(StrEnum):
    """What an account is for; it decides the account's topics."""

    SENSOR = "sensor"
    CAMERA = "camera"
    GATE = "gate"
    UNIT = "unit"
    INGEST = "ingest"
    VISION = "vision"
    ALERTS = "alerts"
    API = "api"
    SIMULATOR = "simulator"
    INTEGRATOR = "integrator"


DEVICE_KINDS = frozenset({Kind.SENSOR, Kind.CAMERA, Kind.GATE, Kind.UNIT})
SERVICE_KINDS = frozenset(set(Kind) - DEVICE_KINDS)


@dataclass(frozen=True)
class Account:
    """One issued account as the registry keeps it: never the secret, only its Mosquitto hash."""

    username: str
    kind: Kind
    site: str
    password_hash: str
    issued_at: str
    unit: str | None = None
    leaves: tuple[str, ...] = field(default=())

    def topics(self) -> list[tuple[str, str]]:
        """``(access, topic)`` pairs this account may use; Mosquitto denies everything else."""
        return _topics(self)

    def public(self) -> dict[str, object]:
        """What listing shows: everything but the hash."""
        data = asdict(self)
        del data["password_hash"]
        data["leaves"] = list(self.leaves)
        return data


@dataclass(frozen=True)
class AccountRequest:
    """What to issue: a device (its id; a unit device also its unit and leaves) or a service role of a site."""

    kind: Kind
    site: str
    device_id: str | None = None
    unit: str | None = None
    leaves: tuple[str, ...] = ()


@dataclass(frozen=True)
class Issued:
    """A freshly issued or rotated account with its secret, which exists nowhere else: show it once."""

    account: Account
    password: str = field(repr=False)

    def mqtt_url(self, host: str, port: int, *, tls: bool = False) -> str:
        """``mqtt://user:secret@host:port`` for ``EW_MQTT_URL`` or a device's configuration."""
        scheme = "mqtts" if tls else "mqtt"
        return f"{scheme}://{quote(self.account.username, safe='')}:{quote(self.password, safe='')}@{host}:{port}"


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Mosquitto 2's ``$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>`` for ``password``."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"Mosquitto needs a {SALT_BYTES}-byte salt, got {len(salt)}")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (constant-time compare); False for any other format."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt, expected = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError:  # binascii.Error: not base64
        return False
    actual = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(actual, expected)


def service_username(kind: Kind, site: str) -> str:
    """``ew.<role>.<site>``: the ``ew.`` prefix is refused for devices, so a device cannot take a service's name."""
    return f"{SERVICE_PREFIX}{kind.value}.{site}"


def _topics(a: Account) -> list[tuple[str, str]]:
    base = f"estate/{a.site}"
    status = ("write", f"{base}/device/{a.username}/status")
    device_topics: dict[Kind, list[tuple[str, str]]] = {
        Kind.SENSOR: [("write", f"{base}/sensor/{a.username}/telemetry"), status],
        Kind.CAMERA: [("write", f"{base}/camera/{a.username}/frame"), status],
        Kind.GATE: [("write", f"{base}/access/{a.username}/event"), status],
        Kind.UNIT: [*(("write", f"{base}/unit/{a.unit}/{leaf}") for leaf in a.leaves), status],
    }
    events = [f"{base}/access/+/event", *(f"{base}/unit/+/{leaf}" for leaf in UNIT_LEAVES),
              f"{base}/device/+/status", f"{base}/sensor/+/telemetry"]
    service_topics: dict[Kind, list[tuple[str, str]]] = {
        Kind.INGEST: [("read", f"{base}/{branch}/#") for branch in ("sensor", "access", "unit", "device")],
        # entrance cameras turn recognised passages into access events
        Kind.VISION: [("read", f"{base}/camera/+/frame"), ("write", f"{base}/access/+/event")],
        Kind.ALERTS: [*(("read", t) for t in events), ("write", f"{base}/alerts")],
        Kind.API: [],  # connects for its health check only; it publishes and reads nothing
        Kind.SIMULATOR: [("write", t) for t in (*events, f"{base}/camera/+/frame")],
        Kind.INTEGRATOR: [("read", f"{base}/alerts")],
    }
    return device_topics.get(a.kind) or service_topics.get(a.kind, [])


def render_password_file(accounts: Iterable[Account]) -> str:
    """Mosquitto's password file: ``username:hash`` lines."""
    return "".join(f"{a.username}:{a.password_hash}\n" for a in sorted(accounts, key=lambda a: a.username))


def render_acl(accounts: Iterable[Account]) -> str:
    """Mosquitto's ACL file: no anonymous rules, no patterns, one ``user`` section per account."""
    lines = ["# Written by EstateWatch from accounts.json; edits here are overwritten at the next change.",
             "# No lines before the first 'user': anonymous clients get nothing (and allow_anonymous is false)."]
    for a in sorted(accounts, key=lambda a: a.username):
        lines += ["", f"# {a.kind.value}" + (f" device of {a.unit}" if a.unit else ""), f"user {a.username}"]
        lines += [f"topic {access} {topic}" for access, topic in a.topics()]
    return "\n".join(lines) + "\n"


class Reloader(Protocol):
    """Tells a running broker to re-read its password and ACL files."""

    def reload(self) -> None:
        """Ask for the reload; raise ``BrokerReloadError`` when the broker cannot be reached."""


@dataclass(frozen=True)
class SignalReloader:
    """SIGHUP to the broker: a known pid, or the one in Mosquitto's ``pid_file``."""

    pid: int | None = None
    pid_file: Path | None = None

    def reload(self) -> None:
        """Send SIGHUP; Mosquitto re-reads ``password_file`` and ``acl_file`` and re-checks connected clients."""
        pid = self.pid
        if pid is None and self.pid_file is not None:
            try:
                pid = int(self.pid_file.read_text().strip())
            except (OSError, ValueError) as exc:
                raise BrokerReloadError(f"cannot read the broker's pid from {self.pid_file}: {exc}") from exc
        if pid is None:
            raise BrokerReloadError("no broker pid or pid file given")
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            raise BrokerReloadError(f"cannot signal the broker (pid {pid}): {exc}") from exc


@dataclass(frozen=True)
class CommandReloader:
    """A command that reloads the broker elsewhere, e.g. ``docker compose kill -s HUP mosquitto``."""

    argv: tuple[str, ...]

    def reload(self) -> None:
        """Run the command; a non-zero exit is a failed reload."""
        done = subprocess.run(self.argv, capture_output=True, check=False, timeout=30)  # noqa: S603 (operator's own argv)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace").strip()[-500:]
            raise BrokerReloadError(f"{self.argv[0]} exited with {done.returncode}: {output}")


def _atomic_write(path: Path, text: str, owner: tuple[int, int] | None) -> None:
    """Replace ``path`` in one rename, mode 0600 from the first byte, so the broker never reads half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        if owner is not None:
            os.fchown(fd, *owner)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class BrokerAccounts:
    """The registry of broker accounts in ``directory``, and the Mosquitto files derived from it.

    Args:
        directory: folder for ``accounts.json``, ``passwd`` and ``acl`` (created 0700 when missing).
        reloader: how to tell the broker; None writes the files only (the broker reads them at its next start).
        owner: ``(uid, gid)`` for the written files when the broker runs as another user than this process.
        iterations: PBKDF2 rounds for new hashes.
    """

    def __init__(self, directory: Path, *, reloader: Reloader | None = None, owner: tuple[int, int] | None = None,
                 iterations: int = ITERATIONS) -> None:
        self.directory = directory.resolve()
        self.reloader = reloader
        self.owner = owner
        self.iterations = iterations
        self.registry_file = self.directory / "accounts.json"
        self.password_file = self.directory / "passwd"
        self.acl_file = self.directory / "acl"

    def mosquitto_config(self) -> str:
        """The lines a ``mosquitto.conf`` needs to enforce these accounts."""
        return (f"per_listener_settings false\nallow_anonymous false\n"
                f"password_file {self.password_file}\nacl_file {self.acl_file}\n")

    def accounts(self, site: str | None = None) -> list[Account]:
        """Every account (of one site), by username."""
        with self._locked():
            accounts = self._load()
        return sorted((a for a in accounts.values() if site is None or a.site == site), key=lambda a: a.username)

    def issue(self, kind: Kind, site: str, device_id: str | None = None, *, unit: str | None = None,
              leaves: Sequence[str] | None = None) -> Issued:
        """A new account with a fresh secret; devices name their id, services are one account per role and site.

        Raises:
            AccountError: bad site, id, unit or leaves, or the username is already issued (rotate it instead).
        """
        return self.issue_many([AccountRequest(Kind(kind), site, device_id, unit, tuple(leaves or ()))])[0]

    def issue_many(self, requests: Sequence[AccountRequest]) -> list[Issued]:
        """Several new accounts in one write and one reload (a batch of installed devices, a benchmark's fleet).

        All or nothing: one bad or duplicate request refuses the batch, and nothing is written.
        """
        drafts = [self._new_account(r.kind, r.site, r.device_id, r.unit, r.leaves) for r in requests]
        if len({d.username for d in drafts}) != len(drafts):
            raise AccountError("the batch names one username twice")
        issued: list[Issued] = []
        with self._locked():
            accounts = self._load()
            for draft in drafts:
                if draft.username in accounts:
                    raise AccountExistsError(f"account {draft.username!r} already exists; rotate or revoke it")
                password = secrets.token_urlsafe(24)
                account = replace(draft, password_hash=hash_password(password, iterations=self.iterations))
                accounts[account.username] = account
                issued.append(Issued(account, password))
            self._commit(accounts)
        return issued

    def rotate(self, username: str) -> Issued:
        """A new secret for an existing account; the old one stops working at the reload."""
        return self.rotate_many([username])[0]

    def rotate_many(self, usernames: Sequence[str]) -> list[Issued]:
        """New secrets for several accounts in one write and one reload (the demo rotates every service at start)."""
        issued: list[Issued] = []
        with self._locked():
            accounts = self._load()
            for username in usernames:
                old = self._existing(accounts, username)
                password = secrets.token_urlsafe(24)
                new = replace(old, password_hash=hash_password(password, iterations=self.iterations),
                              issued_at=_now())
                accounts[username] = new
                issued.append(Issued(new, password))
            self._commit(accounts)
        return issued

    def set_passwords(self, requests: Sequence[tuple[AccountRequest, str]]) -> list[Account]:
        """Accounts whose passwords the operator chose (a deployment's service accounts, kept in its ``.env``).

        Missing accounts are issued, those whose password changed get the new hash, the rest stay as they are, so
        running this at every start changes nothing until a password does. One write and one reload.

        Raises:
            AccountError: a bad request, or a password shorter than ``MIN_CHOSEN_PASSWORD``.
        """
        drafts = [(self._new_account(r.kind, r.site, r.device_id, r.unit, r.leaves), pw) for r, pw in requests]
        for draft, password in drafts:
            if len(password) < MIN_CHOSEN_PASSWORD:
                raise AccountError(f"the password of {draft.username!r} has {len(password)} characters; "
                                   f"give at least {MIN_CHOSEN_PASSWORD}")
        with self._locked():
            accounts = self._load()
            changed = False
            for draft, password in drafts:
                old = accounts.get(draft.username)
                if old is not None and old.kind == draft.kind and verify_password(password, old.password_hash):
                    continue
                accounts[draft.username] = replace(draft, password_hash=hash_password(password,
                                                                                      iterations=self.iterations))
                changed = True
            if changed or not self.password_file.exists():
                self._commit(accounts)
            return [accounts[d.username] for d, _ in drafts]

    def revoke(self, username: str) -> Account:
        """Remove an account; at the reload the broker refuses it and drops its live connections."""
        with self._locked():
            accounts = self._load()
            gone = self._existing(accounts, username)
            del accounts[username]
            self._commit(accounts)
        return gone

    def sync(self, *, reload: bool = True) -> None:
        """Rewrite ``passwd`` and ``acl`` from the registry (before a broker starts, or after a restore)."""
        with self._locked():
            self._commit(self._load(), reload=reload)

    # internals -------------------------------------------------------------------------------------------------

    def _new_account(self, kind: Kind, site: str, device_id: str | None, unit: str | None,
                     leaves: Sequence[str] | None) -> Account:
        if not _SITE.match(site):
            raise AccountError(f"site must be 1-64 of A-Z a-z 0-9 _ -, got {site!r}")
        if kind in SERVICE_KINDS:
            if device_id is not None or unit is not None or leaves:
                raise AccountError(f"a {kind.value} service account takes no device id, unit or leaves")
            return Account(service_username(kind, site), kind, site, "", _now())
        if device_id is None or not _DEVICE_ID.match(device_id):
            raise AccountError(f"device id must be 1-64 of A-Z a-z 0-9 _ . - (no ':'), got {device_id!r}")
        if device_id.startswith(SERVICE_PREFIX):
            raise AccountError(f"device ids starting with {SERVICE_PREFIX!r} are reserved for services")
        if kind is not Kind.UNIT:
            if unit is not None or leaves:
                raise AccountError(f"only unit devices take a unit and leaves, not a {kind.value}")
            return Account(device_id, kind, site, "", _now())
        if unit is None or not _UNIT_ID.match(unit):
            raise AccountError(f"a unit device needs a unit id of 1-64 of A-Z a-z 0-9 _ . : -, got {unit!r}")
        chosen = tuple(dict.fromkeys(leaves or ()))
        if not chosen or any(leaf not in UNIT_LEAVES for leaf in chosen):
            raise AccountError(f"a unit device needs leaves among {UNIT_LEAVES}, got {list(leaves or ())}")
        return Account(device_id, kind, site, "", _now(), unit=unit, leaves=chosen)

    @staticmethod
    def _existing(accounts: dict[str, Account], username: str) -> Account:
        try:
            return accounts[username]
        except KeyError:
            raise UnknownAccountError(f"no account {username!r}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with (self.directory / ".accounts.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Account]:
        try:
            raw = json.loads(self.registry_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise AccountError(f"{self.registry_file} is unreadable, fix or restore it: {exc}") from exc
        accounts: dict[str, Account] = {}
        for item in raw.get("accounts", []):
            account = Account(username=item["username"], kind=Kind(item["kind"]), site=item["site"],
                              password_hash=item["password_hash"], issued_at=item["issued_at"],
                              unit=item.get("unit"), leaves=tuple(item.get("leaves", ())))
            accounts[account.username] = account
        return accounts

    def _commit(self, accounts: dict[str, Account], *, reload: bool = True) -> None:
        """Registry first (the source of truth), then the broker's files, then the reload."""
        ordered = sorted(accounts.values(), key=lambda a: a.username)
        registry = {"version": 1, "accounts": [{**asdict(a), "leaves": list(a.leaves)} for a in ordered]}
        _atomic_write(self.registry_file, json.dumps(registry, indent=2) + "\n", self.owner)
        _atomic_write(self.password_file, render_password_file(ordered), self.owner)
        _atomic_write(self.acl_file, render_acl(ordered), self.owner)
        if reload and self.reloader is not None:
            self.reloader.reload()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
