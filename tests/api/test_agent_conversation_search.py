"""Search and filters over past conversations (历史会话, issue 22): words in the masked
transcript, customer, Beijing days, channel, how it ended, reason, rating, serving agent;
paging; an agent finds their own, an admin all; every attacker's input is a 422 JSON error."""
from datetime import datetime

import pytest

from chatbot.clock import BANK_TZ
from chatbot.storage.models import Handoff
from tests.api.test_agent_api import _bind_zhang, say
from tests.api.test_agent_console_features import staff  # noqa: F401  (fixture)
from tests.api.test_hardening import HUGE

URL = "/v1/agent/conversations"


def _served(client, user, agent, lines, end="close", reply="您好，请讲") -> int:
    session_id = say(client, user, "转人工")["session_id"]
    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    for line in lines:
        say(client, user, line)
    client.post(f"/v1/agent/sessions/{session_id}/messages", headers=agent, json={"text": reply})
    assert client.post(f"/v1/agent/sessions/{session_id}/{end}", headers=agent).status_code == 200
    return session_id


def _set_ticket(database, session_id, **values) -> None:
    with database.write() as db:
        ticket = db.query(Handoff).filter(Handoff.session_id == session_id).one()
        for name, value in values.items():
            setattr(ticket, name, value)


@pytest.fixture
def past(client, database, staff):  # noqa: F811
    """Three past conversations: 张伟's (小王, closed, rated 5), a visitor's (小李, released,
    five days earlier) and a complaint (小王, closed, 40 days earlier)."""
    wang, li = staff("agent1"), staff("agent2")
    _bind_zhang(database, "hs-zhang")
    zhang = _served(client, "hs-zhang", wang, ["信用卡年费怎么收", "卡号6222021000191234"])
    _set_ticket(database, zhang, rating=5)
    visitor = _served(client, "hs-visitor", li, ["转账失败了怎么办"], end="release", reply="已为您查询年费")
    _set_ticket(database, visitor, ended_at=datetime(2026, 11, 19, 0, 30, tzinfo=BANK_TZ))
    old = _served(client, "hs-old", wang, ["我要投诉网点"])
    _set_ticket(database, old, reason="complaint", ended_at=datetime(2026, 10, 15, 12, 0, tzinfo=BANK_TZ))
    return {"zhang": zhang, "visitor": visitor, "old": old, "wang": wang, "li": li, "admin": staff("admin")}


def _ids(client, headers, **params) -> list[int]:
    response = client.get(URL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [r["session_id"] for r in response.json()["results"]]


def test_filters_find_what_they_say(backend, client, past):  # SQLite and PostgreSQL
    admin, p = past["admin"], past
    assert _ids(client, admin) == [p["zhang"], p["visitor"]]  # newest end first, the last 30 days
    assert _ids(client, admin, q="年费") == [p["zhang"], p["visitor"]]  # the customer's or the agent's words
    assert _ids(client, admin, q="年费 信用卡") == [p["zhang"]]  # every word
    assert _ids(client, admin, q="6222021000191234") == []  # stored masked: the full number is nowhere
    assert _ids(client, admin, q="100%") == [] and _ids(client, admin, q="_") == []  # LIKE's characters literal
    assert _ids(client, admin, customer="张*") == [p["zhang"]]
    assert _ids(client, admin, customer="hs-visitor") == [p["visitor"]]
    assert _ids(client, admin, status="released") == [p["visitor"]]
    assert _ids(client, admin, rating=5) == [p["zhang"]]
    assert _ids(client, admin, agent="agent2") == [p["visitor"]]
    assert _ids(client, admin, agent="nobody") == []
    assert _ids(client, admin, channel="wechat") == []
    assert _ids(client, admin, **{"from": "2026-11-19", "to": "2026-11-19"}) == [p["visitor"]]  # Beijing days
    assert _ids(client, admin, **{"from": "2026-10-01", "to": "2026-10-31"}, reason="complaint") == [p["old"]]
    body = client.get(URL, headers=admin, params={"q": "年费"}).json()
    first = body["results"][0]
    assert body["words"] == ["年费"] and body["from"] == "2026-10-26" and body["to"] == "2026-11-24"
    assert first["customer"] == "张*" and first["agent"] == "小王" and first["status"] == "closed"
    assert "年费" in first["match"]["text"] and first["messages"] >= 4
    assert "张伟" not in str(body) and "6222021000191234" not in str(body)


def test_an_agent_finds_the_sessions_they_served_only(client, past):
    assert _ids(client, past["wang"]) == [past["zhang"]]
    assert _ids(client, past["li"]) == [past["visitor"]]
    assert _ids(client, past["li"], agent="agent1") == []  # not theirs to open
    assert client.get(URL, headers=past["wang"]).json()["scope"] == "mine"
    for session_id in _ids(client, past["li"]):  # what they find, they can open
        assert client.get(f"/v1/agent/sessions/{session_id}", headers=past["li"]).status_code == 200


def test_paging_is_newest_first_and_capped(client, past):
    admin = past["admin"]
    window = {"from": "2026-10-01", "to": "2026-11-24"}
    pages, offset = [], 0
    while offset is not None:
        body = client.get(URL, headers=admin, params={**window, "limit": 1, "offset": offset}).json()
        pages += [r["session_id"] for r in body["results"]]
        offset = body["next_offset"]
    assert pages == [past["zhang"], past["visitor"], past["old"]]
    for params in ({"limit": 0}, {"limit": 51}, {"offset": -1}, {"offset": 1001}):
        assert client.get(URL, headers=admin, params=params).status_code == 422, params


@pytest.mark.parametrize("params", [
    {"from": "2026-13-01"}, {"from": "yesterday"}, {"from": "2026-11-24", "to": "2026-11-01"},
    {"from": "2026-01-01", "to": "2026-11-24"}, {"from": "9999-12-31"}, {"to": "0001-01-01"},
    {"rating": 6}, {"rating": HUGE}, {"offset": HUGE}, {"limit": HUGE},
    {"channel": "sms"}, {"status": "active"}, {"reason": "DROP TABLE"}, {"agent": "a' OR 1=1 --"},
    {"q": "字" * 101}, {"q": "很长的一个搜索词超过了二十个字的限制所以应当被拒绝"}, {"q": "a b c d e f"},
    {"customer": "x" * 65}, {"q": "a\x00b"}, {"customer": "a\x00"},
])
def test_bad_filters_are_422_json(client, staff, params):  # noqa: F811
    response = client.get(URL, headers=staff("admin"), params=params)
    assert response.status_code == 422, (params, response.text)
    assert response.json()["error"]["code"]


def test_lone_surrogates_never_reach_sql(client, staff):  # noqa: F811
    for raw in ("q=%ED%A0%80", "customer=%ED%A0%80abc"):  # a lone surrogate, UTF-8 encoded
        response = client.get(f"{URL}?{raw}", headers=staff("admin"))
        assert response.status_code in (200, 422) and response.headers["content-type"].startswith("application/json")


def test_strangers_and_other_roles_are_refused(client, past, staff):  # noqa: F811
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=staff("analyst")).status_code == 403
    customer_token = say(client, "hs-stranger", "你好")["user_token"]
    assert client.get(URL, headers={"Authorization": f"Bearer {customer_token}"}).status_code == 401
    assert client.get(URL, headers=past["admin"], params={"agent": "agent1"}).status_code == 200


def test_days_are_beijing_days(client, past):
    """00:30 on the 19th in Beijing is the 18th in UTC: it counts on the 19th."""
    admin = past["admin"]
    assert _ids(client, admin, **{"from": "2026-11-19", "to": "2026-11-19"}) == [past["visitor"]]
    assert _ids(client, admin, **{"from": "2026-11-18", "to": "2026-11-18"}) == []
