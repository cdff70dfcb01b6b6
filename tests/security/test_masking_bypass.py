"""Masking cannot be dodged by separators the parser looks through, and codes and passwords
customers type are not kept (issue 14, item 7)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from chatbot.security.masking import (
    PASSWORD_REMINDER,
    mask_customer_text,
    mask_entities,
    mask_text,
    mentions_password,
)
from chatbot.storage.models import TurnLog

ID, PHONE, CARD = "110105199003071239", "13800138000", "6222021000191234"
MASKED = {ID: "1101**********1239", PHONE: "138****8000", CARD: "**** 1234"}
SEPARATORS = {
    "zero-width space": "\u200b", "word joiner": "\u2060", "nbsp": "\u00a0", "dot": ".",
    "slash": "/", "full-width space": "\u3000", "full-width hyphen": "\uff0d", "hyphen": "-",
    "unicode hyphen": "\u2010", "space": " ", "two zero-width": "\u200b\u200c",
}


def _split(number: str, sep: str) -> str:
    return sep.join([number[:3], number[3:7], number[7:11], number[11:15], number[15:]]).strip(sep)


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
@pytest.mark.parametrize("number", [ID, PHONE, CARD], ids=["id", "phone", "card"])
def test_separators_inside_numbers_do_not_hide_them(number, sep):
    for written in (_split(number, sep), _full_width(_split(number, sep))):
        masked = mask_text(f"我的号码是{written}，谢谢")
        assert masked == f"我的号码是{MASKED[number]}，谢谢", (written, masked)


def test_rest_of_the_text_stays_as_typed():
    text = "您好\u200b！我的手机 138\u200b0013\u200b8000 ，日期 2024-03-07 金额 12000.00 元"
    assert mask_text(text) == "您好\u200b！我的手机 138****8000 ，日期 2024-03-07 金额 12000.00 元"


def test_dates_amounts_and_references_are_not_numbers_to_mask():
    for text in ("2024-03-07 -12000.00 元", "2026/11/24 12:30", "52,380.50 元", "流水号 T20261124-000123",
                 "热线 95588", "400-820-8888"):
        assert mask_text(text) == text


def test_two_phones_side_by_side_are_masked_one_by_one():
    assert mask_text("13800138000 13900139000") == "138****8000 139****9000"


@pytest.mark.parametrize("text", ["我的密码是123456", "登录密码：abc12345", "PIN 9876", "取款密码 1 2 3 4 5 6"])
def test_passwords_are_masked_and_noticed(text):
    masked = mask_customer_text(text)
    assert not any(ch.isdigit() for ch in masked.split("码")[-1].replace("PIN", "")), masked
    assert "******" in masked and mentions_password(text)


@pytest.mark.parametrize("text", ["忘记密码怎么办", "密码是多少位", "怎么修改密码", "验证码 189949"])
def test_talk_about_passwords_is_not_a_password(text):
    assert not mentions_password(text)


def test_codes_are_masked():
    assert mask_customer_text("189949") == "******"
    assert mask_customer_text(" 189 949 ") == " ****** "
    assert mask_customer_text("验证码是189949") == "验证码是******"
    assert mask_customer_text("动态密码 189949") == "动态密码 ******"
    assert mask_entities([{"entity": "otp", "value": "189949", "start": 0, "end": 6}]) == [
        {"entity": "otp", "value": "******", "start": 0, "end": 6}]
    assert mask_customer_text("转账100000元") == "转账100000元"


# --- through the service ----------------------------------------------------------------------

def _turns(services, user_id):
    with services.database.read() as db:
        return db.scalars(select(TurnLog).where(TurnLog.user_id == user_id).order_by(TurnLog.id)).all()


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_history_and_turn_log_hold_masked_numbers(client, services, sep):
    user = f"mask-{abs(hash(sep))}"
    texts = [f"我的身份证{_split(ID, sep)}", f"手机{_split(PHONE, sep)}", f"卡号{_full_width(_split(CARD, sep))}"]
    for text in texts:
        assert client.post("/v1/chat", json={"user_id": user, "text": text}).status_code == 200
    history = client.get("/v1/chat/history", params={"user_id": user}).json()["messages"]
    said = [m["text"] for m in history if m["sender"] == "user"]
    assert said == [f"我的身份证{MASKED[ID]}", f"手机{MASKED[PHONE]}", f"卡号{MASKED[CARD]}"]
    stored = _turns(services, user)
    assert [t.text for t in stored] == said
    for turn in stored:
        dumped = repr(turn.entities) + repr(turn.steps) + repr(turn.replies)
        for number in (ID, PHONE, CARD, ID[:14], PHONE[3:]):
            assert number not in dumped.replace(sep, "")


def test_codes_and_passwords_are_not_kept_and_the_customer_is_warned(client, services):
    user = "mask-secrets"
    first = client.post("/v1/chat", json={"user_id": user, "text": "我的密码是123456"}).json()
    assert first["replies"][-1]["text"] == PASSWORD_REMINDER
    client.post("/v1/chat", json={"user_id": user, "text": "验证码189949"})
    client.post("/v1/chat", json={"user_id": user, "text": "189949"})
    history = client.get("/v1/chat/history", params={"user_id": user}).json()["messages"]
    assert [m["text"] for m in history if m["sender"] == "user"] == [
        "我的密码是******", "验证码******", "******"]
    for turn in _turns(services, user):
        assert "123456" not in repr(turn.__dict__) and "189949" not in repr(turn.__dict__)
        assert all(e["value"] == "******" for e in turn.entities if e["entity"] == "otp")


def test_agent_console_and_live_events_show_masked_numbers(client, services):
    """What a queued customer types reaches the console and the agents' event stream masked."""
    seen = []
    subscription = services.engine.events.subscribe(["agents"], seen.append)
    try:
        client.post("/v1/chat", json={"user_id": "mask-agent", "text": "转人工"})
        typed = f"我的卡号{_split(CARD, chr(0x2060))}，手机{_split(PHONE, '.')}，验证码189949"
        assert client.post("/v1/chat", json={"user_id": "mask-agent", "text": typed}).status_code == 200
    finally:
        subscription.close()
    login = client.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"}).json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    queue = client.get("/v1/agent/queue", headers=headers).json()
    view = client.get(f"/v1/agent/sessions/{queue['queue'][0]['session_id']}", headers=headers).json()
    shown = repr(view) + repr(queue) + repr([e.data for e in seen])
    assert f"我的卡号{MASKED[CARD]}，手机{MASKED[PHONE]}，验证码******" in repr(view)
    for secret in ("189949", "8000", "0019"):
        assert secret not in shown.replace(MASKED[PHONE], "").replace("**** 1234", "")
