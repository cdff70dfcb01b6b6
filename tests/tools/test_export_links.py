"""Statement links carry nothing readable and serve one download."""
from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.errors import install_error_handlers
from api.routes import exports
from chatbot.security.sealing import seal
from chatbot.security.signing import sign
from chatbot.settings import Settings
from chatbot.storage import used_tokens
from chatbot.storage.models import UsedToken
from chatbot.tools.export import ExportRequest

SECRET = "route-secret"


@pytest.fixture
def http(database, clock):
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(exports.router)
    app.state.services = SimpleNamespace(settings=Settings(secret_key=SECRET), database=database, clock=clock)
    with TestClient(app) as client:
        yield client


def _token(clock, customer_id: int, **filters) -> str:
    return ExportRequest(customer_id, **filters).to_token(SECRET, clock.now() + timedelta(minutes=30))


def _decoded(token: str) -> bytes:
    raw = b""
    for part in token.split("."):
        try:
            raw += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            pass
    return raw


def test_a_link_shows_nothing_internal(clock, demo):
    token = _token(clock, demo.zhang, fmt="csv", card_tail="5678", start=date(2026, 10, 1))
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    inside = _decoded(token)
    for secret_part in (b"customer_id", b"5678", b"2026-10-01", b"csv"):
        assert secret_part not in inside
    assert _token(clock, demo.zhang) != _token(clock, demo.zhang)  # every link has its own id


def test_a_link_downloads_once_then_is_410_link_used(backend, http, clock, demo, database):
    link = "/v1/exports/" + _token(clock, demo.zhang, fmt="csv")
    first = http.get(link)
    assert first.status_code == 200 and first.content.decode("utf-8-sig").startswith("时间")
    again = http.get(link)
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "link_used" and "导出" in again.json()["error"]["message"]
    other = http.get("/v1/exports/" + _token(clock, demo.zhang, fmt="csv"))  # a new link works
    assert other.status_code == 200
    with database.read() as db:
        assert len(db.scalars(select(UsedToken)).all()) == 2


def test_old_readable_links_and_tokens_of_other_purposes_are_refused(http, clock, demo):
    payload = {"customer_id": demo.zhang, "format": "csv"}
    readable = sign(payload, SECRET, clock.now() + timedelta(minutes=30))  # the former link format
    assert http.get(f"/v1/exports/{readable}").json()["error"]["code"] == "invalid_token"
    other_purpose = seal(SECRET, "sms.inbox", '{"p":{"customer_id":1,"format":"csv"},"exp":9999999999,"jti":"x"}')
    response = http.get(f"/v1/exports/{other_purpose}")
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_token"


def test_spent_ids_are_purged_once_their_links_expired(database, clock):
    with database.write() as db:
        assert used_tokens.spend(db, "a", clock.now() + timedelta(minutes=30), clock.now())
        assert not used_tokens.spend(db, "a", clock.now() + timedelta(minutes=30), clock.now())
    clock.advance(minutes=31)
    with database.write() as db:
        assert used_tokens.spend(db, "b", clock.now() + timedelta(minutes=30), clock.now())
    with database.read() as db:
        assert [row.token_id for row in db.scalars(select(UsedToken))] == ["b"]


def test_the_transactions_conversation_gives_working_single_use_links(client, services):
    user = "export-links"

    def say(text: str) -> str:
        response = client.post("/v1/chat", json={"user_id": user, "text": text, "channel": "web"})
        assert response.status_code == 200, response.text
        return "\n".join(r["text"] for r in response.json()["replies"])

    say("绑定账户")
    say("张伟")
    assert "验证码已发送" in say("110105199003071239")
    inbox = client.get("/v1/sandbox/sms", params={"phone": "13800138000"}).json()["messages"]
    assert "绑定成功" in say(re.search(r"\d{6}", inbox[0]["text"]).group(0))
    say("查一下上个月的交易明细")
    reply = say("导出")
    assert "可下载一次" in reply
    links = re.findall(r"/v1/exports/\S+", reply)
    assert len(links) == 2
    assert client.get(links[0]).content[:2] == b"PK"
    assert client.get(links[1]).content.decode("utf-8-sig").startswith("时间")
    assert client.get(links[1]).status_code == 410
    assert b"customer_id" not in _decoded(links[0].rsplit("/", 1)[1])
