"""A code confirms the operation it was sent for; decoys and retired codes (issue 14, item 5)."""
from __future__ import annotations

import re

from sqlalchemy import select

from chatbot.security.otp import OtpService
from chatbot.storage.models import OneTimeCode
from chatbot.tools.sms import RecordingSms

SUBJECT, PURPOSE, PHONE = "customer:1", "transfer.create", "13800138000"


def _issue(database, otp, outbox, clock, operation, phone=PHONE) -> str | None:
    with database.write() as db:
        assert otp.issue(db, SUBJECT, PURPOSE, phone, clock.now(), "转账", operation).sent
    return re.search(r"验证码 (\d{6})", outbox.last.text).group(1) if phone else None


def _verify(database, otp, clock, code, operation):
    with database.write() as db:
        return otp.verify(db, SUBJECT, PURPOSE, code, clock.now(), operation)


def test_a_code_for_another_operation_is_missing_and_costs_no_try(database, clock):
    outbox = RecordingSms()
    otp = OtpService("test-secret", outbox)
    code = _issue(database, otp, outbox, clock, "flow-a|李娜|8888|1.00")
    with database.read() as db:
        stored = db.scalars(select(OneTimeCode.operation)).one()
    assert len(stored) == 64 and "李娜" not in stored  # a keyed digest, not the details
    check = _verify(database, otp, clock, code, "flow-b|李娜|8888|2.00")
    assert (check.status, check.remaining_attempts) == ("missing", 5)
    assert _verify(database, otp, clock, code, None).status == "missing"
    assert _verify(database, otp, clock, code, "flow-a|李娜|8888|1.00").ok


def test_a_decoy_sends_nothing_and_is_never_right_but_counts_tries(database, clock):
    outbox = RecordingSms()
    otp = OtpService("test-secret", outbox)
    _issue(database, otp, outbox, clock, "op", phone=None)
    assert outbox.messages == []
    statuses = [_verify(database, otp, clock, f"{n:06d}", "op").status for n in range(5)]
    assert statuses == ["wrong"] * 4 + ["locked"]


def test_retired_codes_expire_and_keep_their_wrong_tries(database, clock):
    outbox = RecordingSms()
    otp = OtpService("test-secret", outbox)
    code = _issue(database, otp, outbox, clock, "op")
    for n in range(3):
        _verify(database, otp, clock, f"{(int(code) + 1 + n) % 1_000_000:06d}", "op")
    with database.write() as db:
        otp.retire(db, SUBJECT, PURPOSE, clock.now())
    assert _verify(database, otp, clock, code, "op").status == "expired"
    code = _issue(database, otp, outbox, clock, "op2")
    assert _verify(database, otp, clock, f"{(int(code) + 1) % 1_000_000:06d}", "op2").remaining_attempts == 1
