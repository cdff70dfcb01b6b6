"""PostgreSQL restarted under load: while it is away chat requests get 503 with the JSON error
body (never a 500 or a hung request), and once it is back the same process answers again
without being restarted. A throwaway server of its own (initdb + pg_ctl as the `postgres`
user, as scripts/with-test-services.sh does), so the shared test server is never restarted;
runs only where that one runs (CHATBOT_TEST_POSTGRES_URL)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from chatbot.settings import Settings
from chatbot.storage.db import Database
from chatbot.storage.migrate import upgrade

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture
def own_postgres():
    if not os.environ.get("CHATBOT_TEST_POSTGRES_URL"):
        pytest.skip("PostgreSQL is not running: run the tests through `make test`")
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN}")
    work = Path(tempfile.mkdtemp(prefix="chatbot-pg-restart-"))  # pytest's tmp is closed to `postgres`
    os.chmod(work, 0o755)
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(work / "db"), "-U", "postgres", "-A", "trust",
                                "--no-sync", "-E", "UTF8"), check=True, capture_output=True)
    options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"

    def ctl(*args: str) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(work / "db"), "-l", str(work / "server.log"),
                                    "-w", "-t", "30", *args), check=True, capture_output=True)

    ctl("-o", options, "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", lambda: ctl("-m", "fast", "stop"), \
            lambda: ctl("-o", options, "start")
    finally:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(work / "db"), "-m", "immediate", "-w", "stop"),
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def test_postgres_away_is_503_json_and_back_is_200_without_a_restart(own_postgres, model_dir, clock, intent_model,
                                                                     knowledge_desk):
    from api.app import create_app
    from chatbot.service import build_services
    from tests.conftest import web_client_class

    url, stop, start = own_postgres
    database = Database(url)
    upgrade(database)
    database.dispose()
    settings = Settings(env="sandbox", database_url=url, model_dir=model_dir, notify_interval_seconds=0,
                        news_push_interval_seconds=0)
    services = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    seen: Counter = Counter()
    bodies: list[dict] = []
    running = threading.Event()
    running.set()
    try:
        with web_client_class()(create_app(services=services), raise_server_exceptions=False) as client:
            def talk(n: int) -> None:
                turn = 0
                while running.is_set():
                    turn += 1
                    response = client.post("/v1/chat", json={"user_id": f"pg-{n}-{turn}", "text": "你好"})
                    seen[response.status_code] += 1
                    if response.status_code != 200:
                        bodies.append(response.json())

            assert client.post("/v1/chat", json={"user_id": "pg-first", "text": "你好"}).status_code == 200
            threads = [threading.Thread(target=talk, args=(n,), daemon=True) for n in range(3)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            stop()  # PostgreSQL goes away under load
            time.sleep(2.0)
            away = client.post("/v1/chat", json={"user_id": "pg-away", "text": "你好"})
            start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # back by itself: no restart of the app
                if client.post("/v1/chat", json={"user_id": f"pg-back-{time.monotonic()}", "text": "你好"}).status_code == 200:
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"no 200 within 30 s of PostgreSQL's return: {seen}")
            time.sleep(0.5)
            running.clear()
            for t in threads:
                t.join(timeout=30)
    finally:
        services.close()
    assert away.status_code == 503 and away.json()["error"]["code"]
    assert set(seen) <= {200, 503}, seen  # never a 500
    assert seen[503] >= 1 and seen[200] >= 2
    assert all(set(body) == {"error"} and {"code", "message"} <= set(body["error"]) for body in bodies)
