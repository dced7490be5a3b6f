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
from multiprocessing.queues import Queue

import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common import topics
from common.mqtt import BoundedPublisher, connect, make_client, shared
from common.settings import MqttTarget
from simulators.sensors import DeviceSim, DeviceSpec, SensorKind, unit_for

# Kinds whose messages carry exactly two metrics, so stored rows / 2 = stored messages, exactly.
BENCH_KINDS = (SensorKind.TEMPERATURE, SensorKind.WATER, SensorKind.CHARGER)
ROWS_PER_MESSAGE = 2
SPAWN = mp.get_context("spawn")

Report = tuple[int, float, float]
"""What a publisher or receiver process reports: (messages, first time, last time) on ``time.perf_counter``."""
Credentials = dict[str, str]
"""Device id -> broker password: with these, each device publishes over a connection of its own account."""
MIN_DEVICE_WINDOW = 20


@dataclass(frozen=True)
class Workload:
    """``payloads[k]`` is message k; it comes from device ``k % devices`` with ``seq == k // devices``."""

    devices: int
    payloads: list[bytes]

    def topic(self, site: str, prefix: str, k: int) -> str:
        """The topic message k is published on: each phase uses its own site and device prefix."""
        return topics.telemetry(site, self.device(prefix, k))

    def device(self, prefix: str, k: int) -> str:
        """The device id message k comes from, as stored in the telemetry table."""
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


def device_of(topic: str) -> str:
    """The device id of a telemetry topic ``estate/{site}/sensor/{device}/telemetry``."""
    return topic.split("/")[3]


def publish_slice(target: MqttTarget, items: list[tuple[str, bytes]], max_inflight: int,
                  results: Queue[Report], credentials: Credentials | None = None) -> None:
    """Process body: publish ``items`` at QoS 1 with a bounded window, wait for every PUBACK, report the time.

    With ``credentials`` every device of the slice logs in as itself (as on a broker with per-device ACLs) and the
    window is shared out over the devices' connections.
    """
    if credentials is None:
        publishers = {"": BoundedPublisher(target, max_inflight=max_inflight).start()}
    else:
        devices = sorted({device_of(topic) for topic, _ in items})
        window = max(MIN_DEVICE_WINDOW, max_inflight // max(1, len(devices)))
        publishers = {d: BoundedPublisher(target.model_copy(update={"username": d, "password": credentials[d]}),
                                          max_inflight=window).start(wait=30.0) for d in devices}
    started = time.perf_counter()
    for topic, payload in items:
        publishers[device_of(topic) if credentials is not None else ""].publish(topic, payload)
    for publisher in publishers.values():
        publisher.flush(300.0)
    results.put((len(items), started, time.perf_counter()))
    for publisher in publishers.values():
        publisher.close()


def _slices(items: list[tuple[str, bytes]], processes: int, by_device: bool) -> list[list[tuple[str, bytes]]]:
    if not by_device:
        return [items[i::processes] for i in range(processes)]
    index = {d: i for i, d in enumerate(sorted({device_of(topic) for topic, _ in items}))}
    slices: list[list[tuple[str, bytes]]] = [[] for _ in range(processes)]
    for item in items:  # a device's messages stay in one process, in order
        slices[index[device_of(item[0])] % processes].append(item)
    return slices


def publish_all(target: MqttTarget, items: list[tuple[str, bytes]], processes: int, max_inflight: int,
                credentials: Credentials | None = None) -> float:
    """Publish ``items`` from several processes at once; returns publish calls per second over the whole run."""
    results: Queue[Report] = SPAWN.Queue()
    slices = _slices(items, processes, credentials is not None)
    workers = [SPAWN.Process(target=publish_slice, args=(target, part, max_inflight, results, credentials))
               for part in slices]
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


def raw_receive(target: MqttTarget, client_id: str, topic_filter: str, group: str, expect: int, ready: Queue[str],
                results: Queue[Report], timeout_s: float) -> None:
    """Process body: the baseline. A paho client with an empty callback (auto-ack), nothing stored.

    It reports the arrival times of the first and the last of ``expect`` messages. With ``expect == 0`` it only
    creates its persistent session and subscription, then leaves, so messages can be queued for it.
    """
    client = make_client(target, client_id, persistent=True, manual_ack=False)
    done = threading.Event()
    subscribed = threading.Event()
    stamps: list[float] = []
    count = 0

    def on_connect(c: paho.Client, _u: object, _f: paho.ConnectFlags, reason: ReasonCode,
                   _p: Properties | None) -> None:
        if not reason.is_failure:
            c.subscribe(shared(group, topic_filter), qos=1)

    def on_subscribe(*_args: object) -> None:
        subscribed.set()

    # the empty callback, plus a counter to know when to stop
    def on_message(_c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
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
