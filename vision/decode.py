"""JPEG checks and grayscale decoding, the one per-frame cost that cannot be avoided."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

GrayFrame = NDArray[np.uint8]

# Frames at least this wide are decoded at half size by libjpeg itself (DCT scaling): the decode is ~40% cheaper and
# a 4 px object still covers 2x2 px, which the detector finds (see docs/performance.md for the recall check). Full
# size at 720p was tried: unaveraged sensor noise then passes the motion threshold tuned for half size and makes
# thousands of short tracks per 100 frames, in which the object's track is lost.
HALF_SCALE_MIN_WIDTH = 1280
_REDUCED = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class BadFrameError(ValueError):
    """A frame that is not a usable JPEG; ``reason`` is the metric label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG header without decoding; raises ``BadFrameError`` when the markers are wrong.

    Checks the SOI and EOI markers, so truncated uploads are refused before they reach a decoder.
    """
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise BadFrameError("not_jpeg", "missing SOI marker")
    if data[-2:] != b"\xff\xd9":
        raise BadFrameError("truncated", "missing EOI marker")
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise BadFrameError("corrupt", f"bad marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in _SOF:
            if i + 9 > n:
                break
            return _frame_size(data, i)
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise BadFrameError("corrupt", "no frame header")


def _frame_size(data: bytes, i: int) -> tuple[int, int]:
    """(width, height) from the frame header at byte ``i``."""
    height = int.from_bytes(data[i + 5:i + 7], "big")
    width = int.from_bytes(data[i + 7:i + 9], "big")
    if width == 0 or height == 0:
        raise BadFrameError("corrupt", "zero frame size")
    return width, height


def scale_for_width(width: int) -> int:
    """Decode scale (1 or 2) for frames of this width."""
    return 2 if width >= HALF_SCALE_MIN_WIDTH else 1


def decode_gray(data: bytes, scale: int = 1) -> GrayFrame:
    """Grayscale decode at 1/scale size; raises ``BadFrameError('decode_failed')`` when libjpeg gives up."""
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, _REDUCED[scale])
    if img is None:
        raise BadFrameError("decode_failed", "the JPEG decoder returned nothing")
    return np.asarray(img, dtype=np.uint8)


def downscale(gray: GrayFrame, scale: int) -> GrayFrame:
    """Match ``decode_gray(scale)`` for frames that arrive already decoded (video files)."""
    if scale == 1:
        return gray
    h, w = gray.shape
    return np.asarray(cv2.resize(gray, ((w + scale - 1) // scale, (h + scale - 1) // scale),
                                 interpolation=cv2.INTER_AREA), dtype=np.uint8)
