"""The agent console's API beyond the basic handoff (issue 22): Chinese labels for every code,
slot values in words, how each recent business ended, and the attacker's inputs."""
import re
from datetime import timedelta

import pytest

from chatbot.handoff import labels
from chatbot.handoff.console import masked_name
from chatbot.settings import DATA_DIR
from tests.api.test_agent_api import _bind_zhang, say
from tests.api.test_hardening import HUGE, NUL, SURROGATE, _raw_json

CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


@pytest.fixture
def staff(services):
    """Bearer headers for a staff member, signed like a login's (logging in hashes the password
    with argon2, half a second a call on a busy machine; tests/api/test_auth.py covers it)."""
    from chatbot.security import tokens
    from chatbot.storage import staff as staff_store

    def headers(username: str) -> dict:
        with services.database.read() as db:
            row = staff_store.by_username(db, username)
        token, _ = tokens.issue(services.settings.secret_key, row.id, row.role, services.clock.now(),
                                timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    return headers


def _sandbox_code(client, phone="13800138000") -> str:
    text = client.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"][0]["text"]
    return re.search(r"\d{6}", text).group(0)


def _queued_and_accepted(client, user, agent) -> int:
    session_id = say(client, user, "转人工")["session_id"]
    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    return session_id


# --- labels ----------------------------------------------------------------------------------

def test_every_code_the_console_shows_has_a_chinese_label(client, staff):
    agent = staff("agent1")
    body = client.get("/v1/agent/labels", headers=agent).json()
    table, fallback = body["labels"], body["fallback"]
    intents = re.findall(r"^([a-z_.]+):", (DATA_DIR / "intents.yaml").read_text(encoding="utf-8"), re.M)
    assert intents and set(intents) <= set(table["intent"])
    outcomes = {"answered", "completed", "in_flow", "refused", "cancelled", "flow_failed", "out_of_scope",
                "intent_clarify", "faq_clarify", "faq_not_found", "not_understood", "handoff", "queued",
                "forwarded_to_agent", "message_left", "message_kept", "message_requested", "handoff_cancelled",
                "handed_off", "rated"}
    assert outcomes <= set(table["outcome"])
    assert {"human_request", "call_back", "complaint", "not_understood", "flow_failed", "fraud_risk"} <= set(table["reason"])
    for kind in ("intent", "outcome", "reason", "status", "slot", "entity", "step", "flow_status", "presence"):
        assert not any(CODE.match(name) for name in table[kind].values()), kind  # words, not codes
        assert fallback[kind] and not CODE.match(fallback[kind])
    assert table["slot"]["payee"] == "收款人" and table["intent"]["transfer.create"] == "转账"


NEW_ROUTES = [
    ("GET", "/v1/agent/labels", None),
    ("GET", "/v1/agent/canned-replies", None),
    ("POST", "/v1/agent/canned-replies", {"title": "t", "text": "x"}),
    ("PUT", "/v1/agent/canned-replies/1", {"title": "t", "text": "x"}),
    ("DELETE", "/v1/agent/canned-replies/1", None),
    ("POST", "/v1/agent/sessions/{session}/notes", {"text": "x"}),
    ("PUT", "/v1/agent/presence", {"status": "busy"}),
]


def test_the_new_routes_refuse_strangers(client, staff):
    """No token, a customer's token, an analyst's: refused before anything is read or kept."""
    said = say(client, "stranger-1", "转人工")
    customer, analyst = {"Authorization": f"Bearer {said['user_token']}"}, staff("analyst")
    for method, path, body in NEW_ROUTES:
        path = path.format(session=said["session_id"])
        for headers, status in (({}, 401), (customer, 401), (analyst, 403)):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == status and set(response.json()) == {"error"}, (method, path, headers)


def test_values_and_steps_read_as_words():
    assert labels.display("payee", {"name": "李娜", "account_no": "**** 8888", "in_book": True}) == "李娜（账号 **** 8888）"
    assert labels.display("amount", "2500") == "2,500.00 元"
    assert labels.display("card_tail", "1234") == "尾号 1234"
    assert labels.display("date_range", {"start": "2026-10-01", "end": "2026-10-31"}) == "2026-10-01 至 2026-10-31"
    assert labels.display("identity_verified", True) == "是"
    assert labels.step_label("ask_amount", "transfer.create") == "询问金额"
    assert labels.step_label("ask_card_tail", "card.bill") == "询问信用卡"
    assert labels.step_label("otp_locked") == "验证码错误次数过多"
    assert labels.label("intent", "brand.new_intent") == "其他" and labels.label("flow", "x.y") == "其他业务"


# --- the session view --------------------------------------------------------------------------

def test_recent_business_says_how_each_ended_and_slots_read_as_words(client, database, staff):
    agent = staff("agent1")
    _bind_zhang(database, "rf")
    say(client, "rf", "查余额")
    say(client, "rf", "给李娜转100")
    say(client, "rf", "确认")
    assert "转账成功" in say(client, "rf", _sandbox_code(client))["replies"][0]["text"]
    say(client, "rf", "挂失")
    say(client, "rf", "取消")
    say(client, "rf", "给李娜转200")
    session_id = _queued_and_accepted(client, "rf", agent)
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=agent).json()
    ended = [(f["flow"], f["status"]) for f in view["recent_flows"]]
    assert ended == [("transfer.create", "in_progress"), ("account.report_loss", "cancelled"),
                     ("transfer.create", "completed"), ("account.balance", "completed")]
    flow = view["stalled_flow"]
    rows = {row["label"]: row["text"] for row in flow["slot_rows"]}
    assert rows["收款人"] == "李娜（账号 **** 8888）" and rows["金额"] == "200.00 元"
    assert flow["step_label"] == "等待客户确认"
    assert {"name": "amount", "label": "金额"} in flow["editable"]
    entities = {(e["label"], e["text"]) for turn in view["understanding"] for e in turn["entities"]}
    assert ("收款人", "李娜") in entities and ("金额", "200.00 元") in entities


def test_a_transferred_session_is_the_new_agents(client, staff):
    first, second = staff("agent1"), staff("agent2")
    session_id = _queued_and_accepted(client, "tr-1", first)
    moved = client.post(f"/v1/agent/sessions/{session_id}/transfer", headers=first, json={"to": "agent2"})
    assert moved.status_code == 200
    assert client.get(f"/v1/agent/sessions/{session_id}", headers=first).status_code == 403
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=second).json()
    assert view["can_write"] and view["handoff"]["agent"]["display_name"] == "小李"


# --- quick replies ---------------------------------------------------------------------------------

def _events(services, keys=("agents",)) -> list:
    heard: list = []
    services.handoff.events.subscribe(set(keys), heard.append)
    return heard


def test_quick_replies_are_seeded_and_any_agent_keeps_them_for_everyone(client, services, staff):
    wang, li = staff("agent1"), staff("agent2")
    seeded = client.get("/v1/agent/canned-replies", headers=wang).json()["replies"]
    assert {"问候", "核实身份", "防诈提醒", "结束语"} <= {r["title"] for r in seeded}
    heard = _events(services)
    created = client.post("/v1/agent/canned-replies", headers=wang,
                          json={"title": "开户材料", "text": "请携带本人身份证，卡号6222021000191234"})
    assert created.status_code == 201 and "6222021000191234" not in created.json()["text"]  # masked
    reply_id = created.json()["id"]
    assert client.put(f"/v1/agent/canned-replies/{reply_id}", headers=li,
                      json={"title": "开户材料", "text": "请携带本人有效身份证件。"}).json()["text"] == "请携带本人有效身份证件。"
    listed = {r["id"]: r for r in client.get("/v1/agent/canned-replies", headers=wang).json()["replies"]}
    assert listed[reply_id]["created_by"] == "agent1" and listed[reply_id]["text"] == "请携带本人有效身份证件。"
    assert client.delete(f"/v1/agent/canned-replies/{reply_id}", headers=li).status_code == 204
    assert client.delete(f"/v1/agent/canned-replies/{reply_id}", headers=li).status_code == 404
    assert [e.type for e in heard] == ["canned", "canned", "canned"]  # every open console reloads
    actions = [(e["actor"], e["action"]) for e in client.get("/v1/admin/audit", headers=staff("admin"))
               .json()["entries"] if e["action"].startswith("canned.")]
    assert actions == [("agent2", "canned.delete"), ("agent2", "canned.update"), ("agent1", "canned.create")]


def test_seeding_again_brings_no_deleted_quick_reply_back(database, clock):
    from chatbot.storage.models import CannedReply
    from chatbot.storage.seed import seed_demo_bank

    with database.write() as db:
        db.query(CannedReply).filter(CannedReply.title == "结束语").delete()
    assert seed_demo_bank(database, DATA_DIR, clock.now()).canned_created == 0
    with database.read() as db:
        assert db.query(CannedReply).filter(CannedReply.title == "结束语").count() == 0


def test_quick_replies_refuse_bad_input(client, staff):
    agent = staff("agent1")
    for bad in ({"title": "", "text": "x"}, {"title": "t", "text": ""}, {"title": "t" * 65, "text": "x"},
                {"title": "t", "text": "x" * 1001}, {"title": "t"}, {"title": "   ", "text": "x"}, ["t", "x"]):
        response = client.post("/v1/agent/canned-replies", headers=agent, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert set(response.json()["error"]) == {"code", "message"}
    for bad in (NUL, SURROGATE):
        response = client.post("/v1/agent/canned-replies", content=_raw_json({"title": "t", "text": bad}),
                               headers={**agent, "Content-Type": "application/json"})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_characters"
    for reply_id in (HUGE, 0, -1):
        assert client.put(f"/v1/agent/canned-replies/{reply_id}", headers=agent,
                          json={"title": "t", "text": "x"}).status_code == 422
        assert client.delete(f"/v1/agent/canned-replies/{reply_id}", headers=agent).status_code == 422
    assert client.put(f"/v1/agent/canned-replies/{HUGE - 1}", headers=agent,
                      json={"title": "t", "text": "x"}).status_code == 404


# --- queue cards -------------------------------------------------------------------------------------

def test_queue_cards_name_the_customer_masked_and_count_their_lines(client, database, staff):
    agent = staff("agent1")
    _bind_zhang(database, "qc-1")
    say(client, "qc-1", "转人工")
    say(client, "qc-1", "我的卡被吞了")
    say(client, "qc-2", "人工客服")
    queue = {item["customer"]: item for item in client.get("/v1/agent/queue", headers=agent).json()["queue"]}
    assert set(queue) == {"张*", None}  # an unbound visitor has no name to show
    assert queue["张*"]["customer_messages"] == 2 and queue[None]["customer_messages"] == 1
    assert queue["张*"]["waiting_seconds"] == 0 and queue["张*"]["serving_seconds"] is None
    assert "张伟" not in str(queue)
    assert [masked_name(n) for n in ("张伟", "欧阳娜娜", "李", "")] == ["张*", "欧***", "李*", "客户"]


# --- private notes and transfer notes --------------------------------------------------------------

def _staff_id(services, username: str) -> int:
    from chatbot.storage import staff as staff_store

    with services.database.read() as db:
        return staff_store.by_username(db, username).id


def _customer_sees(client, user) -> str:
    history = client.get("/v1/chat/history", params={"user_id": user}).json()
    status = client.get("/v1/chat/status", params={"user_id": user}).json()
    return str(history) + str(status)


def test_private_notes_reach_agents_and_never_the_customer(backend, client, services, staff):
    from chatbot.handoff.events import agent_key, customer_key

    wang, li = staff("agent1"), staff("agent2")
    session_id = _queued_and_accepted(client, "pn-1", wang)
    wang_id, li_id = _staff_id(services, "agent1"), _staff_id(services, "agent2")
    to_customer = _events(services, [customer_key("web", "pn-1")])
    to_wang, to_li = _events(services, [agent_key(wang_id)]), _events(services, [agent_key(li_id)])

    url = f"/v1/agent/sessions/{session_id}/notes"
    note = client.post(url, headers=wang, json={"text": "老客户，卡号6222021000191234，情绪激动"})
    assert note.status_code == 201, note.text
    assert note.json()["note"]["kind"] == "note" and "6222021000191234" not in note.json()["note"]["text"]
    client.post(f"/v1/agent/sessions/{session_id}/messages", headers=wang, json={"text": "您好，请讲"})
    moved = client.post(f"/v1/agent/sessions/{session_id}/transfer", headers=wang,
                        json={"to": "agent2", "note": "TRANSFER-NOTE 需要核实挂失"})
    assert moved.status_code == 200
    say(client, "pn-1", "好的")

    view = client.get(f"/v1/agent/sessions/{session_id}", headers=li).json()
    assert [(n["kind"], n["agent"], n["to"]) for n in view["notes"]] == [("note", "小王", None),
                                                                        ("transfer", "小王", "小李")]
    assert [e.type for e in to_wang if e.type == "note"] == ["note"]
    assert [e.data["text"] for e in to_li if e.type == "note"] == ["TRANSFER-NOTE 需要核实挂失"]
    heard = str([e.to_json() for e in to_customer])
    assert "情绪激动" not in heard and "TRANSFER-NOTE" not in heard and "note" not in {e.type for e in to_customer}
    seen = _customer_sees(client, "pn-1")
    assert "情绪激动" not in seen and "TRANSFER-NOTE" not in seen and "您好，请讲" in seen
    admin = staff("admin")
    assert len(client.get(f"/v1/agent/sessions/{session_id}", headers=admin).json()["notes"]) == 2
    actions = [e["action"] for e in client.get("/v1/admin/audit", headers=admin).json()["entries"]]
    assert "handoff.note" in actions


def test_notes_refuse_other_agents_and_bad_input(client, staff):
    wang, li = staff("agent1"), staff("agent2")
    session_id = _queued_and_accepted(client, "pn-2", wang)
    url = f"/v1/agent/sessions/{session_id}/notes"
    other = client.post(url, json={"text": "我也来写"}, headers=li)
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_owner"
    for bad in ({"text": ""}, {"text": "   "}, {"text": "x" * 1001}, {}, {"text": 5}):
        response = client.post(url, headers=wang, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert set(response.json()["error"]) == {"code", "message"}
    for bad in (NUL, SURROGATE):
        for path, body in ((url, {"text": bad}),
                           (f"/v1/agent/sessions/{session_id}/transfer", {"to": "agent2", "note": bad})):
            response = client.post(path, content=_raw_json(body), headers={**wang, "Content-Type": "application/json"})
            assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_characters"
    too_long = client.post(f"/v1/agent/sessions/{session_id}/transfer", headers=wang,
                           json={"to": "agent2", "note": "x" * 1001})
    assert too_long.status_code == 422
    for session in (HUGE, 0, -3):
        assert client.post(f"/v1/agent/sessions/{session}/notes", headers=wang, json={"text": "x"}).status_code == 422
    assert client.post(f"/v1/agent/sessions/{HUGE - 1}/notes", headers=wang, json={"text": "x"}).status_code == 404
    assert client.get(f"/v1/agent/sessions/{session_id}", headers=wang).json()["notes"] == []  # nothing was kept


# --- presence ---------------------------------------------------------------------------------------

def test_only_agents_online_count_in_the_wait_estimate(backend, client, services, staff):
    from chatbot.handoff.events import customer_key

    wang = staff("agent1")
    client.get("/v1/agent/queue", headers=wang)  # the console is open: agent1 is there
    assert client.put("/v1/agent/presence", headers=wang, json={"status": "busy"}).json() == {"status": "busy"}
    queued = say(client, "pr-1", "转人工")
    assert "暂无人工客服在线" in queued["replies"][0]["text"]
    status = client.get("/v1/chat/status", params={"user_id": "pr-1"}).json()
    assert status["estimated_wait_minutes"] is None and status["agents_online"] == 0
    desk = client.get("/v1/agent/queue", headers=wang).json()
    agents = {a["username"]: a for a in desk["agents"]}
    assert desk["me"]["status"] == "busy" and desk["agents_online"] == 0
    assert (agents["agent1"]["status"], agents["agent1"]["online"]) == ("busy", False)
    assert agents["agent2"]["status"] == "offline"

    heard = _events(services, [customer_key("web", "pr-1")])
    client.put("/v1/agent/presence", headers=wang, json={"status": "online"})
    status = client.get("/v1/chat/status", params={"user_id": "pr-1"}).json()
    assert status["estimated_wait_minutes"] == 1 and status["agents_online"] == 1
    assert [(e.type, e.data["estimated_wait_minutes"]) for e in heard] == [("position", 1)]  # told at once


def test_nobody_is_transferred_to_an_agent_who_is_away(client, staff):
    wang, li = staff("agent1"), staff("agent2")
    session_id = _queued_and_accepted(client, "pr-2", wang)
    client.put("/v1/agent/presence", headers=li, json={"status": "away"})
    refused = client.post(f"/v1/agent/sessions/{session_id}/transfer", headers=wang, json={"to": "agent2"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "agent_away"
    assert "小李" in refused.json()["error"]["message"]
    client.put("/v1/agent/presence", headers=li, json={"status": "busy"})  # busy still takes a transfer
    assert client.post(f"/v1/agent/sessions/{session_id}/transfer", headers=wang, json={"to": "agent2"}).status_code == 200


def test_presence_refuses_bad_input(client, staff):
    agent = staff("agent1")
    for bad in ({"status": "offline"}, {"status": ""}, {"status": "BUSY"}, {}, {"status": 1}, {"status": "x" * 10000}):
        response = client.put("/v1/agent/presence", headers=agent, json=bad)
        assert response.status_code == 422 and set(response.json()["error"]) == {"code", "message"}, bad
    for bad in (NUL, SURROGATE):
        response = client.put("/v1/agent/presence", content=_raw_json({"status": bad}),
                              headers={**agent, "Content-Type": "application/json"})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_characters"
    assert client.get("/v1/agent/queue", headers=agent).json()["me"]["status"] == "online"


def test_the_customer_sees_which_agent_wrote(client, staff, services):
    """The page names the writer of each agent line (客服小王), in the history and the live event."""
    from chatbot.handoff.events import customer_key

    agent = staff("agent1")
    session_id = _queued_and_accepted(client, "named", agent)
    heard = []
    services.handoff.events.subscribe({customer_key("web", "named")}, heard.append)
    assert client.post(f"/v1/agent/sessions/{session_id}/messages", json={"text": "您好，我是客服"},
                       headers=agent).status_code == 200
    lines = client.get("/v1/chat/history", params={"user_id": "named"}).json()["messages"]
    assert lines[-1]["sender"] == "agent" and lines[-1]["agent"] == "小王"
    assert all("agent" not in line for line in lines if line["sender"] != "agent")
    assert any(e.type == "message" and e.data.get("agent") == "小王" for e in heard)


def test_the_serving_agent_typing_shows_on_the_customers_page_only(client, staff, services):
    from chatbot.handoff.events import customer_key

    agent, other = staff("agent1"), staff("agent2")
    session_id = _queued_and_accepted(client, "typed-to", agent)
    heard = []
    services.handoff.events.subscribe({customer_key("web", "typed-to")}, heard.append)
    assert client.post(f"/v1/agent/sessions/{session_id}/typing", headers=agent).status_code == 204
    assert [(e.type, e.data) for e in heard] == [("typing", {"agent": "小王"})]
    assert client.post(f"/v1/agent/sessions/{session_id}/typing", headers=other).status_code == 403
    assert client.post(f"/v1/agent/sessions/{session_id}/typing").status_code == 401
    assert client.post("/v1/agent/sessions/999999/typing", headers=agent).status_code == 404
    assert client.post(f"/v1/agent/sessions/{HUGE}/typing", headers=agent).status_code == 422
    assert len(heard) == 1  # refusals announce nothing
