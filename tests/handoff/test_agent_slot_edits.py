"""An agent's slot edits with the real policy: checked like customer input, read back in full
and confirmed again by the customer before a new code; never able to wedge the conversation."""
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from chatbot.errors import InvalidInput
from chatbot.security.staff_auth import Staff
from chatbot.storage import sms
from chatbot.storage.models import Account, Card, ChannelBinding, ChatMessage, ChatSession, Customer, StaffUser

WANG_PHONE = "13900139000"


def _agent(services) -> Staff:
    with services.database.read() as db:
        row = db.scalars(select(StaffUser).where(StaffUser.username == "agent1")).one()
        return Staff(row.id, row.username, row.display_name, row.role)


def _say(services, text: str):
    return services.engine.handle("web", "wang", text)


def _newest_sms(services) -> str:
    with services.database.read() as db:
        return sms.read_inbox(db, WANG_PHONE, services.settings.secret_key)[0].text


def _balance(services, tail: str) -> Decimal:
    with services.database.read() as db:
        return db.scalar(select(Account.balance).join(Card, Card.account_id == Account.id)
                         .where(Card.card_no.like(f"%{tail}")))


def _state(services, session_id) -> dict:
    with services.database.read() as db:
        return db.get(ChatSession, session_id).state


@pytest.fixture
def confirmed(services):
    """王芳 confirmed 1.00 to 李娜 (account **** 8888), got a code, then asked for a person who took it."""
    now = services.clock.now()
    with services.database.write() as db:
        wang = db.scalars(select(Customer).where(Customer.name == "王芳")).one()
        db.add(ChannelBinding(channel="web", user_id="wang", customer_id=wang.id, bound_at=now, last_used_at=now))
    assert "请核对转账信息" in _say(services, "给李娜转1元，卡号6222021000708888").text
    assert "验证码已发送" in _say(services, "确认").text
    assert "向李娜（账号 **** 8888）转账 1.00 元" in _newest_sms(services)
    old_code = re.search(r"验证码 (\d{6})", _newest_sms(services)).group(1)
    session_id = _say(services, "转人工").session_id
    agent = _agent(services)
    services.handoff.desk.accept(agent, session_id)
    return agent, session_id, old_code


def test_a_redirected_transfer_is_read_back_in_full_and_confirmed_again(services, clock, confirmed):
    agent, session_id, old_code = confirmed
    desk = services.handoff.desk
    body = desk.set_slots(agent, session_id, {"payee": "张伟", "payee_account": "6222021000191234", "amount": "2"}, True)
    assert body["state"]["step"] == "collect" and "6222021000191234" not in json.dumps(body, ensure_ascii=False)
    desk.release(agent, session_id)
    with services.database.read() as db:
        notice = db.scalars(select(ChatMessage.text).where(ChatMessage.session_id == session_id)
                            .order_by(ChatMessage.id.desc())).first()
    assert "收款人：张伟（账号 **** 1234）" in notice and "付款卡：储蓄卡 **** 4321" in notice
    assert "金额：2.00 元（贰元整）" in notice and "确认" in notice
    assert _state(services, session_id)["step"] == "confirm"
    assert "转账成功" not in _say(services, old_code).text  # the code sent before the edit is void
    assert _balance(services, "4321") == Decimal("8000.00")
    clock.advance(seconds=61)
    assert "验证码已发送" in _say(services, "确认").text
    assert "向张伟（账号 **** 1234）转账 2.00 元" in _newest_sms(services)
    new_code = re.search(r"验证码 (\d{6})", _newest_sms(services)).group(1)
    assert "转账成功" in _say(services, new_code).text
    assert _balance(services, "4321") == Decimal("7998.00")


@pytest.mark.parametrize("values", [
    {"payee": "oops"}, {"amount": "NaN"}, {"amount": float("nan")}, {"amount": float("inf")}, {"amount": -100},
    {"amount": "-100"}, {"amount": "0"}, {"amount": "100.555"}, {"amount": "60000"}, {"amount": True},
    {"payee_account": "6222021000191234"},  # 张伟's card under the name 李娜
    {"payee": "张伟", "payee_account": "6222021000708888"},  # 李娜's card under the name 张伟
    {"from_tail": "1234"}, {"otp": "123456"}, {"identity_verified": True},
])
def test_a_refused_edit_changes_nothing_and_the_customer_goes_on(services, clock, confirmed, values):
    agent, session_id, old_code = confirmed
    before = _state(services, session_id)
    with pytest.raises(InvalidInput):
        services.handoff.desk.set_slots(agent, session_id, values, True)
    assert _state(services, session_id) == before
    services.handoff.desk.release(agent, session_id)
    assert "转账成功" in _say(services, old_code).text  # the customer's own confirmation still stands
    assert _balance(services, "8888") == Decimal("1001.00")


def test_the_unknown_slot_error_names_the_allowed_ones(services, confirmed):
    agent, session_id, _ = confirmed
    with pytest.raises(InvalidInput) as info:
        services.handoff.desk.set_slots(agent, session_id, {"to_account": "6222021000191234"}, True)
    assert info.value.code == "unknown_slot"
    assert all(name in info.value.message for name in ("payee", "payee_account", "amount"))
