"""The checks every JPEG from outside passes before anything decodes it: size in bytes, then the pixel count its
header claims (a 30-byte header may claim 32000x32000, which would cost a decoder gigabytes).

Shared by the vision service (MQTT frames) and the API (the calibration image), so both refuse the same frames.
"""

from __future__ import annotations

from pathlib import Path

from common.topics import valid_id
from vision.decode import BadFrameError, jpeg_size


def checked_size(jpeg: bytes, *, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) of a frame that may be decoded.

    Raises:
        BadFrameError: ``oversized`` (bytes), ``too_many_pixels`` (header), or what ``jpeg_size`` refuses.
    """
    if len(jpeg) > max_bytes:
        raise BadFrameError("oversized", f"{len(jpeg)} bytes > limit {max_bytes}")
    width, height = jpeg_size(jpeg)
    if width * height > max_pixels:
        raise BadFrameError("too_many_pixels", f"{width}x{height} > limit of {max_pixels} pixels")
    return width, height


def inside(root: Path, *parts: str) -> Path:
    """``root/part/...`` for protocol ids only, and only when it stays inside ``root``.

    Raises:
        ValueError: a part is not a protocol id, or the path would leave ``root``.
    """
    for part in parts:
        if not valid_id(part):
            raise ValueError(f"{part[:80]!r} is not a valid id")
    path = root.joinpath(*parts)
    base = root.resolve()
    if not path.resolve().is_relative_to(base):
        raise ValueError(f"{path} is outside {base}")
    return path
