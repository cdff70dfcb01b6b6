"""POST /v1/chat/logout (api/routes/chat_session.py): the chat page's 退出 ends what a web
identity could do for a bank customer, and only the token's own user can do it.

The route is mounted here on top of the app (`create_app` may not include it yet)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from api.routes import chat_session
from chatbot.security import web_identity
from chatbot.storage.models import ChannelBinding, ChatSession
from tests.api.test_agent_api import _bind_zhang
from tests.api.test_web_identity import as_user, first_message

LOGOUT = "/v1/chat/logout"


def app_with_logout(services):
    from api.app import create_app

    app = create_app(services=services)
    if not any(getattr(route, "path", None) == LOGOUT for route in app.routes):
        app.include_router(chat_session.router)
    return app


@pytest.fixture
def http(services):
    from fastapi.testclient import TestClient

    with TestClient(app_with_logout(services)) as client:
        yield client


def says(http, user_id: str, token: str, text: str) -> dict:
    response = http.post("/v1/chat", json={"user_id": user_id, "text": text}, headers=as_user(token))
    assert response.status_code == 200, response.text
    return response.json()


def reply_text(answer: dict) -> str:
    return "\n".join(item["text"] for item in answer["replies"])


def bindings(database) -> dict[str, int]:
    with database.read() as db:
        return {b.user_id: b.customer_id for b in db.scalars(select(ChannelBinding))}


def test_logout_unbinds_drops_the_flow_and_keeps_the_record(http, database, backend):
    token = first_message(http, "web-out")["user_token"]
    _bind_zhang(database, "web-out")
    assert "52,380.50" in reply_text(says(http, "web-out", token, "余额"))
    assert says(http, "web-out", token, "给李娜转100")["state"]["active_flow"] == "transfer.create"

    response = http.post(LOGOUT, headers=as_user(token))
    assert response.status_code == 200 and response.json() == {"unbound": True}
    assert "web-out" not in bindings(database)
    with database.read() as db:
        session = db.scalars(select(ChatSession).where(ChatSession.user_id == "web-out")).one()
        assert session.state == {} and session.customer_id is None

    # The old token now speaks for an unbound visitor: no transfer goes on, no balance shows.
    confirmed = says(http, "web-out", token, "确认")
    assert confirmed["state"]["active_flow"] is None and "验证码" not in reply_text(confirmed)
    asked = reply_text(says(http, "web-out", token, "余额"))
    assert "52,380.50" not in asked and "绑定" in asked
    assert http.post(LOGOUT, headers=as_user(token)).json() == {"unbound": False}  # again: harmless
    history = http.get("/v1/chat/history", headers=as_user(token)).json()["messages"]
    assert any("52,380.50" in m["text"] for m in history)  # the bank's record stays


def test_logout_before_any_binding_or_session_is_harmless(http, services):
    token = web_identity.issue(services.settings.secret_key, "web-never-spoke")
    response = http.post(LOGOUT, headers=as_user(token))
    assert response.status_code == 200 and response.json() == {"unbound": False}


def test_only_the_tokens_own_user_is_logged_out(http, database, services, backend):
    key = services.settings.secret_key
    token_a = first_message(http, "web-a")["user_token"]
    first_message(http, "web-b")
    _bind_zhang(database, "web-b")
    staff = http.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"}).json()["token"]
    refusals = {
        "no token": ({}, None, 401),
        "not a bearer": ({"Authorization": "Basic d2ViLWI6eA=="}, None, 401),
        "forged": (as_user("w1.d2ViLWI.forged"), None, 401),
        "another user's id": (as_user(token_a), {"user_id": "web-b"}, 401),
        "a staff token": (as_user(staff), None, 401),
        "a huge token": (as_user(web_identity.issue(key, "web-" + "b" * 10_000)), None, 401),
        "a NUL in the signed id": (as_user(web_identity.issue(key, "web-b\x00")), None, 401),
        "a space in the signed id": (as_user(web_identity.issue(key, "web b")), None, 401),
        "a signed id too long to be one": (as_user(web_identity.issue(key, "w" * 129)), None, 401),
        "a huge id asked for": (as_user(token_a), {"user_id": "b" * 129}, 422),
        "a NUL id asked for": (as_user(token_a), {"user_id": "web-b\x00"}, 422),
        "a lone surrogate asked for": (as_user(token_a), "user_id=web-%ED%A0%80", 401),  # not web-a's
        "another channel": (as_user(token_a), {"channel": "wechat"}, 403),
    }
    for name, (headers, params, status) in refusals.items():
        if isinstance(params, str):  # a query no client library would encode: sent as it is
            response = http.post(f"{LOGOUT}?{params}", headers=headers)
        else:
            response = http.post(LOGOUT, headers=headers, params=params)
        assert response.status_code == status, (name, response.status_code, response.text)
        assert set(response.json()) == {"error"}, name
    assert "web-b" in bindings(database)  # nobody but web-b's own token unbinds web-b
