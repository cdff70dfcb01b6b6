"""One-time codes and identity checks as an attacker would try them (issue 14, items 3–6),
and what the dialogue state keeps at rest. Driven through the engine (no HTTP)."""

import json
import re
from decimal import Decimal

from sqlalchemy import func, select

from chatbot.security.keys import phone_digest
from chatbot.storage import sms
from chatbot.storage.models import Account, Card, ChannelBinding, ChatSession, Customer, OneTimeCode

ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
WANG = {"name": "王芳", "id": "310115198806152046", "phone": "13900139000"}
LI = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


class Talk:
    def __init__(self, services, user_id: str, address: str | None = None) -> None:
        self.services = services
        self.user_id = user_id
        self.address = address
        self.reply = None

    def say(self, text: str) -> str:
        self.reply = self.services.engine.handle("web", self.user_id, text, address=self.address)
        return self.reply.text

    @property
    def session_id(self) -> int:
        return self.reply.session_id

    def raw_state(self) -> dict:
        with self.services.database.read() as db:
            return db.get(ChatSession, self.session_id).state


def inbox(services, phone: str) -> list[str]:
    """Texts sent to `phone`, newest first."""
    with services.database.read() as db:
        return [m.text for m in sms.read_inbox(db, phone, services.settings.secret_key)]


def sent(services, phone: str) -> int:
    """How many codes went to `phone` (the sandbox inbox keeps only recent texts)."""
    with services.database.read() as db:
        return db.scalar(select(func.count()).select_from(OneTimeCode).where(
            OneTimeCode.phone_hash == phone_digest(services.settings.secret_key, phone)))


def code(services, phone: str) -> str:
    return re.search(r"验证码 (\d{6})", inbox(services, phone)[0]).group(1)


def bind_directly(services, user_id: str, who: dict) -> Talk:
    """A web user already bound to `who` (no binding code sent)."""
    now = services.clock.now()
    with services.database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == who["name"])).one()
        db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer.id, bound_at=now,
                              last_used_at=now))
    return Talk(services, user_id)


def balance(services, tail: str):
    with services.database.read() as db:
        return db.scalar(select(Account.balance).join(Card, Card.account_id == Account.id)
                         .where(Card.card_no.like(f"%{tail}")))


def wrong(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def bound_to_transfer_code(services, user_id: str, text: str) -> Talk:
    talk = bind_directly(services, user_id, ZHANG)
    assert "请核对转账信息" in talk.say(text)
    assert "验证码已发送" in talk.say("确认")
    return talk


def start_bind(talk: Talk, who: dict, id_number: str | None = None) -> str:
    talk.say("绑定账户")
    talk.say(who["name"])
    return talk.say(id_number or who["id"])


# --- item 4: flooding ------------------------------------------------------------------------

def test_resending_is_limited_per_phone(services, clock):
    talk = bound_to_transfer_code(services, "flood", "给李娜转2元")
    for _ in range(20):
        assert talk.say("重新发送") == "验证码刚刚已发送，如未收到，请 60 秒后再回复“重新发送”。"
    assert len(inbox(services, ZHANG["phone"])) == 1
    clock.advance(seconds=61)
    assert "验证码已发送至" in talk.say("重新发送")
    assert len(inbox(services, ZHANG["phone"])) == 2
    assert "转账成功" in talk.say(code(services, ZHANG["phone"]))


def test_a_code_reply_without_a_usable_code_sends_nothing(services, clock):
    talk = bound_to_transfer_code(services, "used", "给李娜转2元")
    first = code(services, ZHANG["phone"])
    clock.advance(seconds=61)
    other = bound_to_transfer_code(services, "other-session", "给李娜转3元")  # retires the first code
    sent = len(inbox(services, ZHANG["phone"]))
    for attempt in (first, "123456"):
        reply = talk.say(attempt)
        assert "没有可用的验证码" in reply and "重新发送" in reply
    assert len(inbox(services, ZHANG["phone"])) == sent
    assert "转账成功" in other.say(code(services, ZHANG["phone"]))


def test_codes_per_phone_are_capped_per_day(services, clock):
    for n in range(10):
        bound_to_transfer_code(services, f"day-{n}", "给李娜转2元")
        clock.advance(seconds=61)
    talk = bind_directly(services, "day-10", ZHANG)
    talk.say("给李娜转2元")
    assert "验证码发送次数已达上限" in talk.say("确认")
    assert sent(services, ZHANG["phone"]) == 10


# --- item 5: a code confirms one operation -------------------------------------------------------

def test_a_code_completes_only_the_operation_it_was_sent_for(services, clock):
    bigger = bound_to_transfer_code(services, "session-b", "给李娜转2元")
    clock.advance(seconds=61)
    smaller = bound_to_transfer_code(services, "session-a", "给李娜转1元")
    sent_for_one_yuan = code(services, ZHANG["phone"])
    assert "向李娜（账号 **** 8888）转账 1.00 元" in inbox(services, ZHANG["phone"])[0]
    reply = bigger.say(sent_for_one_yuan)
    assert "转账成功" not in reply and "没有可用的验证码" in reply
    assert balance(services, "1234") == Decimal("52380.50")
    assert "转账成功" in smaller.say(sent_for_one_yuan)
    assert balance(services, "1234") == Decimal("52379.50")


# --- item 3: binding codes cannot be brute-forced -------------------------------------------------

def test_wrong_binding_codes_count_per_customer_not_per_chat_user(services, clock):
    first = Talk(services, "brute-1")
    assert "验证码已发送" in start_bind(first, ZHANG)
    right = code(services, ZHANG["phone"])
    for _ in range(4):
        assert "验证码不正确" in first.say(wrong(right))
    clock.advance(seconds=61)
    second = Talk(services, "brute-2")  # a fresh chat user gets no fresh tries
    assert "验证码已发送" in start_bind(second, ZHANG)
    assert "锁定" in second.say(wrong(code(services, ZHANG["phone"])))
    third = Talk(services, "brute-3")
    assert "锁定" in start_bind(third, ZHANG)
    assert len(inbox(services, ZHANG["phone"])) == 2


def test_binding_codes_per_phone_are_capped_per_day(services, clock):
    for n in range(11):
        reply = start_bind(Talk(services, f"bind-day-{n}"), ZHANG)
        clock.advance(minutes=15)
    # The cap holds, but binding says so in the words a mismatch gets (no oracle).
    assert "若姓名和身份证号与我行预留信息一致" in reply and "1 分钟后回复“重新发送”" in reply
    assert sent(services, ZHANG["phone"]) == 10


def test_a_busy_phone_does_not_tell_a_match_from_a_mismatch(services):
    """Binding 张伟 from one chat makes his phone busy for a minute; another chat trying his
    name and ID then gets the same words as one trying a wrong ID."""
    assert "验证码已发送" in start_bind(Talk(services, "owner"), ZHANG)
    right = start_bind(Talk(services, "prober-1"), ZHANG)
    wrong = start_bind(Talk(services, "prober-2"), {**ZHANG, "id": WANG["id"]})
    assert right.split("\n")[0] == wrong.split("\n")[0]
    assert "频繁" not in right and "上限" not in right
    assert sent(services, ZHANG["phone"]) == 1


def test_the_owner_binding_from_several_chats_is_not_locked_out(services, clock):
    """Only mismatches count against an ID number: six right bindings and one wrong one
    (the trial that locked 张伟 out for an hour) leave the next one free."""
    for n in range(6):
        start_bind(Talk(services, f"owner-{n}"), ZHANG)
        clock.advance(seconds=61)
    start_bind(Talk(services, "typo"), {**ZHANG, "name": "张玮"})
    clock.advance(seconds=61)
    assert "尝试次数过多" not in start_bind(Talk(services, "owner-again"), ZHANG)


# --- item 6: name + ID number is no oracle ---------------------------------------------------------

def test_a_wrong_identity_gets_the_same_answer_and_its_code_fails_like_any(services):
    right, wrong_one = Talk(services, "oracle-right"), Talk(services, "oracle-wrong")
    answer = start_bind(right, WANG)
    assert start_bind(wrong_one, WANG, ZHANG["id"]) == answer  # someone else's ID number
    assert "9000" not in answer and "8000" not in answer
    assert len(inbox(services, WANG["phone"])) == 1 and inbox(services, ZHANG["phone"]) == []
    assert wrong_one.say("123456") == right.say(wrong(code(services, WANG["phone"])))
    assert inbox(services, ZHANG["phone"]) == []


def make_id(n: int) -> str:
    """A checksum-valid ID number that belongs to nobody in the demo bank."""
    body = f"3201021990{n:07d}"
    total = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return body + "10X98765432"[total % 11]


def _checks(talk: Talk, id_numbers) -> list[str]:
    replies = []
    for id_number in id_numbers:
        talk.say("取消")
        replies.append(start_bind(talk, {"name": "王芳"}, id_number))
    return replies


def test_identity_checks_are_limited_per_chat_user(services):
    ids = [make_id(1), make_id(2), WANG["id"], make_id(3), make_id(4), make_id(5)]
    replies = _checks(Talk(services, "prober"), ids)
    assert all("验证码已发送" in r for r in replies[:5])
    assert "身份核验尝试次数过多" in replies[5] and "验证码已发送" not in replies[5]
    assert len(inbox(services, WANG["phone"])) == 1  # the one right guess; nothing tells it apart


def test_identity_checks_are_limited_per_target_id_number(services, clock):
    replies = []
    for n in range(6):
        replies.append(start_bind(Talk(services, f"target-{n}"), {"name": "王芳"}, ZHANG["id"]))
        clock.advance(seconds=61)
    assert all("验证码已发送" in r for r in replies[:5])
    assert "身份核验尝试次数过多" in replies[5]
    assert "验证码已发送" in start_bind(Talk(services, "target-other"), WANG)


def test_identity_checks_are_limited_per_client_address(services):
    replies = [start_bind(Talk(services, f"addr-{n}", "203.0.113.7"), {"name": "赵六"}, make_id(n))
               for n in range(21)]
    assert all("验证码已发送" in r for r in replies[:20])
    assert "身份核验尝试次数过多" in replies[20]
    assert "验证码已发送" in start_bind(Talk(services, "addr-elsewhere", "198.51.100.1"), {"name": "赵六"},
                                     make_id(99))


# --- state at rest --------------------------------------------------------------------------------

def test_id_and_account_numbers_are_not_kept_in_the_clear(services):
    talk = Talk(services, "at-rest")
    talk.say("绑定账户")
    talk.say(f"身份证号 {ZHANG['id']}")  # the ID first, the name after
    assert ZHANG["id"] not in json.dumps(talk.raw_state(), ensure_ascii=False)
    assert "验证码已发送" in talk.say("张伟")
    assert ZHANG["id"] not in json.dumps(talk.raw_state(), ensure_ascii=False)
    assert "绑定成功" in talk.say(code(services, ZHANG["phone"]))
    talk.say("给王芳转500")
    talk.say("6222021000584321")
    raw = json.dumps(talk.raw_state(), ensure_ascii=False)
    assert "6222021000584321" not in raw and "**** 4321" in raw
    assert "收款人：王芳（账号 **** 4321）" in talk.reply.text
    talk.say("确认")
    assert "转账成功" in talk.say(code(services, ZHANG["phone"]))
    raw = json.dumps(talk.raw_state(), ensure_ascii=False)
    assert "6222021000584321" not in raw and ZHANG["id"] not in raw
