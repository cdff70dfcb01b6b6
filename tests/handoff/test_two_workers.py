"""Two server processes on one PostgreSQL and one Redis, like two workers behind a balancer:
a handoff created through one appears within a second in a console connected to the other,
and the agent's reply written through that one reaches the customer's stream on the first.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.servers import wait_healthy

ROOT = Path(__file__).resolve().parents[2]


def _start(port: int, env: dict, log: Path) -> subprocess.Popen:
    """`uvicorn --factory api.app:create_app`, what `chatbot serve` runs in each worker."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "1"]
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def two_servers(postgres_url, redis_url, model_dir, tmp_path, free_port, faq_index_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(CHATBOT_ENV="sandbox", CHATBOT_DATABASE_URL=postgres_url, CHATBOT_REDIS_URL=redis_url,
               CHATBOT_MODEL_DIR=str(model_dir), CHATBOT_LOG_LEVEL="WARNING",
               CHATBOT_FAQ_INDEX_DIR=str(faq_index_dir))
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server-{i}.log" for i in range(2)]
    processes = [_start(port, env, log) for port, log in zip(ports, logs)]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process, log in zip(bases, processes, logs):
            wait_healthy(base, process, log)
        yield bases
    finally:
        for process in processes:  # only the processes this fixture started
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_handoff_on_one_worker_reaches_a_console_on_the_other(two_servers, event_reader, bearer, web_user):
    a, b = two_servers
    agent = bearer(b, "agent1")
    customer = web_user(a, "two-workers")
    console = event_reader(f"{b}/v1/agent/events", agent)
    assert console.hello["transport"] == "redis"
    page = event_reader(f"{a}/v1/chat/events", customer)

    started = time.monotonic()
    session_id = httpx.post(f"{a}/v1/chat", json={"user_id": "two-workers", "text": "转人工"},
                            headers=customer).json()["session_id"]
    queued = console.next("mode", timeout=1.0, session_id=session_id)
    assert queued["mode"] == "queued" and time.monotonic() - started < 1.0
    assert httpx.get(f"{b}/v1/agent/queue", headers=agent).json()["queue"][0]["session_id"] == session_id

    assert httpx.post(f"{b}/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    httpx.post(f"{b}/v1/agent/sessions/{session_id}/messages", headers=agent, json={"text": "您好，我是小王"})
    assert page.next("message", timeout=1.0, sender="agent")["text"] == "您好，我是小王"
    httpx.post(f"{a}/v1/chat", json={"user_id": "two-workers", "text": "我的转账失败了"}, headers=customer)
    assert console.next("message", timeout=1.0, sender="user")["text"] == "我的转账失败了"
