"""`chatbot serve --workers 2` on Linux (chatbot/spread_workers.py): each worker accepts on
its own SO_REUSEPORT socket, so keep-alive connections opened at once are spread over both
workers (with one shared socket one worker took most of them); a worker killed outright is
replaced on the same socket and its connections are answered again; SIGTERM stops all."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chatbot import spread_workers
from tests.servers import stop_process, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 32

pytestmark = pytest.mark.skipif(not spread_workers.available(), reason="SO_REUSEPORT balancing is Linux only")


@pytest.fixture
def two_workers(database_url, model_dir, faq_index_dir, tmp_path, free_port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env |= {"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": database_url, "CHATBOT_MODEL_DIR": str(model_dir),
            "CHATBOT_FAQ_INDEX_DIR": str(faq_index_dir), "CHATBOT_LOG_LEVEL": "WARNING",
            "CHATBOT_NOTIFY_INTERVAL_SECONDS": "0", "CHATBOT_NEWS_PUSH_INTERVAL_SECONDS": "0"}
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port), "--workers", "2"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log)
        yield process, base, port
    finally:
        stop_process(process)


def _workers_of(parent: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                children.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return {pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}


def _connections_by_pid(port: int) -> dict[int, int]:
    listed = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
                            capture_output=True, text=True).stdout
    owners: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", listed):
        owners[int(pid)] = owners.get(int(pid), 0) + 1
    return owners


def _wait_for(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_connections_spread_a_killed_worker_is_replaced_and_sigterm_stops_all(two_workers):
    process, base, port = two_workers
    workers = _wait_for(lambda: len(_workers_of(process.pid)) == 2 and _workers_of(process.pid))
    assert len(workers) == 2
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(CONNECTIONS)]
    try:
        for client in clients:  # each client keeps its one connection open
            assert client.get("/healthz").status_code == 200
        owners = _connections_by_pid(port)
        # Hashing 32 connections over 2 sockets: fewer than 6 on one happens ~1 in 10^5 runs.
        assert set(owners) <= workers and all(owners.get(pid, 0) >= 6 for pid in workers), owners

        victim = next(iter(workers))
        os.kill(victim, signal.SIGKILL)
        replaced = _wait_for(lambda: (now := _workers_of(process.pid)) and victim not in now and len(now) == 2 and now)
        assert replaced and victim not in replaced
        # New connections land on either socket, the killed worker's included: all answered.
        for _ in range(12):
            with httpx.Client(base_url=base, timeout=30) as fresh:
                assert fresh.get("/healthz").status_code == 200
    finally:
        for client in clients:
            client.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert not [pid for pid in replaced if Path(f"/proc/{pid}").exists()]


class _Cycle:
    def __init__(self, started=False, complete=False):
        self.keep_alive, self.response_started, self.response_complete = True, started, complete


class _Connection:
    def __init__(self, cycle):
        self.cycle = cycle


def _balanced_server(connections, counts, slot=0):
    from uvicorn.config import Config

    server = spread_workers.BalancedServer(Config("api.worker:create_app"), counts, slot)
    server.server_state.connections = set(connections)
    return server


def test_a_worker_over_its_share_closes_only_requests_whose_answer_has_not_begun():
    waiting = [_Connection(_Cycle()) for _ in range(5)]
    streaming = [_Connection(_Cycle(started=True)) for _ in range(3)]  # an event stream: never cut
    idle = [_Connection(None) for _ in range(4)]  # between requests: a close could lose the next one
    counts = [0, 3]  # this worker holds 9 that can move (and 3 streams), the other 3: share 6
    server = _balanced_server(waiting + streaming + idle, counts)
    server.even_out()
    assert counts[0] == 9  # streams are not counted: they can never be handed back
    closing = [c for c in waiting if not c.cycle.keep_alive]
    assert len(closing) == 3  # 9 - 6, all among the requests still being answered
    assert all(c.cycle.keep_alive for c in streaming)


def test_streams_alone_do_not_make_a_worker_hand_back_its_other_connections():
    """Found in review: a worker holding more event streams stayed over its share for good."""
    streams = [_Connection(_Cycle(started=True)) for _ in range(10)]
    waiting = [_Connection(_Cycle()) for _ in range(4)]
    counts = [0, 4]
    _balanced_server(streams + waiting, counts).even_out()
    assert counts[0] == 4 and all(c.cycle.keep_alive for c in waiting)


def test_a_worker_at_or_under_its_share_keeps_every_connection():
    connections = [_Connection(_Cycle()) for _ in range(8)]
    counts = [0, 9]  # 8 and 9: 17 over two, a share of 9
    _balanced_server(connections, counts).even_out()
    assert all(c.cycle.keep_alive for c in connections)
    assert spread_workers.surplus_of([12, 4], 0) == 4 and spread_workers.surplus_of([12, 4], 1) == -4


def test_under_load_the_workers_even_out_their_connections(two_workers):
    """32 keep-alive clients sending without pause: whatever the hash's first split, the busier
    worker hands connections back until the two hold as many (within one)."""
    import threading

    process, base, port = two_workers
    workers = _wait_for(lambda: len(_workers_of(process.pid)) == 2 and _workers_of(process.pid))
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(CONNECTIONS)]
    stop, closes, errors = threading.Event(), [0], []

    def send(client):
        while not stop.is_set():
            try:
                answer = client.get("/healthz")
                if answer.headers.get("connection") == "close":
                    closes[0] += 1
            except httpx.HTTPError as exc:  # a close announced in the headers loses nothing
                errors.append(exc)

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    try:
        time.sleep(4)
        splits = []
        for _ in range(10):
            owners = _connections_by_pid(port)
            splits.append(sorted(owners.get(pid, 0) for pid in workers))
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
    assert not errors, errors[:3]
    even = [split for split in splits if split[1] - split[0] <= 1]
    assert len(even) >= 6, (splits, closes[0])


def test_a_pinned_worker_runs_its_loop_and_later_threads_on_one_cpu():
    """CHATBOT_WORKER_CPU_AFFINITY: the worker's server is built on the thread that runs its
    loop; that thread and every thread it starts afterwards keep to one CPU."""
    import threading

    allowed = sorted(os.sched_getaffinity(0))
    seen = {}

    def worker_main():
        _balanced_server([], [0, 0], slot=1)  # built without pin: nothing changes
        seen["before"] = os.sched_getaffinity(0)
        from uvicorn.config import Config

        spread_workers.BalancedServer(Config("api.worker:create_app"), [0, 0], 1, pin=True)
        seen["loop"] = os.sched_getaffinity(0)
        started = threading.Thread(target=lambda: seen.__setitem__("turn", os.sched_getaffinity(0)))
        started.start()
        started.join()

    thread = threading.Thread(target=worker_main)
    thread.start()
    thread.join()
    assert seen["before"] == set(allowed)
    assert seen["loop"] == seen["turn"] == {allowed[1 % len(allowed)]}
    assert os.sched_getaffinity(0) == set(allowed)  # the rest of the process is not pinned
