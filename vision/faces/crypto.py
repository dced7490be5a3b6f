"""Embeddings encrypted at rest: AES-256-GCM, the key from the ``EW_FACE_KEY`` setting, never from the database.

Each sealed blob is ``b"EWF1" + nonce(12) + ciphertext+tag``. The resident id and the model name are bound in as
associated data, so a row copied onto another resident, or read as another model's vectors, fails to open instead
of matching the wrong person. ``cryptography`` comes with the ``faces`` extra.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import os
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.faces import FACES_EXTRA_HINT, FacesUnavailableError

MAGIC = b"EWF1"
NONCE = 12
KEY_SETTING = "EW_FACE_KEY"


class SealError(ValueError):
    """A blob that does not open with this key for this resident and model: wrong key, tampering, or a swap."""


def new_key() -> str:
    """A fresh key in the form the setting takes (URL-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def parse_key(text: str) -> bytes:
    """The 32 key bytes of an ``EW_FACE_KEY`` value, or a clear error."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"{KEY_SETTING} must be URL-safe base64 of 32 bytes (make one with new_key())") from exc
    if len(raw) != 32:
        raise ValueError(f"{KEY_SETTING} must decode to 32 bytes (AES-256), got {len(raw)}")
    return raw


def _aesgcm() -> type[Any]:
    try:
        module = importlib.import_module("cryptography.hazmat.primitives.ciphers.aead")
    except ImportError as exc:
        raise FacesUnavailableError(f"cannot import 'cryptography': {FACES_EXTRA_HINT}") from exc
    cipher: type[Any] = module.AESGCM
    return cipher


class EmbeddingSealer:
    """Seals and opens one resident's embedding matrix (float32, K x D) under the site key."""

    def __init__(self, key: str | bytes) -> None:
        raw = parse_key(key) if isinstance(key, str) else key
        if len(raw) != 32:
            raise ValueError("the face key must be 32 bytes (AES-256)")
        cipher = _aesgcm()
        self._gcm = cipher(raw)
        self._invalid_tag: type[Exception] = importlib.import_module("cryptography.exceptions").InvalidTag

    @staticmethod
    def _aad(person: str, model: str, dim: int) -> bytes:
        return f"{person}\x00{model}\x00{dim}".encode()

    def seal(self, person: str, model: str, embeddings: npt.ArrayLike) -> bytes:
        """Encrypt a (K, D) matrix for this resident and model under a fresh random nonce."""
        rows = np.ascontiguousarray(np.asarray(embeddings, dtype="<f4"))
        if rows.ndim != 2 or rows.shape[0] == 0:
            raise ValueError("embeddings must be a non-empty (K, D) matrix")
        nonce = os.urandom(NONCE)
        body: bytes = self._gcm.encrypt(nonce, rows.tobytes(), self._aad(person, model, rows.shape[1]))
        return MAGIC + nonce + body

    def open(self, person: str, model: str, blob: bytes, dim: int = 128) -> npt.NDArray[np.float32]:
        """Decrypt a blob sealed for this resident and model, or raise ``SealError``."""
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE + 16:
            raise SealError(f"face data of {person!r} is not a sealed embedding blob")
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE]
        try:
            plain: bytes = self._gcm.decrypt(nonce, blob[len(MAGIC) + NONCE :], self._aad(person, model, dim))
        except self._invalid_tag as exc:
            raise SealError(f"face data of {person!r} does not open with this key and model") from exc
        return np.frombuffer(plain, dtype="<f4").reshape(-1, dim).astype(np.float32)
