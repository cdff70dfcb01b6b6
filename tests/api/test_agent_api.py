"""The agent API over HTTP: a whole handoff, ownership, masking, canned replies, metrics."""
import json
import re

from sqlalchemy import select

from chatbot.storage.models import ChannelBinding, ChatSession, Customer

SECRETS = ("110105199003071239", "13800138000", "6222021000191234", "6258800000335678", "6222021000708888")
LONG_DIGITS = re.compile(r"\d{11,}")


def bearer(client, username) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def say(client, user, text) -> dict:
    response = client.post("/v1/chat", json={"user_id": user, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def history(client, user) -> list[tuple[str, str]]:
    messages = client.get("/v1/chat/history", params={"user_id": user}).json()["messages"]
    return [(m["sender"], m["text"]) for m in messages]


def test_a_whole_handoff_over_http(client):
    agent = bearer(client, "agent1")
    client.get("/v1/agent/queue", headers=agent)  # the console is open: agent1 is online
    queued = say(client, "w1", "转人工")
    assert queued["state"]["mode"] == "queued" and "当前第 1 位" in queued["replies"][0]["text"]
    status = client.get("/v1/chat/status", params={"user_id": "w1"}).json()
    assert status["mode"] == "queued" and status["position"] == 1 and status["estimated_wait_minutes"] >= 1
    queue = client.get("/v1/agent/queue", headers=agent).json()
    session_id = queue["queue"][0]["session_id"]
    assert session_id == queued["session_id"] and queue["queue"][0]["reason"] == "human_request"

    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).json()["mode"] == "agent"
    assert client.get("/v1/chat/status", params={"user_id": "w1"}).json()["agent"] == "小王"
    client.post(f"/v1/agent/sessions/{session_id}/messages", headers=agent, json={"text": "您好，我是客服小王"})
    assert say(client, "w1", "我的转账一直失败")["replies"] == []
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=agent).json()
    assert view["can_write"] and view["transcript"][-1]["text"] == "我的转账一直失败"
    assert view["understanding"][0]["intent"] and "confidence" in view["understanding"][0]

    client.post(f"/v1/agent/sessions/{session_id}/release", headers=agent)
    assert say(client, "w1", "你好")["state"]["mode"] == "bot"
    assert say(client, "w1", "我要人工客服")["state"]["mode"] == "queued"
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    client.post(f"/v1/agent/sessions/{session_id}/close", headers=agent)
    assert client.get("/v1/chat/status", params={"user_id": "w1"}).json()["rating_pending"] is True
    assert "感谢您的评价（4 分）" in say(client, "w1", "4")["replies"][0]["text"]
    lines = history(client, "w1")
    assert ("agent", "您好，我是客服小王") in lines and any("请为客服小王的服务打分" in t for _, t in lines)


def test_another_agent_cannot_write_and_errors_are_json(client):
    owner, other = bearer(client, "agent1"), bearer(client, "agent2")
    session_id = say(client, "w2", "转人工")["session_id"]
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=owner)
    for path, body in (("messages", {"text": "我来回答"}), ("release", None), ("close", None),
                       ("transfer", {"to": "agent2"})):
        response = client.post(f"/v1/agent/sessions/{session_id}/{path}", headers=other, json=body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_owner"
    assert client.get(f"/v1/agent/sessions/{session_id}", headers=other).status_code == 403
    taken = client.post(f"/v1/agent/sessions/{session_id}/accept", headers=other)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "already_accepted"
    assert client.post("/v1/agent/sessions/424242/accept", headers=owner).status_code == 404
    empty = client.post(f"/v1/agent/sessions/{session_id}/messages", headers=owner, json={"text": ""})
    assert empty.status_code == 422 and set(empty.json()["error"]) == {"code", "message"}


def _bind_zhang(database, user_id):
    with database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == "张伟")).one()
        db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer.id, bound_at=customer.created_at))


def _stall_a_transfer(database, session_id):
    with database.write() as db:
        db.get(ChatSession, session_id).state = {
            "active_flow": "transfer.create", "step": "otp", "failed_step": "otp", "missing_slots": ["otp"],
            "slots": {"payee": "李娜", "to_account": "6222021000708888", "amount": "2500.00", "_risk": ["安全账户"]},
        }


def test_the_console_never_receives_a_full_id_card_or_phone(client, database):
    agent = bearer(client, "agent1")
    _bind_zhang(database, "zw")
    say(client, "zw", "你好")
    session_id = say(client, "zw", "转人工")["session_id"]
    _stall_a_transfer(database, session_id)
    say(client, "zw", "我身份证110105199003071239，卡号6222021000191234，手机13800138000")
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=agent).json()
    queue = client.get("/v1/agent/queue", headers=agent).json()
    dumped = json.dumps([view, queue], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in dumped
    assert not LONG_DIGITS.search(dumped)
    customer = view["customer"]
    assert customer["id_number"] == "1101**********1239" and customer["phone"] == "138****8000"
    assert {a["card"] for a in customer["accounts"] if a["kind"] != "loan"} == {"**** 1234", "**** 5678"}
    loan, = [a for a in customer["accounts"] if a["kind"] == "loan"]  # the consumer loan, no card
    assert loan["name"] == "消费贷" and loan["card"] is None and loan["balance"].startswith("-")
    assert customer["accounts"][0]["balance"] == "52,380.50 元"
    flow = view["stalled_flow"]
    assert flow["stalled"] and flow["failed_step"] == "otp" and flow["missing_slots"] == ["otp"]
    assert flow["slots"]["to_account"] == "**** 8888" and "_risk" not in flow["slots"]
    assert flow["risk_flags"] == ["安全账户"]


def test_an_anonymous_customer_shows_no_account_context(client):
    agent = bearer(client, "agent1")
    session_id = say(client, "anon", "转人工")["session_id"]
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=agent).json()
    assert view["customer"] is None and view["can_write"] is False
    assert client.get("/v1/agent/queue", headers=agent).json()["queue"][0]["bound"] is False


def test_agent_slot_edits_are_checked_like_customer_input(client, database):
    agent = bearer(client, "agent1")
    _bind_zhang(database, "st")
    session_id = say(client, "st", "转人工")["session_id"]
    with database.write() as db:
        db.get(ChatSession, session_id).state = {
            "active_flow": "transfer.create", "step": "otp", "failed_step": "otp", "missing_slots": [],
            "slots": {"payee": {"name": "李娜", "account_no": "6222021000708888", "in_book": True},
                      "amount": "2500.00", "_risk": []}}
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    url = f"/v1/agent/sessions/{session_id}/slots"
    unknown = client.post(url, headers=agent, json={"slots": {"identity_verified": True}})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_slot"
    assert "amount" in unknown.json()["error"]["message"]
    for bad in ({"payee": "oops"}, {"amount": "NaN"}, {"amount": -100}, {"amount": "100.555"}):
        response = client.post(url, headers=agent, json={"slots": bad})
        assert response.status_code == 422, (bad, response.text)
    with database.read() as db:
        assert db.get(ChatSession, session_id).state["slots"]["amount"] == "2500.00"  # nothing changed
    body = client.post(url, headers=agent, json={"slots": {"amount": "2000"}}).json()
    assert body["state"]["failed_step"] is None and body["state"]["step"] == "collect"
    assert body["state"]["slots"]["amount"] == "2000"
    assert body["state"]["slots"]["payee"]["account_no"] == "**** 8888"
    client.post(f"/v1/agent/sessions/{session_id}/release", headers=agent)
    with database.read() as db:
        state = db.get(ChatSession, session_id).state
    assert state["active_flow"] == "transfer.create" and state["step"] == "confirm"
    released = history(client, "st")[-1][1]
    assert "收款人：李娜（账号 **** 8888）" in released and "2,000.00 元（贰仟元整）" in released


def test_canned_replies_are_managed_by_admins_and_read_by_agents(client):
    admin, agent = bearer(client, "admin"), bearer(client, "agent1")
    created = client.post("/v1/admin/canned-replies", headers=admin, json={"title": "问候", "text": "您好，请问有什么可以帮您？"})
    assert created.status_code == 201
    reply_id = created.json()["id"]
    assert client.post("/v1/admin/canned-replies", headers=agent, json={"title": "x", "text": "y"}).status_code == 403
    updated = client.put(f"/v1/admin/canned-replies/{reply_id}", headers=admin, json={"title": "问候", "text": "您好！"})
    assert updated.json()["text"] == "您好！"
    replies = client.get("/v1/agent/canned-replies", headers=agent).json()["replies"]
    assert {"id": reply_id, "title": "问候", "text": "您好！"}.items() <= next(r for r in replies if r["id"] == reply_id).items()
    assert client.delete(f"/v1/admin/canned-replies/{reply_id}", headers=admin).status_code == 204
    assert client.delete(f"/v1/admin/canned-replies/{reply_id}", headers=admin).status_code == 404
    actions = [e["action"] for e in client.get("/v1/admin/audit", headers=admin).json()["entries"]]
    assert {"canned.create", "canned.update", "canned.delete"} <= set(actions)


def test_metrics_json_and_prometheus(client):
    agent, admin = bearer(client, "agent1"), bearer(client, "admin")
    session_id = say(client, "m1", "转人工")["session_id"]
    say(client, "m2", "我要投诉")
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    client.post(f"/v1/agent/sessions/{session_id}/close", headers=agent)
    say(client, "m1", "5")
    metrics = client.get("/v1/admin/metrics", headers=admin).json()
    assert metrics["queue_length"] == 1 and metrics["ratings"]["agent1"]["average"] == 5.0
    assert metrics["tickets"]["closed"] == 1 and metrics["wait_seconds"]["count"] == 1
    text = client.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    assert "chatbot_handoff_queue_length 1" in text.text
