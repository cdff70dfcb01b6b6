"""Schemathesis over the whole OpenAPI: no operation answers any generated request with a 5xx.

The app runs in-process (ASGI) on a seeded sandbox database and its own copy of the FAQ file
(the admin FAQ routes write to it). Staff routes are called as the sandbox admin (who may also
work the agent queue), so generated bodies reach the handlers, not only the login check; the
event streams are called without a token (a signed-in stream never ends). 4xx of any kind is
fine: 401, 403, 404, 409, 413, 422, 429. Bounded: a few dozen derandomized examples per
operation, no deadline.
"""
from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from chatbot.clock import FixedClock
from chatbot.settings import DATA_DIR, Settings

MAX_EXAMPLES = 25
STREAMS = ("/v1/agent/events", "/v1/chat/events")


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, sqlite_templates, model_dir, intent_model):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from chatbot.service import build_services
    from knowledge.desk import KnowledgeDesk

    work = tmp_path_factory.mktemp("schemathesis")
    database = work / "bank.db"
    shutil.copyfile(sqlite_templates[True], database)
    for name in ("faq.yaml", "faq.training.yaml"):
        if (DATA_DIR / name).exists():
            shutil.copyfile(DATA_DIR / name, work / name)
    config = Settings(env="sandbox", database_url=f"sqlite:///{database}", model_dir=model_dir,
                      faq_path=work / "faq.yaml", wechat_token="schemathesis-wechat-token")
    clock = FixedClock(_fixed_now())
    knowledge = KnowledgeDesk.load(config.faq_path, DATA_DIR / "kg.yaml")  # the admin routes edit it
    services = build_services(config, clock=clock, classifier=intent_model, knowledge=knowledge)
    app = create_app(services=services)
    with TestClient(app) as client:
        login = client.post("/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"})
        assert login.status_code == 200, login.text
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.admin_headers = {"Authorization": f"Bearer {login.json()['token']}"}
    yield schema
    services.close()


def _fixed_now():
    from datetime import datetime

    from chatbot.clock import BANK_TZ

    return datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_with_a_server_error(api_schema, mode):
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        failure = _fuzz(api_schema, operation, mode)
        if failure:
            failures.append(failure)
    assert operations >= 25  # the whole API, not a few routes
    assert failures == [], "\n\n".join(failures)


def _as_admin(case, mode) -> bool:
    """Staff routes get the admin's token, except: event streams (a signed-in stream never
    ends), logout (it would end the token every later case uses) and valid FAQ edits (each one
    rebuilds the FAQ index, seconds; tests/api/test_faq_api.py covers them), which still get
    fuzzed with invalid bodies."""
    if case.path in STREAMS or case.path.startswith(("/v1/chat", "/v1/auth/login", "/v1/auth/logout")):
        return False
    if case.path.startswith("/v1/admin/faq") and case.method != "GET":
        return mode == GenerationMode.NEGATIVE
    return True


def _fuzz(api_schema, operation, mode) -> str | None:
    seen: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        headers = dict(case.headers or {})
        if _as_admin(case, mode):
            headers.setdefault("Authorization", api_schema.admin_headers["Authorization"])
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # a timeout or a dropped connection is as bad as a 500
            seen.append(f"{case.method} {case.formatted_path} raised {exc!r}\n  body={getattr(case, 'body', None)!r}")
            return
        if response.status_code >= 500 and not seen:
            seen.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:200]}\n  query={case.query!r} body={getattr(case, 'body', None)!r}"[:1500])

    try:
        run()
    except Unsatisfiable:  # nothing about this operation can be made invalid (no parameters)
        assert mode == GenerationMode.NEGATIVE
    return seen[0] if seen else None
