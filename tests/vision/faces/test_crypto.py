"""Sealed embeddings: they open only with the key, for the resident and the model they were sealed for."""

from __future__ import annotations

import numpy as np
import pytest

from vision.faces.crypto import MAGIC, EmbeddingSealer, SealError, new_key, parse_key


def test_round_trip_and_no_plain_floats(sealer: EmbeddingSealer) -> None:
    emb = np.random.default_rng(1).normal(0, 1, (3, 128)).astype(np.float32)
    blob = sealer.seal("R1", "m1", emb)
    assert blob.startswith(MAGIC)
    assert emb.tobytes()[:16] not in blob
    np.testing.assert_array_equal(sealer.open("R1", "m1", blob), emb)
    assert sealer.seal("R1", "m1", emb) != blob  # a fresh nonce each time


def test_wrong_key_resident_model_or_tampering_fail(sealer: EmbeddingSealer) -> None:
    emb = np.ones((1, 128), np.float32)
    blob = sealer.seal("R1", "m1", emb)
    with pytest.raises(SealError):
        EmbeddingSealer(new_key()).open("R1", "m1", blob)
    with pytest.raises(SealError):
        sealer.open("R2", "m1", blob)  # a row copied onto another resident
    with pytest.raises(SealError):
        sealer.open("R1", "m2", blob)
    with pytest.raises(SealError):
        sealer.open("R1", "m1", blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(SealError, match="not a sealed"):
        sealer.open("R1", "m1", emb.tobytes())


def test_key_setting_is_checked() -> None:
    assert len(parse_key(new_key())) == 32
    with pytest.raises(ValueError, match="EW_FACE_KEY"):
        parse_key("too-short")
    with pytest.raises(ValueError, match="EW_FACE_KEY"):
        parse_key("!!!not base64!!!")
