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
