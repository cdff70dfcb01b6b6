"""One-time codes: 6 digits, 5 minutes, single use, 5 wrong tries lock for 15 minutes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from chatbot.security.keys import phone_digest
from chatbot.security.otp import OtpService
from chatbot.storage import sms
from chatbot.storage.models import OneTimeCode
from chatbot.tools.sms import RecordingSms, SandboxSms

SUBJECT, PURPOSE, PHONE = "customer:1", "transfer", "13800138000"


@pytest.fixture
def outbox() -> RecordingSms:
    return RecordingSms()


@pytest.fixture
def otp(outbox) -> OtpService:
    return OtpService("test-secret", outbox)


def _issue(database, otp, outbox, clock, purpose=PURPOSE) -> str:
    with database.write() as db:
        issued = otp.issue(db, SUBJECT, purpose, PHONE, clock.now(), "转账")
    assert issued.sent and issued.expires_at == clock.now() + timedelta(minutes=5)
    return re.search(r"验证码 (\d{6})，", outbox.last.text).group(1)


def _verify(database, otp, clock, code, purpose=PURPOSE):
    with database.write() as db:
        return otp.verify(db, SUBJECT, purpose, code, clock.now())


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_issue_sends_a_text_and_stores_only_a_hash(backend, database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    assert outbox.last.phone == PHONE and outbox.last.at == clock.now()
    assert outbox.last.text == (f"【示例银行】验证码 {code}，用于转账，5 分钟内有效。"
                                "请勿将验证码告诉任何人，银行工作人员不会向您索要。")
    with database.read() as db:
        (row,) = db.scalars(select(OneTimeCode)).all()
    assert code not in row.code_hash and row.attempts == 0
    assert row.phone_hash == phone_digest("test-secret", PHONE) and PHONE not in row.phone_hash
    check = _verify(database, otp, clock, code)
    assert (check.status, check.ok, check.remaining_attempts) == ("ok", True, 5)


def test_a_code_is_single_use(backend, database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    assert _verify(database, otp, clock, code).ok
    assert _verify(database, otp, clock, code).status == "missing"


def test_nothing_issued_is_missing_and_purposes_are_separate(database, otp, outbox, clock):
    assert _verify(database, otp, clock, "123456").status == "missing"
    code = _issue(database, otp, outbox, clock, purpose="report_loss")
    assert _verify(database, otp, clock, code, purpose=PURPOSE).status == "missing"
    assert _verify(database, otp, clock, code, purpose="report_loss").ok


def test_a_code_expires_after_five_minutes(database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    clock.advance(minutes=4, seconds=59)
    assert _verify(database, otp, clock, _wrong(code)).status == "wrong"
    clock.advance(seconds=1)
    check = _verify(database, otp, clock, code)
    assert (check.status, check.remaining_attempts) == ("expired", 4)


def test_a_new_code_replaces_the_old_one(database, otp, outbox, clock):
    old = _issue(database, otp, outbox, clock)
    new = _issue(database, otp, outbox, clock)
    if old != new:  # one in a million they are equal
        assert _verify(database, otp, clock, old).status == "wrong"
    assert _verify(database, otp, clock, new).ok


def test_five_wrong_tries_lock_for_fifteen_minutes(backend, database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    remaining = [_verify(database, otp, clock, _wrong(code)).remaining_attempts for _ in range(4)]
    assert remaining == [4, 3, 2, 1]
    locked = _verify(database, otp, clock, _wrong(code))
    assert (locked.status, locked.remaining_attempts) == ("locked", 0)
    assert locked.locked_until == clock.now() + timedelta(minutes=15)
    assert _verify(database, otp, clock, code).status == "locked"  # even the right code
    with database.write() as db:
        refused = otp.issue(db, SUBJECT, PURPOSE, PHONE, clock.now(), "转账")
    assert (refused.status, refused.locked_until) == ("locked", locked.locked_until)
    assert len(outbox.messages) == 1
    clock.advance(minutes=14, seconds=59)
    assert _verify(database, otp, clock, code).status == "locked"
    clock.advance(seconds=1)
    assert _verify(database, otp, clock, code).status == "expired"
    fresh = _issue(database, otp, outbox, clock)
    assert _verify(database, otp, clock, fresh).ok


def test_asking_for_a_new_code_does_not_reset_the_wrong_tries(database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    for _ in range(3):
        _verify(database, otp, clock, _wrong(code))
    code = _issue(database, otp, outbox, clock)
    assert _verify(database, otp, clock, _wrong(code)).remaining_attempts == 1
    assert _verify(database, otp, clock, _wrong(code)).status == "locked"


def test_old_wrong_tries_are_forgotten_after_the_lock_period(database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    for _ in range(4):
        _verify(database, otp, clock, _wrong(code))
    clock.advance(minutes=15)
    code = _issue(database, otp, outbox, clock)
    assert _verify(database, otp, clock, _wrong(code)).remaining_attempts == 4


def test_codes_are_six_digits_and_vary(database, otp, outbox, clock):
    codes = {_issue(database, otp, outbox, clock) for _ in range(20)}
    assert len(codes) > 15 and all(re.fullmatch(r"\d{6}", c) for c in codes)


def test_sandbox_gateway_writes_the_inbox(backend, database, clock):
    with database.write() as db:
        OtpService("test-secret", SandboxSms(db, "test-secret")).issue(db, SUBJECT, PURPOSE, PHONE, clock.now(), "挂失")
    with database.read() as db:
        (message,) = sms.read_inbox(db, PHONE, "test-secret")
    assert message.text.startswith("【示例银行】验证码 ") and "用于挂失" in message.text
    assert message.sent_at == clock.now()


def test_a_different_secret_rejects_the_code(database, otp, outbox, clock):
    code = _issue(database, otp, outbox, clock)
    with database.write() as db:
        assert OtpService("other-secret", outbox).verify(db, SUBJECT, PURPOSE, code, clock.now()).status == "wrong"
