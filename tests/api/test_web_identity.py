"""Web identity (issue 14, item 1): a web user id is claimed by its first message and every
later call for it must carry the signed `user_token`; only the web channel over HTTP;
bindings lapse after inactivity; the user id reaches neither agents nor the audit log."""
import json
import re

import pytest

from chatbot.security import web_identity
from chatbot.storage.models import AuditLog, ChannelBinding

ZHANG_ID = "110105199003071239"


def raw_client(services):
    """A client that never adds tokens by itself (what an attacker has)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(services=services))


def first_message(http, user_id, text="你好"):
    response = http.post("/v1/chat", json={"user_id": user_id, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def as_user(token):
    return {"Authorization": f"Bearer {token}"}


def code_for(http, phone):
    text = http.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"][0]["text"]
    return re.search(r"\d{6}", text).group(0)


def bind_zhang(http, user_id, token):
    for text in ("绑定账户", "张伟", ZHANG_ID):
        reply = http.post("/v1/chat", json={"user_id": user_id, "text": text}, headers=as_user(token))
        assert reply.status_code == 200, reply.text
    done = http.post("/v1/chat", json={"user_id": user_id, "text": code_for(http, "13800138000")},
                     headers=as_user(token)).json()
    assert "绑定成功" in done["replies"][0]["text"], done


@pytest.fixture
def http(services):
    with raw_client(services) as client:
        yield client


def test_the_first_message_earns_a_token_and_later_ones_need_it(http):
    first = first_message(http, "visitor-1")
    token = first["user_token"]
    assert token.startswith("w1.") and "visitor-1" not in token
    again = http.post("/v1/chat", json={"user_id": "visitor-1", "text": "谢谢"})
    assert again.status_code == 401 and again.json()["error"]["code"] == "missing_user_token"
    with_token = http.post("/v1/chat", json={"user_id": "visitor-1", "text": "谢谢"}, headers=as_user(token))
    assert with_token.status_code == 200 and "user_token" not in with_token.json()


def test_a_token_opens_only_its_own_user(http):
    mine = first_message(http, "visitor-a")["user_token"]
    first_message(http, "visitor-b")
    for call in (
        lambda h: http.post("/v1/chat", json={"user_id": "visitor-b", "text": "余额"}, headers=h),
        lambda h: http.get("/v1/chat/history", params={"user_id": "visitor-b"}, headers=h),
        lambda h: http.get("/v1/chat/status", params={"user_id": "visitor-b"}, headers=h),
    ):
        refused = call(as_user(mine))
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "user_token_mismatch"


@pytest.mark.parametrize("token", [
    "", "w1.", "w1.dmlzaXRvci1j.", "w1.dmlzaXRvci1j.AAAA", "Bearer", "x" * 5000,
    web_identity.issue("another-service-secret-of-32-chars!!", "visitor-c"),
])
def test_forged_or_foreign_tokens_are_refused(http, token):
    first_message(http, "visitor-c")
    response = http.get("/v1/chat/history", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in ("missing_user_token", "invalid_user_token")


def test_history_status_and_events_need_the_token(http):
    token = first_message(http, "visitor-d")["user_token"]
    for path in ("/v1/chat/history", "/v1/chat/status", "/v1/chat/events"):
        for params in ({"user_id": "visitor-d"}, {}):
            anonymous = http.get(path, params=params)
            assert anonymous.status_code == 401, (path, anonymous.text)
    messages = http.get("/v1/chat/history", headers=as_user(token)).json()["messages"]
    assert [m["sender"] for m in messages] == ["user", "bot"]
    assert http.get("/v1/chat/status", headers=as_user(token)).json()["mode"] == "bot"


@pytest.mark.parametrize("channel", ["wechat", "terminal"])
def test_only_the_web_channel_is_served_over_http(http, services, channel):
    # A WeChat follower bound to 李娜: her OpenID alone must show nothing.
    from chatbot.storage.models import Customer

    with services.database.write() as db:
        lina = db.query(Customer).filter_by(name="李娜").one()
        db.add(ChannelBinding(channel=channel, user_id="oFollowerOpenId", customer_id=lina.id,
                              bound_at=services.clock.now(), last_used_at=services.clock.now()))
    response = http.post("/v1/chat", json={"user_id": "oFollowerOpenId", "text": "查余额", "channel": channel})
    assert response.status_code == 403 and response.json()["error"]["code"] == "channel_forbidden"
    assert "1,000.00" not in response.text
    history = http.get("/v1/chat/history", params={"user_id": "oFollowerOpenId", "channel": channel})
    assert history.status_code in (401, 403)


def test_a_claimed_id_cannot_be_claimed_again_even_before_any_binding(http):
    first_message(http, "visitor-e")
    stolen = http.post("/v1/chat", json={"user_id": "visitor-e", "text": "你好", "message_id": "m1"})
    assert stolen.status_code == 401


def test_a_bound_customer_cannot_be_read_with_the_user_id_alone(http):
    token = first_message(http, "visitor-f")["user_token"]
    bind_zhang(http, "visitor-f", token)
    for attempt in (
        http.post("/v1/chat", json={"user_id": "visitor-f", "text": "查余额"}),
        http.get("/v1/chat/history", params={"user_id": "visitor-f"}),
    ):
        assert attempt.status_code == 401
        assert "52,380.50" not in attempt.text
    mine = http.post("/v1/chat", json={"user_id": "visitor-f", "text": "查余额"}, headers=as_user(token))
    assert "52,380.50" in mine.text


def test_a_web_binding_lapses_after_inactivity_and_needs_a_fresh_code(http, services, clock):
    token = first_message(http, "visitor-g")["user_token"]
    bind_zhang(http, "visitor-g", token)
    clock.advance(minutes=services.settings.web_binding_idle_minutes - 1)
    kept = http.post("/v1/chat", json={"user_id": "visitor-g", "text": "查余额"}, headers=as_user(token)).json()
    assert "52,380.50" in json.dumps(kept, ensure_ascii=False)
    clock.advance(minutes=services.settings.web_binding_idle_minutes + 1)
    lapsed = http.post("/v1/chat", json={"user_id": "visitor-g", "text": "查余额"}, headers=as_user(token)).json()
    text = "\n".join(r["text"] for r in lapsed["replies"])
    assert "绑定已失效" in text and "52,380.50" not in text
    assert lapsed["state"]["active_flow"] == "account.bind"
    with services.database.read() as db:
        assert db.query(ChannelBinding).filter_by(channel="web", user_id="visitor-g").count() == 0


def test_a_lapsed_binding_ends_a_flow_on_the_customers_money(http, clock, services):
    token = first_message(http, "visitor-h")["user_token"]
    bind_zhang(http, "visitor-h", token)
    read_back = http.post("/v1/chat", json={"user_id": "visitor-h", "text": "给李娜转100"}, headers=as_user(token))
    assert "请核对转账信息" in read_back.text
    clock.advance(minutes=services.settings.web_binding_idle_minutes + 5)
    confirm = http.post("/v1/chat", json={"user_id": "visitor-h", "text": "确认"}, headers=as_user(token)).json()
    text = "\n".join(r["text"] for r in confirm["replies"])
    assert "绑定已失效" in text and "验证码已发送至 138" not in text
    assert confirm["state"]["active_flow"] != "transfer.create"


def test_agents_and_the_audit_log_never_see_the_web_user_id(http, services):
    user_id = "visitor-secret-id-42"
    token = first_message(http, user_id)["user_token"]
    bind_zhang(http, user_id, token)
    # Scam wording is audited (fraud guard); then the customer asks for a person.
    for text in ("公安说我的账户涉嫌洗钱，要我转到安全账户", "转人工"):
        http.post("/v1/chat", json={"user_id": user_id, "text": text}, headers=as_user(token))
    login = http.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"}).json()
    agent = {"Authorization": f"Bearer {login['token']}"}
    queue = http.get("/v1/agent/queue", headers=agent)
    session_id = queue.json()["queue"][0]["session_id"]
    http.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    view = http.get(f"/v1/agent/sessions/{session_id}", headers=agent)
    assert view.status_code == 200
    assert user_id not in queue.text and user_id not in view.text
    with services.database.read() as db:
        rows = db.query(AuditLog).all()
        assert rows and not any(user_id in (r.actor + (r.target or "") + json.dumps(r.detail)) for r in rows)


@pytest.mark.parametrize("user_id", [" ", "   ", "\u200b", "\u200b\u2060", "\u00a0", "a\x00b", "a\nb", "\ufeff"])
def test_blank_invisible_or_control_user_ids_are_refused(http, user_id):
    response = http.post("/v1/chat", json={"user_id": user_id, "text": "你好"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_user_id", "validation_error")


@pytest.mark.parametrize("body", [
    '{"user_id": "visitor-n", "text": "\\u4f60\\u597d\\u0000"}',
    '{"user_id": "visitor-n", "text": "\\ud800"}',
    '{"user_id": "visitor-n", "text": "\\udfff\\u4f60\\u597d"}',
    '{"user_id": "visitor-n", "text": "\\u200b\\u200b"}',
])
def test_nul_lone_surrogates_and_invisible_text_are_422_not_500(http, body):
    response = http.post("/v1/chat", content=body.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert http.post("/v1/chat", json={"user_id": "visitor-n", "text": "你好"}).status_code == 200


def test_a_reused_message_id_with_other_text_is_409_and_the_same_text_replays(http):
    token = first_message(http, "visitor-m")["user_token"]
    payload = {"user_id": "visitor-m", "text": "谢谢", "message_id": "client-7"}
    first = http.post("/v1/chat", json=payload, headers=as_user(token)).json()
    assert http.post("/v1/chat", json=payload, headers=as_user(token)).json() == first
    reused = http.post("/v1/chat", json={**payload, "text": "给李娜转5000"}, headers=as_user(token))
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "message_id_reused"
