"""Building blocks of ``estatewatch bench ingest``: payloads, publisher processes and the raw-receive baseline.

They run in their own processes (spawned, so no thread state is forked), which is what keeps the publisher
from being the bottleneck and keeps the baseline from sharing a GIL with anything else.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from estatewatch.config import MqttTarget
from ingest.mqtt import BoundedPublisher, connect, make_client, shared
from simulators.sensors import DeviceSim, DeviceSpec, SensorKind, unit_for

# Kinds whose messages carry exactly two metrics, so stored rows / 2 = stored messages, exactly.
BENCH_KINDS = (SensorKind.TEMPERATURE, SensorKind.WATER, SensorKind.CHARGER)
ROWS_PER_MESSAGE = 2
SPAWN = mp.get_context("spawn")


@dataclass(frozen=True)
class Workload:
    """``payloads[k]`` is message k; it comes from device ``k % devices`` with ``seq == k // devices``."""

    devices: int
    payloads: list[bytes]

    def topic(self, site: str, prefix: str, k: int) -> str:
        return f"estate/{site}/sensor/{prefix}{k % self.devices:05d}/telemetry"

    def device(self, prefix: str, k: int) -> str:
        return f"{prefix}{k % self.devices:05d}"


def make_workload(messages: int, devices: int, now: datetime, seed: int = 1) -> Workload:
    """Realistic payloads, one per second per device, ending a minute before ``now`` (inside the accepted window).

    Payloads hold no device id (the topic does), so one workload serves every phase under other topics.
    """
    per_device = -(-messages // devices)
    start = now - timedelta(seconds=per_device + 60)
    sims = [DeviceSim(DeviceSpec(f"d{i}", BENCH_KINDS[i % len(BENCH_KINDS)], unit_for(i), i % 2 == 1), "bench", seed)
            for i in range(devices)]
    payloads = [sims[k % devices].next(start + timedelta(seconds=k // devices)).payload for k in range(messages)]
    return Workload(devices, payloads)


def publish_slice(target: MqttTarget, items: list[tuple[str, bytes]], max_inflight: int,
                  results: Any) -> None:
    """Process body: publish ``items`` at QoS 1 with a bounded window, wait for every PUBACK, report the time."""
    publisher = BoundedPublisher(target, max_inflight=max_inflight).start()
    started = time.perf_counter()
    for topic, payload in items:
        publisher.publish(topic, payload)
    publisher.flush(300.0)
    results.put((len(items), started, time.perf_counter()))
    publisher.close()


def publish_all(target: MqttTarget, items: list[tuple[str, bytes]], processes: int, max_inflight: int) -> float:
    """Publish ``items`` from several processes at once; returns publish calls per second over the whole run."""
    results = SPAWN.Queue()
    slices = [items[i::processes] for i in range(processes)]
    workers = [SPAWN.Process(target=publish_slice, args=(target, part, max_inflight, results)) for part in slices]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(30)
    sent = sum(r[0] for r in reports)
    span = max(r[2] for r in reports) - min(r[1] for r in reports)
    if sent != len(items):
        raise RuntimeError(f"publishers sent {sent} of {len(items)} messages")
    return sent / span if span > 0 else 0.0


def raw_receive(target: MqttTarget, client_id: str, topic_filter: str, group: str, expect: int, ready: Any,
                results: Any, timeout_s: float) -> None:
    """Process body: the baseline. A paho client with an empty callback (auto-ack), nothing stored.

    It reports the arrival times of the first and the last of ``expect`` messages. With ``expect == 0`` it only
    creates its persistent session and subscription, then leaves, so messages can be queued for it.
    """
    client = make_client(target, client_id, persistent=True, manual_ack=False)
    done = threading.Event()
    subscribed = threading.Event()
    stamps: list[float] = []
    count = 0

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            c.subscribe(shared(group, topic_filter), qos=1)

    def on_subscribe(*_args: Any) -> None:
        subscribed.set()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:  # the empty callback, plus a counter to know when to stop
        nonlocal count
        count += 1
        if count == 1:
            stamps.append(time.perf_counter())
        if count >= expect:
            stamps.append(time.perf_counter())
            done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    connect(client, target, persistent=True)
    client.loop_start()
    subscribed.wait(30)
    ready.put(client_id)
    if expect > 0:
        done.wait(timeout_s)
    client.disconnect()
    client.loop_stop()
    results.put((count, stamps[0] if stamps else 0.0, stamps[-1] if stamps else 0.0))
