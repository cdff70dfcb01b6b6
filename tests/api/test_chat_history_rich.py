"""`GET /v1/chat/history?rich=true`: each bot line carries the reply item it was, so a
reloaded page draws the cards, tables, links and buttons again (api/rich_history.py);
without the flag the history is DESIGN.md's plain lines, unchanged."""
from datetime import timedelta
from types import SimpleNamespace

import pytest

from api.rich_history import match
from tests.api.test_rich_replies import _bind


def _chat(client, user, text):
    response = client.post("/v1/chat", json={"user_id": user, "text": text, "rich": True})
    assert response.status_code == 200, response.text
    return response.json()["replies"]


def _history(client, user, **params):
    response = client.get("/v1/chat/history", params={"user_id": user, **params})
    assert response.status_code == 200, response.text
    return response.json()["messages"]


@pytest.mark.usefixtures("backend")  # SQLite and PostgreSQL: the turn log's JSON and times read back alike
def test_the_rich_history_gives_every_bot_line_its_item(client, database):
    _bind(database, "hist-rich")
    said = []
    for words in ("你好", "有什么理财产品", "储蓄卡余额", "金卡和白金卡有什么区别", "给李娜转500"):
        said += _chat(client, "hist-rich", words)
    lines = _history(client, "hist-rich", rich="true")
    bots = [line for line in lines if line["sender"] == "bot"]
    assert [line["text"] for line in bots] == [item["text"] for item in said]
    for line, item in zip(bots, said):
        if item["type"] == "text" and set(item) == {"type", "text"}:
            assert "item" not in line  # a plain answer stays a plain line
        else:
            assert line["item"] == item, line
    kinds = {line["item"]["type"] for line in bots if "item" in line}
    assert {"quick_replies", "card", "table", "buttons"} <= kinds
    assert all("item" not in line for line in lines if line["sender"] == "user")
    # Paging: only the lines after the id, each still with its item.
    later = _history(client, "hist-rich", rich="true", after=lines[-3]["id"])
    assert [line["id"] for line in later] == [line["id"] for line in lines[-2:]]
    assert later[-1]["item"]["type"] == "buttons"
    _chat(client, "hist-rich", "取消")


def test_without_the_flag_the_history_is_the_plain_contract(client):
    _chat(client, "hist-plain", "有什么理财产品")
    for line in _history(client, "hist-plain") + _history(client, "hist-plain", rich="false"):
        assert set(line) == {"id", "sender", "text", "at"}


def test_the_same_words_twice_keep_their_own_items(client):
    first = _chat(client, "hist-twice", "你好")
    second = _chat(client, "hist-twice", "你好")
    bots = [line for line in _history(client, "hist-twice", rich="true") if line["sender"] == "bot"]
    assert [line["item"] for line in bots] == first + second


def _row(id, sender, text, at, session=1):
    return SimpleNamespace(id=id, sender=sender, text=text, created_at=at, session_id=session)


def _turn(id, at, replies, session=1):
    return SimpleNamespace(id=id, created_at=at, replies=replies, session_id=session)


def test_matching_passes_over_items_whose_lines_are_not_in_the_page(clock):
    start = clock.now()
    card = {"type": "card", "text": "余额", "title": "账户余额", "rows": []}
    later = start + timedelta(minutes=5)
    rows = [_row(10, "user", "余额", later), _row(11, "bot", "余额", later), _row(12, "agent", "余额", later)]
    lines = [{"id": r.id, "text": r.text} for r in rows]
    # The first turn's card belongs to a line before the page; the second turn's is this line's.
    again = {**card, "buttons": [{"label": "转账", "send": "转账"}]}
    match(rows, lines, [_turn(2, later, ["好的", again]), _turn(1, start, [card])])
    assert "item" not in lines[0] and lines[1]["item"] is again and "item" not in lines[2]
    other = [{"id": 11, "text": "余额"}]
    match([_row(11, "bot", "余额", later, session=2)], other, [_turn(2, later, [again])])
    assert "item" not in other[0]  # another session's turn never lends its items
