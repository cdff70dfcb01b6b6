"""Event buses: audience routing in one process; Redis pub/sub across processes."""
import queue
import uuid

import pytest

from chatbot.handoff.events import AGENTS, Event, LocalBus, agent_key, customer_key


def test_local_bus_routes_by_audience():
    bus = LocalBus()
    console, other_console, page = [], [], []
    bus.subscribe({AGENTS, agent_key(1)}, console.append)
    bus.subscribe({AGENTS, agent_key(2)}, other_console.append)
    bus.subscribe({customer_key("web", "u1")}, page.append)
    bus.publish(Event("queue", (AGENTS,), None, {}))
    bus.publish(Event("message", (agent_key(1), customer_key("web", "u1")), 7, {"text": "您好"}))
    assert [e.type for e in console] == ["queue", "message"]
    assert [e.type for e in other_console] == ["queue"]
    assert [e.public() for e in page] == [{"type": "message", "session_id": 7, "text": "您好"}]


def test_a_failing_subscriber_is_dropped_and_the_others_still_hear():
    bus = LocalBus()
    heard = []

    def broken(_event):
        raise RuntimeError("closed loop")

    bus.subscribe({AGENTS}, broken)
    bus.subscribe({AGENTS}, heard.append)
    bus.publish(Event("queue", (AGENTS,)))
    bus.publish(Event("queue", (AGENTS,)))
    assert len(heard) == 2 and bus.subscriber_count() == 1


def test_events_survive_json():
    event = Event("mode", (AGENTS, customer_key("wechat", "o-1")), 3, {"mode": "agent", "agent": "小王"})
    assert Event.from_json(event.to_json()) == event


def test_redis_bus_carries_events_between_processes(redis_url):
    from chatbot.handoff.redis_bus import RedisBus

    channel = f"test:{uuid.uuid4().hex}"  # not the service's channel: tests may share the server
    sender, receiver = RedisBus(redis_url, channel), RedisBus(redis_url, channel)
    try:
        assert sender.wait_subscribed() and receiver.wait_subscribed()
        inbox = queue.Queue()
        receiver.subscribe({AGENTS}, inbox.put)
        sender.publish(Event("queue", (AGENTS,), 5, {"queue_length": 1}))
        assert inbox.get(timeout=2) == Event("queue", (AGENTS,), 5, {"queue_length": 1})
    finally:
        sender.close()
        receiver.close()


def test_without_redis_a_publish_still_reaches_this_worker(caplog):
    from chatbot.handoff.redis_bus import RedisBus

    bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        heard = []
        bus.subscribe({AGENTS}, heard.append)
        bus.publish(Event("queue", (AGENTS,)))
        assert len(heard) == 1 and "delivering to this worker only" in caplog.text
    finally:
        bus.close()
