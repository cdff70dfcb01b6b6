"""A real `chatbot serve --workers 2`: while clients talk to it without pause, another model
version is promoted; no request fails, and within seconds both workers report the new
version in `GET /v1/admin/models`.

Without Redis the promotion goes through the admin API (the worker that serves it swaps at
once, the other notices `promoted.json` when it polls); with Redis through `chatbot models
promote` (announced on Redis: every worker swaps at once). Both on SQLite, to stay within a
minute (the serving-worker rows on PostgreSQL: tests/nlu/test_model_watch.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from chatbot.settings import DATA_DIR
from tests.training.model_pairs import train_pair
from training import registry
from tests.servers import stop_process, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["我的余额是多少", "你好", "信用卡账单", "谢谢", "怎么挂失银行卡"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture(scope="module")
def small_faq(tmp_path_factory):
    """A few FAQ entries (the bank's whole FAQ index takes `chatbot serve` tens of seconds to
    build, and the swap does not depend on it); shared by both runs."""
    directory = tmp_path_factory.mktemp("faq")
    entries = yaml.safe_load((DATA_DIR / "faq.yaml").read_text(encoding="utf-8"))[:5]
    (directory / "faq.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return directory


@pytest.fixture
def versions(trained, tmp_path):
    """Two versions trained on different data; the one without `thanks` promoted first."""
    pair = trained.copy(tmp_path / "models")
    registry.promote(pair.model_dir, pair.bad)
    return pair.model_dir, pair.bad, pair.good


@pytest.fixture(params=["sqlite", "sqlite+redis"])
def server(request, versions, small_faq, tmp_path, free_port):
    model_dir, old, new = versions
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    if request.param == "sqlite+redis":
        env["CHATBOT_REDIS_URL"] = request.getfixturevalue("redis_url")
    env["CHATBOT_DATABASE_URL"] = request.getfixturevalue("database_url")
    env |= {"CHATBOT_ENV": "sandbox", "CHATBOT_MODEL_DIR": str(model_dir), "CHATBOT_LOG_LEVEL": "WARNING",
            "CHATBOT_FAQ_PATH": str(small_faq / "faq.yaml"), "CHATBOT_FAQ_INDEX_DIR": str(small_faq / "index"),
            "CHATBOT_NOTIFY_INTERVAL_SECONDS": "0",
            "CHATBOT_NEWS_PUSH_INTERVAL_SECONDS": "0"}
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port), "--workers", "2"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log)
        yield request.param, base, env, old, new
    finally:
        stop_process(process)  # only the process this fixture started (uvicorn stops its workers)


class Talkers:
    """Clients asking without pause (chat turns and NLU parses, each on its own connections)."""

    def __init__(self, base: str, count: int = 3) -> None:
        self.base, self.stop, self.lock = base, threading.Event(), threading.Lock()
        self.done, self.failures = 0, []
        self.threads = [threading.Thread(target=self._talk, args=(n,), daemon=True) for n in range(count)]

    def __enter__(self) -> "Talkers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _talk(self, number: int) -> None:
        user, headers, turn = f"swap-{number}", {}, 0
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                text = QUESTIONS[turn % len(QUESTIONS)]
                turn += 1
                try:
                    chat = client.post("/v1/chat", json={"user_id": user, "text": text}, headers=headers)
                    parse = client.post("/v1/nlu/parse", json={"text": text})
                except httpx.HTTPError as exc:
                    self._fail(f"{type(exc).__name__}: {exc}")
                    continue
                for response in (chat, parse):
                    if response.status_code != 200:
                        self._fail(f"{response.request.url.path} {response.status_code} {response.text[:200]}")
                headers = headers or {"Authorization": f"Bearer {chat.json().get('user_token')}"}
                with self.lock:
                    self.done += 2

    def _fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def _workers(base: str, admin: dict) -> list[dict]:
    response = httpx.get(f"{base}/v1/admin/models", headers=admin, timeout=10)
    assert response.status_code == 200, response.text
    return [w for w in response.json()["workers"] if not w["stale"]]


def _wait_for_version(base: str, admin: dict, version: str, timeout: float) -> float:
    started = time.monotonic()
    while True:
        workers = _workers(base, admin)
        if len(workers) == 2 and all(w["model_version"] == version for w in workers):
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, workers
        time.sleep(0.05)


def test_a_promotion_reaches_both_workers_while_clients_keep_talking(server):
    kind, base, env, old, new = server
    login = httpx.post(f"{base}/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"})
    admin = {"Authorization": f"Bearer {login.json()['token']}"}
    _wait_for_version(base, admin, old, timeout=15)
    pids = {w["pid"] for w in _workers(base, admin)}
    with Talkers(base) as talkers:
        time.sleep(1.0)  # talking before the promotion
        if kind == "sqlite":
            response = httpx.post(f"{base}/v1/admin/models/{new}/promote", json={"force": True},
                                  headers=admin, timeout=120)
            assert response.status_code == 200, response.text
            assert response.json()["gate"]["held_out"]["examples"] > 0  # the gate did score both
        else:
            done = subprocess.run([sys.executable, "-m", "chatbot.cli", "models", "promote", new, "--force"],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        took = _wait_for_version(base, admin, new, timeout=5)
        time.sleep(1.0)  # and after it
    print(f"\n{kind}: both workers answered with {new} {took:.2f}s after the promotion returned; "
          f"{talkers.done} requests, {len(talkers.failures)} failed")
    assert talkers.failures == []
    assert talkers.done > 20
    assert {w["pid"] for w in _workers(base, admin)} == pids  # the same two workers: swapped, not restarted
    if kind == "sqlite+redis":
        assert took < 1.5  # announced through Redis: no worker waits for its poll
