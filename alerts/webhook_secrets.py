"""Webhook secrets at rest: AES-256-GCM, so a database dump or a read-only SQL account does not hand out the keys
that sign alerts. The key comes from ``EW_WEBHOOK_SECRET_KEY`` or, unset, from a key file made once in the data
folder (mode 0600); every process that registers or delivers webhooks must see the same key.

Stored form: ``enc:v1:<base64 of nonce(12) + ciphertext + tag>``, with the endpoint id as associated data, so a
ciphertext copied onto another endpoint does not decrypt. Values without the prefix are read as legacy plaintext.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.settings import Settings, get_settings

PREFIX = "enc:v1:"
KEY_FILE = Path("secrets") / "webhook.key"


class SecretKeyError(ValueError):
    """A key that is not base64 of 32 bytes, or a stored secret that does not decrypt with it."""


def _decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecretKeyError("EW_WEBHOOK_SECRET_KEY must be base64 of 32 bytes") from exc
    if len(key) != 32:
        raise SecretKeyError("EW_WEBHOOK_SECRET_KEY must be base64 of 32 bytes")
    return key


def _key_file(path: Path) -> bytes:
    """The key in ``path``, made there first (exclusively, 0600) when no process has made it yet."""
    try:
        return _decode_key(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return _decode_key(path.read_text(encoding="ascii"))
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text)
    return _decode_key(text)


class SecretBox:
    """Encrypts and decrypts endpoint secrets with one AES-GCM key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box of ``EW_WEBHOOK_SECRET_KEY``, or of the key file in the data folder."""
        if settings.webhook_secret_key is not None:
            return cls(_decode_key(settings.webhook_secret_key.get_secret_value()))
        return cls(_key_file(settings.data_dir / KEY_FILE))

    def seal(self, endpoint_id: str, secret: str) -> str:
        """The stored form of ``secret`` for this endpoint."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), endpoint_id.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, endpoint_id: str, stored: str) -> str:
        """The secret of a stored value (legacy plaintext passes through).

        Raises:
            SecretKeyError: the value was sealed with another key or for another endpoint.
        """
        if not stored.startswith(PREFIX):
            return stored
        raw = base64.b64decode(stored.removeprefix(PREFIX))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], endpoint_id.encode()).decode()
        except InvalidTag as exc:
            raise SecretKeyError(f"the secret of {endpoint_id} does not decrypt with this key") from exc


@lru_cache(maxsize=1)
def default_box() -> SecretBox:
    """The box of the process-wide settings, for callers that are not handed one."""
    return SecretBox.from_settings(get_settings())
