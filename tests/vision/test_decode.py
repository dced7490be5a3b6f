"""Frame checks before decoding: SOI/EOI markers, frame header, and decoder failures."""

from __future__ import annotations

import numpy as np
import pytest

from tests.vision.helpers import jpeg, undecodable_jpeg
from vision.decode import BadFrameError, decode_gray, jpeg_size, scale_for_width


def test_size_comes_from_the_header_and_reduced_decode_halves_it() -> None:
    img = np.random.default_rng(1).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    data = jpeg(img)
    assert jpeg_size(data) == (640, 360)
    assert decode_gray(data).shape == (360, 640)
    assert decode_gray(data, 2).shape == (180, 320)
    assert scale_for_width(1920) == 2
    assert scale_for_width(640) == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "not_jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not_jpeg"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "truncated"),
        (b"\xff\xd8\x00\x01\x02\x03\xff\xd9", "corrupt"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(BadFrameError) as info:
        jpeg_size(payload)
    assert info.value.reason == reason


def test_truncated_real_jpeg_and_undecodable_one() -> None:
    data = jpeg(np.full((40, 60, 3), 90, np.uint8))
    with pytest.raises(BadFrameError) as info:
        jpeg_size(data[: len(data) // 2])
    assert info.value.reason == "truncated"
    bad = undecodable_jpeg()
    assert jpeg_size(bad) == (64, 48)  # the header is fine...
    with pytest.raises(BadFrameError) as info:
        decode_gray(bad)
    assert info.value.reason == "decode_failed"  # ...the decoder is not
