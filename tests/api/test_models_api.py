"""`GET /v1/admin/models` and `POST /v1/admin/models/{version}/promote`: roles, the regression
gate's 409 (also when the promoted version cannot be scored), force with its audit row, a
promotion waiting for another without holding up other requests, malformed and hostile
version names, and the worker rows the watcher thread of the app's lifespan writes."""
from __future__ import annotations

import json
import os
import shutil
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chatbot.nlu import model_store
from chatbot.settings import Settings
from chatbot.storage.models import AuditLog
from tests.training.model_pairs import train_pair
from training import registry


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture
def pair(trained, tmp_path):
    own = trained.copy(tmp_path / "models")
    registry.promote(own.model_dir, own.good)
    return own


@pytest.fixture
def services(database_url, pair, clock, knowledge_desk):
    from chatbot.service import build_services

    settings = Settings(env="sandbox", database_url=database_url, model_dir=pair.model_dir,
                        data_dir=pair.data_dir, promote_min_support=5)
    built = build_services(settings, clock=clock, knowledge=knowledge_desk)  # the pair's promoted model
    yield built
    built.close()


@pytest.fixture
def client(services):
    from api.app import create_app

    with TestClient(create_app(services=services)) as test_client:
        yield test_client


def bearer(client, username) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _promote(client, version, headers, **body):
    return client.post(f"/v1/admin/models/{version}/promote", json=body or None, headers=headers)


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


def test_roles(client, pair):
    assert client.get("/v1/admin/models").status_code == 401
    assert _promote(client, pair.bad, {}).status_code == 401
    agent = bearer(client, "agent1")
    _error(client.get("/v1/admin/models", headers=agent), 403)
    _error(_promote(client, pair.bad, agent), 403)
    analyst = bearer(client, "analyst")
    assert client.get("/v1/admin/models", headers=analyst).status_code == 200
    _error(_promote(client, pair.bad, analyst, force=True), 403)
    assert model_store.promoted_version(pair.model_dir) == pair.good


def test_listing_names_versions_and_the_promoted_one(client, pair):
    body = client.get("/v1/admin/models", headers=bearer(client, "analyst")).json()
    assert body["promoted"] == pair.good and body["workers"] == []
    listed = {v["version"]: v for v in body["versions"]}
    assert set(listed) == {pair.good, pair.bad}
    assert listed[pair.good]["promoted"] and not listed[pair.bad]["promoted"]
    assert set(listed[pair.good]) == {"version", "created_at", "accuracy", "metrics", "promoted"}
    assert listed[pair.good]["metrics"]["training_examples"] == 36


def test_the_gate_refuses_with_409_and_its_details(client, pair, services):
    admin = bearer(client, "admin")
    error = _error(_promote(client, pair.bad, admin), 409, "regression_gate")
    assert "意图 thanks 的准确率 1.0000 → 0.0000" in error["message"]
    assert error["passed"] is False and error["baseline"] == pair.good and error["candidate"] == pair.bad
    assert [(d["intent"], d["drop"]) for d in error["drops"]] == [(None, 0.3333), ("thanks", 1.0)]
    assert error["held_out"]["sources"]["intents_test.tsv"] == 15
    assert model_store.promoted_version(pair.model_dir) == pair.good


def test_force_promotes_and_the_audit_names_the_admin(client, pair, services):
    admin = bearer(client, "admin")
    response = _promote(client, pair.bad, admin, force=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["promoted"] == pair.bad and body["forced"] is True and body["gate"]["passed"] is False
    assert client.get("/v1/admin/models", headers=admin).json()["promoted"] == pair.bad
    with services.database.read() as db:
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "model.promote")).one()
    assert entry.actor == "staff:admin" and entry.target == f"model:{pair.bad}" and entry.detail["forced"] is True
    back = _promote(client, pair.good, admin, force=False)  # better again: passes without force
    assert back.status_code == 200 and back.json()["forced"] is False


def test_unknown_and_malformed_versions(client, pair):
    admin = bearer(client, "admin")
    _error(_promote(client, "20200101-000000-deadbeef", admin), 404, "unknown_model_version")
    for name in ("latest", "20200101-000000-DEADBEEF", "20200101-000000-deadbeef0", "%2E%2E", ".x"):
        _error(client.post(f"/v1/admin/models/{name}/promote", headers=admin), 422, "validation_error")


def test_a_hostile_name_never_reaches_the_file_system(client, pair, tmp_path):
    outside = tmp_path / "outside" / "20200101-000000-deadbeef"
    shutil.copytree(pair.model_dir / pair.bad, outside)  # a complete version, outside the model directory
    admin = bearer(client, "admin")
    pointer = (pair.model_dir / model_store.PROMOTED_FILE).read_bytes()
    for path in ("..%2Foutside%2F20200101-000000-deadbeef", "..%2F..%2Foutside", "%2E%2E%2Fx", "..",
                 "..%5Coutside", "20200101-000000-deadbeef%00"):
        response = client.post(f"/v1/admin/models/{path}/promote", headers=admin, json={"force": True})
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.json()["error"]["code"] in ("not_found", "validation_error", "invalid_characters")
    assert (pair.model_dir / model_store.PROMOTED_FILE).read_bytes() == pointer
    assert list(outside.iterdir()) and not (outside / "heldout").exists()


@pytest.mark.parametrize(("body", "status", "code"), [
    ('{"force": "yes"}', 422, "validation_error"),
    ('{"force": 1}', 422, "validation_error"),
    ('{"force": true, "also": 1}', 422, "validation_error"),
    ('[true]', 422, "validation_error"),
    ('{"force": tru', 400, "malformed_json"),
])
def test_bad_bodies_are_4xx_json(client, pair, body, status, code):
    response = client.post(f"/v1/admin/models/{pair.bad}/promote", content=body,
                           headers={**bearer(client, "admin"), "Content-Type": "application/json"})
    _error(response, status, code)
    assert model_store.promoted_version(pair.model_dir) == pair.good


def test_the_lifespan_watcher_reports_this_worker_and_swaps_on_promotion(services, pair):
    from api.app import create_app

    with TestClient(create_app(services=services, watch_model=True)) as client:
        admin = bearer(client, "admin")
        workers = _wait_for_workers(client, admin, pair.good)
        assert [(w["pid"], w["stale"]) for w in workers] == [(os.getpid(), False)]
        assert set(workers[0]) >= {"worker_id", "host", "pid", "model_version", "seen_at"}
        assert _promote(client, pair.bad, admin, force=True).status_code == 200
        started = time.monotonic()
        _wait_for_workers(client, admin, pair.bad)
        assert time.monotonic() - started < 1.0  # the promotion woke this worker's watcher
        assert client.get("/healthz").json()["model_version"] == pair.bad
    with services.database.read() as db:
        from chatbot.storage.serving_workers import all_workers

        assert all_workers(db) == []  # removed on shutdown


def _wait_for_workers(client, headers, version, timeout=5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        workers = client.get("/v1/admin/models", headers=headers).json()["workers"]
        if workers and all(w["model_version"] == version for w in workers):
            return workers
        assert time.monotonic() < deadline, json.dumps(workers)
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["unreadable", "deleted"])
def test_a_promoted_version_that_cannot_be_scored_is_a_409_in_one_line_and_force_promotes(client, pair, services,
                                                                                        how):
    if how == "unreadable":  # as after a scikit-learn upgrade
        (pair.model_dir / pair.good / model_store.MODEL_FILE).write_bytes(b"not a pickle")
    else:
        shutil.rmtree(pair.model_dir / pair.good)
    admin = bearer(client, "admin")
    error = _error(_promote(client, pair.bad, admin), 409, "gate_not_evaluated")
    assert "\n" not in error["message"] and error["message"].endswith("--force")
    assert f"已发布的版本 {pair.good} 无法评分" in error["message"]
    assert error["evaluated"] is False and error["baseline"] == pair.good
    assert model_store.promoted_version(pair.model_dir) == pair.good
    response = _promote(client, pair.bad, admin, force=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["forced"] is True and body["gate"]["evaluated"] is False
    assert body["gate"]["summary"].startswith("回归门禁未评估")
    assert model_store.promoted_version(pair.model_dir) == pair.bad
    with services.database.read() as db:
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "model.promote")).one()
    assert entry.detail["forced"] is True and entry.detail["gate"]["evaluated"] is False


def test_a_promotion_waiting_for_another_does_not_hold_up_other_requests(client, pair):
    admin = bearer(client, "admin")
    held, release, answers = threading.Event(), threading.Event(), {}

    def other_promotion():  # e.g. `chatbot models promote` scoring models
        with registry.promotion_lock(pair.model_dir):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=other_promotion)
    holder.start()
    assert held.wait(5)
    waiter = threading.Thread(target=lambda: answers.update(
        response=_promote(client, pair.bad, admin, force=True)))
    try:
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive()  # waiting for the lock
        started = time.monotonic()
        assert client.get("/v1/admin/models", headers=admin).json()["promoted"] == pair.good
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 2.0
    finally:
        release.set()
        holder.join()
        waiter.join(30)
    assert answers["response"].status_code == 200, answers["response"].text
    assert model_store.promoted_version(pair.model_dir) == pair.bad
