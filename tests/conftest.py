"""Shared fixtures: clean environment, real databases (SQLite and PostgreSQL), services.

Databases are migrated (and optionally seeded) once per test session into a template; each
test gets its own copy (a file copy for SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL).
PostgreSQL and Redis come from `scripts/with-test-services.sh` (what `make test` runs);
without it the tests that need them skip and say so.
"""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from chatbot.clock import BANK_TZ, FixedClock
from chatbot.settings import DATA_DIR, Settings
from chatbot.storage.db import Database
from chatbot.storage.migrate import upgrade
from chatbot.storage.seed import seed_demo_bank

FIXED_NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """No CHATBOT_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CHATBOT_") and not name.startswith("CHATBOT_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


# --- SQLite -----------------------------------------------------------------------------

def _sqlite_template(tmp_path_factory, seeded: bool) -> Path:
    path = tmp_path_factory.mktemp("templates") / f"{'seeded' if seeded else 'empty'}.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    if seeded:
        seed_demo_bank(database, DATA_DIR, FIXED_NOW)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory) -> dict[bool, Path]:
    return {seeded: _sqlite_template(tmp_path_factory, seeded) for seeded in (False, True)}


def _sqlite_copy(templates, tmp_path, seeded: bool) -> str:
    target = tmp_path / f"test-{next(_counter)}.db"
    shutil.copyfile(templates[seeded], target)
    return f"sqlite:///{target}"


# --- PostgreSQL ---------------------------------------------------------------------------

def postgres_admin_url() -> str | None:
    return os.environ.get("CHATBOT_TEST_POSTGRES_URL")


def _pg_execute(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _pg_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_templates() -> dict[bool, str]:
    admin = postgres_admin_url()
    if not admin:
        pytest.skip("PostgreSQL is not running: run the tests through `make test` "
                    "(scripts/with-test-services.sh starts a throwaway server)")
    names = {}
    for seeded in (False, True):
        name = f"tpl_{'seeded' if seeded else 'empty'}_{os.getpid()}"
        _pg_execute(admin, f"DROP DATABASE IF EXISTS {name}")
        _pg_execute(admin, f"CREATE DATABASE {name}")
        database = Database(_pg_url(admin, name))
        upgrade(database)
        if seeded:
            seed_demo_bank(database, DATA_DIR, FIXED_NOW)
        database.dispose()
        names[seeded] = name
    return names


def _pg_copy(templates, seeded: bool) -> str:
    admin = postgres_admin_url()
    name = f"t_{os.getpid()}_{next(_counter)}"
    _pg_execute(admin, f"CREATE DATABASE {name} TEMPLATE {templates[seeded]}")
    return _pg_url(admin, name)


# --- Fixtures tests use ---------------------------------------------------------------------

def _database_url(request, backend: str, seeded: bool, tmp_path) -> str:
    if backend == "postgresql":
        return _pg_copy(request.getfixturevalue("postgres_templates"), seeded)
    return _sqlite_copy(request.getfixturevalue("sqlite_templates"), tmp_path, seeded)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """Parametrize a test over both supported databases."""
    return request.param


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """A fresh, migrated, seeded database; SQLite unless the test uses `backend`."""
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    return _database_url(request, backend, True, tmp_path)


@pytest.fixture
def empty_database_url(request, tmp_path) -> str:
    """A fresh, migrated database without the demo bank."""
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    return _database_url(request, backend, False, tmp_path)


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A model directory with one trained, promoted intent model (trained once per run)."""
    from training.train import train

    directory = tmp_path_factory.mktemp("models")
    train(DATA_DIR / "intents.yaml", directory)
    return directory


@pytest.fixture(scope="session")
def intent_model(model_dir):
    from chatbot.nlu.model_store import PromotedModel

    return PromotedModel(model_dir)


@pytest.fixture(scope="session")
def faq_index_dir(knowledge_desk, tmp_path_factory):
    """The repository FAQ's index saved once (from the shared desk, between tests, so never an
    edited one) for the processes tests start with CHATBOT_FAQ_INDEX_DIR: `chatbot chat`,
    `chatbot serve`, uvicorn workers load it in a fraction of a second instead of building it."""
    from knowledge.faq.index_store import IndexStore, keep

    directory = tmp_path_factory.mktemp("faq-index")
    keep(knowledge_desk.retriever, (DATA_DIR / "faq.yaml").read_bytes(), IndexStore(directory))
    return directory


@pytest.fixture(scope="session")
def model_without_call_backs(tmp_path_factory):
    """A model that never saw a call-back request (tests/unknown_phrasings.py), trained once
    for the modules that override `intent_model` with it."""
    from tests.unknown_phrasings import model_without

    return model_without(tmp_path_factory.mktemp("no-call-backs"))


@pytest.fixture(scope="session")
def parser(intent_model):
    from chatbot.nlu.parser import Parser

    return Parser(intent_model)


@pytest.fixture(scope="session")
def knowledge_desk():
    """The FAQ index and knowledge graph, built once per run (indexing takes seconds)."""
    from knowledge.desk import KnowledgeDesk

    return KnowledgeDesk.load(DATA_DIR / "faq.yaml", DATA_DIR / "kg.yaml")


@pytest.fixture
def settings(database_url, model_dir) -> Settings:
    return Settings(env="sandbox", database_url=database_url, model_dir=model_dir)


@pytest.fixture
def services(settings, clock, intent_model, knowledge_desk):
    from chatbot.service import build_services

    built = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    yield built
    built.close()


def web_client_class():
    """A TestClient that behaves like the chat page: it keeps each web user's `user_token`
    from the first answer and sends it (Bearer) on that user's later chat calls, unless
    the test sets an Authorization header itself."""
    from fastapi.testclient import TestClient

    class WebClient(TestClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.user_tokens: dict[str, str] = {}

        def request(self, method, url, **kwargs):
            path = str(url)
            user = _chat_user(path, kwargs)
            headers = dict(kwargs.pop("headers", None) or {})
            if user in self.user_tokens and not any(k.lower() == "authorization" for k in headers):
                headers["Authorization"] = f"Bearer {self.user_tokens[user]}"
            response = super().request(method, url, headers=headers, **kwargs)
            if path.startswith("/v1/chat") and response.headers.get("content-type", "").startswith("application/json"):
                token = response.json().get("user_token") if isinstance(response.json(), dict) else None
                if token and user:
                    self.user_tokens[user] = token
            return response

    return WebClient


def _chat_user(path: str, kwargs: dict) -> str | None:
    if not path.startswith("/v1/chat"):
        return None
    body, params = kwargs.get("json"), kwargs.get("params") or {}
    if isinstance(body, dict) and isinstance(body.get("user_id"), str):
        return body["user_id"]
    return params.get("user_id") if isinstance(params, dict) else None


@pytest.fixture
def client(services):
    from api.app import create_app

    with web_client_class()(create_app(services=services)) as test_client:
        yield test_client


@pytest.fixture
def postgres_url(postgres_templates) -> str:
    """A fresh seeded PostgreSQL database (skips without a server)."""
    return _pg_copy(postgres_templates, True)


# --- live servers, browsers, Redis -----------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture():
    """A callable giving a free loopback port."""
    return free_port


@pytest.fixture
def live_server(services):
    """The real app served by uvicorn on a loopback port, in a thread (like `chatbot serve`)."""
    import uvicorn

    from api.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        # Playwright's string predicates (wait_for_function) are eval'd in the page, which our
        # Content-Security-Policy forbids; pages open with the policy bypassed unless a test
        # asks for it (`new_page(bypass_csp=False)`, as the CSP test does).
        plain_new_page = launched.new_page
        launched.new_page = lambda **options: plain_new_page(**{"bypass_csp": True, **options})
        yield launched
        launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where tests leave screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("CHATBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis is not running: run the tests through `make test` "
                    "(scripts/with-test-services.sh starts a throwaway server)")
    # Each pytest-xdist worker (gw0, gw1, ...) gets a Redis database of its own; the events
    # channel is named after the database (chatbot/handoff/redis_bus.py), so they stay apart.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        url = make_url_database(url, 1 + int(worker[2:]))
    return url


def make_url_database(url: str, database: int) -> str:
    """`url` with its Redis database number replaced."""
    head, _, _ = url.rstrip("/").rpartition("/")
    return f"{head}/{database}" if head.count("/") >= 2 else f"{url.rstrip('/')}/{database}"
