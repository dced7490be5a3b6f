"""Validation of every payload kind, without a broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from common.messages import Accepted, Limits, Rejected, parse
from common.topics import Kind

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LIMITS = Limits(site="s1", max_json_bytes=1024)
MS = int(NOW.timestamp() * 1000)


def _telemetry(body: object) -> Accepted | Rejected:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse("estate/s1/sensor/t-1/telemetry", raw, NOW, LIMITS)


def test_valid_telemetry_with_epoch_ms() -> None:
    result = _telemetry({"ts": MS, "seq": 7, "metrics": {"temp": 21.5, "humidity": 40}})
    assert isinstance(result, Accepted)
    assert result.ts == NOW
    assert result.route.entity == "t-1"


def test_naive_iso_is_estate_local_time() -> None:
    result = _telemetry({"ts": "2026-11-22T16:00:00", "metrics": {"temp": 1}})
    assert isinstance(result, Accepted)
    assert result.ts == NOW  # 16:00 in Asia/Shanghai is 08:00 UTC


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not_json"),
        (b"\xff\xd8\xff\xe0 binary", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"ts": %d, "metrics": {"temp": NaN}}' % MS, "non_finite"),
        (b'{"ts": %d, "metrics": {"temp": Infinity}}' % MS, "non_finite"),
        (b'{"ts": %d, "metrics": {"temp": "21.5"}}' % MS, "schema"),
        (b'{"ts": %d, "metrics": {}}' % MS, "schema"),
        (b'{"metrics": {"temp": 1}}', "schema"),
        (b'{"ts": "yesterday", "metrics": {"temp": 1}}', "bad_timestamp"),
        (b'{"ts": %d, "metrics": {"temp": 1}}' % (MS + 3_600_000), "future_timestamp"),
        (b'{"ts": %d, "metrics": {"temp": 1}}' % (MS - 90 * 86_400_000), "stale_timestamp"),
        (b'{"ts": %d, "seq": -1, "metrics": {"temp": 1}}' % MS, "schema"),
        (b"x" * 2000, "oversized"),
    ],
)
def test_bad_telemetry_is_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    result = _telemetry(payload)
    assert isinstance(result, Rejected)
    assert result.reason == reason
    assert result.kind is Kind.TELEMETRY
    assert result.detail


def test_unknown_topic_and_wrong_site() -> None:
    unknown = parse("estate/s1/sensor/t-1/bogus", b"{}", NOW, LIMITS)
    assert isinstance(unknown, Rejected)
    assert unknown.reason == "unknown_topic"
    other = parse("estate/elsewhere/sensor/t-1/telemetry", b"{}", NOW, LIMITS)
    assert isinstance(other, Rejected)
    assert other.reason == "wrong_site"


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("estate/s1/access/north/event", {"ts": MS, "person": "r-17", "direction": "out", "method": "face"}),
        ("estate/s1/unit/A-1201/door", {"ts": MS, "state": "open"}),
        ("estate/s1/unit/A-1201/motion", {"ts": MS, "sensor": "kitchen-pir"}),
        ("estate/s1/unit/A-1201/water", {"ts": MS, "litres": 1.5}),
    ],
)
def test_event_kinds_are_accepted(topic: str, body: dict[str, object]) -> None:
    result = parse(topic, json.dumps(body).encode(), NOW, LIMITS)
    assert isinstance(result, Accepted), result


def test_event_with_wrong_enum_is_rejected() -> None:
    body = {"ts": MS, "person": "r-17", "direction": "sideways", "method": "face"}
    result = parse("estate/s1/access/north/event", json.dumps(body).encode(), NOW, LIMITS)
    assert isinstance(result, Rejected)
    assert result.reason == "schema"
    assert "direction" in result.detail


def test_status_online_offline() -> None:
    ok = parse("estate/s1/device/t-1/status", b"offline", NOW, LIMITS)
    assert isinstance(ok, Accepted)
    assert ok.status == "offline"
    bad = parse("estate/s1/device/t-1/status", b"sleepy", NOW, LIMITS)
    assert isinstance(bad, Rejected)


def test_redelivery_has_the_same_dedup_key() -> None:
    body = {"ts": MS, "state": "open"}
    first = parse("estate/s1/unit/A-1/door", json.dumps(body).encode(), NOW, LIMITS)
    again = parse("estate/s1/unit/A-1/door", json.dumps(body).encode(), NOW + timedelta(seconds=5), LIMITS)
    assert isinstance(first, Accepted)
    assert isinstance(again, Accepted)
    assert first.dedup_key == again.dedup_key
