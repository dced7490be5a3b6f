"""A broker or database restart in the middle of a run loses and duplicates nothing that was accepted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from ingest.service import IngestService
from tests.helpers import number, scalar, wait_until

N_DEVICES = 5
PER_DEVICE = 300


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(tmp_path / "broker").start()
    yield broker
    broker.stop()


def _publish_all(pub: BoundedPublisher, site: str, pause_every: int, pause_s: float) -> None:
    base = int(time.time() * 1000) - 60_000
    n = 0
    for seq in range(PER_DEVICE):
        for d in range(N_DEVICES):
            body = {"ts": base + seq * 10, "seq": seq, "metrics": {"temp": 20.0 + d}}
            pub.publish(topics.telemetry(site, f"dev-{d}"), json.dumps(body), timeout=60)
            n += 1
            if n % pause_every == 0:
                time.sleep(pause_s)


def _assert_exactly_once(db_url: str) -> None:
    expected = N_DEVICES * PER_DEVICE
    wait_until(lambda: number(db_url, "SELECT count(*) FROM telemetry") >= expected, timeout=60,
               what=f"{expected} rows")
    assert scalar(db_url, "SELECT count(*) FROM telemetry") == expected
    assert scalar(db_url, "SELECT count(DISTINCT (device_id, seq)) FROM telemetry") == expected


def _run_through(cfg: Settings, db_url: str, disruption: Callable[[], None]) -> None:
    """Publish every reading while ``disruption`` happens mid-run; every reading must be stored exactly once."""
    service = IngestService(cfg)
    service.start()
    pub = BoundedPublisher(cfg.mqtt, client_id=f"pub-{cfg.site}", max_inflight=100).start()
    try:
        assert service.subscriber.wait_connected(10)
        sender = threading.Thread(target=_publish_all, args=(pub, cfg.site, 100, 0.02))
        sender.start()
        wait_until(lambda: service.committed_messages > 200, what="some messages committed")
        disruption()
        sender.join(120)
        assert not sender.is_alive()
        assert pub.flush(60)
        _assert_exactly_once(db_url)
    finally:
        pub.close(5)
        service.stop()


def test_broker_restart_loses_and_duplicates_nothing(settings: Settings, own_broker: EmbeddedBroker,
                                                     db_url: str) -> None:
    # SIGTERM: Mosquitto saves sessions and queued messages, then starts again on the same port
    _run_through(settings.model_copy(update={"mqtt_url": own_broker.url}), db_url, own_broker.restart)


def test_database_restart_loses_and_duplicates_nothing(settings: Settings, pg_server: EmbeddedPostgres,
                                                       db_url: str) -> None:
    def outage() -> None:
        pg_server.stop("fast")
        time.sleep(1.0)  # messages keep arriving while the database is down
        pg_server.start()

    _run_through(settings, db_url, outage)
