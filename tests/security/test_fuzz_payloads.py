"""Bounded, deterministic fuzzing (hypothesis, derandomized) of what devices send: the MQTT payload validators,
JPEG frame headers and the frame guard, and the Retry-After parser. Each must answer with its documented result or
rejection type (``Rejected``, ``BadFrameError``, None) and never raise anything else. Budget: 150 examples per
test (``BUDGET``), about 5 s in all."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.webhook_signing import retry_after_seconds
from common import topics
from common.messages import Accepted, Limits, Rejected, parse
from vision.decode import BadFrameError, jpeg_size
from vision.frame_guard import checked_size

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LIMITS = Limits(site="fz")
# the budget: 150 derandomized examples per test, about 5 s for the three on the 2-core test machine
BUDGET = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])

_ids = st.one_of(st.text(min_size=0, max_size=80), st.sampled_from(["..", ".", "gate-1", "A-1201", "x" * 300]))
_topic = st.one_of(
    st.builds(topics.access, st.just("fz"), _ids), st.builds(topics.telemetry, st.just("fz"), _ids),
    st.builds(topics.unit, st.just("fz"), _ids, st.sampled_from(["door", "motion", "water", "smell"])),
    st.builds(topics.status, st.sampled_from(["fz", "other"]), _ids), st.text(max_size=120))
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                                   max_size=5), max_leaves=20)
_fields = st.fixed_dictionaries({}, optional={
    "ts": st.one_of(st.integers(), st.floats(), st.text(max_size=30), st.just(NOW.isoformat()),
                    st.just(int(NOW.timestamp() * 1000))),
    "person": _ids, "direction": st.sampled_from(["in", "out", "up"]), "method": st.sampled_from(["face", "x"]),
    "state": st.sampled_from(["open", "closed", 1]), "sensor": _ids,
    "litres": st.one_of(st.floats(allow_nan=True), st.integers()), "seq": st.integers(),
    "metrics": st.dictionaries(_ids, st.one_of(st.floats(), st.text(max_size=5)), max_size=4), "extra": _json})


def _encode(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


_payload = st.one_of(st.binary(max_size=300), _fields.map(_encode), _json.map(_encode),
                     st.sampled_from([b"online", b"offline", b'"online"', b"\xff\xfe", b"{" * 5000]))


@BUDGET
@given(topic=_topic, payload=_payload)
def test_the_payload_validators_accept_or_reject_and_never_crash(topic: str, payload: bytes) -> None:
    result = parse(topic, payload, NOW, LIMITS)
    assert isinstance(result, Accepted | Rejected)
    if isinstance(result, Rejected):
        assert result.reason
    else:
        assert topics.valid_id(result.route.entity)
        assert result.route.site == "fz"


def _jpeg_like(segments: list[tuple[int, bytes]], tail: bytes) -> bytes:
    out = bytearray(b"\xff\xd8")
    for marker, body in segments:
        out += bytes([0xFF, marker]) + struct.pack(">H", min(len(body) + 2, 0xFFFF)) + body
    return bytes(out + tail)


_segment = st.tuples(st.integers(0, 255), st.binary(max_size=40))
_sof = st.builds(lambda h, w, rest: (0xC0, bytes([8]) + struct.pack(">HH", h, w) + rest),
                 st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=12))
_frame = st.one_of(
    st.binary(max_size=200),
    st.builds(_jpeg_like, st.lists(st.one_of(_segment, _sof), max_size=6),
              st.one_of(st.just(b"\xff\xd9"), st.binary(max_size=20))),
)


@BUDGET
@given(frame=_frame)
def test_frame_headers_give_a_size_or_a_rejection(frame: bytes) -> None:
    size = _size_or_reason(lambda: jpeg_size(frame))
    if isinstance(size, str):
        assert size in {"not_jpeg", "truncated", "corrupt"}
    else:
        assert size[0] > 0
        assert size[1] > 0
    guarded = _size_or_reason(lambda: checked_size(frame, max_bytes=150, max_pixels=1_000_000))
    if isinstance(guarded, str):
        assert guarded in {"not_jpeg", "truncated", "corrupt", "oversized", "too_many_pixels"}
    else:
        assert guarded[0] * guarded[1] <= 1_000_000
        assert len(frame) <= 150


def _size_or_reason(read: Callable[[], tuple[int, int]]) -> tuple[int, int] | str:
    """The size, or the rejection reason; any other exception escapes and fails the example."""
    try:
        return read()
    except BadFrameError as exc:
        return exc.reason


@BUDGET
@given(value=st.one_of(st.none(), st.text(max_size=60), st.from_regex(r"\s*[0-9\u00b2\u0663]{1,14}\s*"),
                       st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))))
def test_retry_after_is_seconds_or_none(value: str | None) -> None:
    result = retry_after_seconds(value, NOW)
    assert result is None or (isinstance(result, float) and result >= 0)
