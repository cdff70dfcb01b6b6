"""Step-up one-time codes sent by SMS (DESIGN.md "Money and identity rules").

A code is 6 random digits, valid for 5 minutes and once; only its keyed hash is stored.
Only the newest code of a subject + purpose counts: issuing one retires the earlier ones.
Five wrong tries lock that subject + purpose for 15 minutes, during which neither a check
nor a new code is possible. The wrong-try count is carried over to a replacement code
(while the last wrong try is younger than the lock period), so asking for a new code does
not buy an attacker five more guesses.

Each code is bound to the operation it was sent for: `operation` (the flow run and the
exact details read back to the customer) is kept as a keyed digest, and a check for any
other operation finds no usable code ("missing"), so a code sent for one transfer cannot
complete another. A decoy (`phone=None`) stores a code nobody can know and sends nothing:
a flow that must not reveal whether a customer exists answers the same way both times.

The service works in the caller's transaction: a code is issued, and a wrong try counted,
when the turn commits.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatbot.errors import InvalidInput
from chatbot.security.keys import phone_digest
from chatbot.security.passwords import hash_code
from chatbot.storage.models import OneTimeCode
from chatbot.tools.sms import SmsGateway

CODE_DIGITS = 6


@dataclass(frozen=True)
class IssuedCode:
    """`status` is "sent" (`expires_at` set) or "locked" (`locked_until` set, nothing sent)."""

    status: str
    expires_at: datetime | None = None
    locked_until: datetime | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True)
class OtpCheck:
    """`status`: ok | wrong | expired | locked | missing (no usable code: ask for a new one)."""

    status: str
    remaining_attempts: int
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class OtpService:
    """Issues and checks one-time codes for a subject (e.g. "customer:1") and a purpose."""

    def __init__(self, secret_key: str, sms: SmsGateway, ttl: timedelta = timedelta(minutes=5),
                 max_attempts: int = 5, lock_for: timedelta = timedelta(minutes=15),
                 bank_name: str = "示例银行") -> None:
        self.secret_key = secret_key
        self.sms = sms
        self.ttl = ttl
        self.max_attempts = max_attempts
        self.lock_for = lock_for
        self.bank_name = bank_name

    def issue(self, db: Session, subject: str, purpose: str, phone: str | None, now: datetime,
              what: str, operation: str | None = None) -> IssuedCode:
        """Send a new code for `what` (e.g. "转账") to `phone`, retiring earlier ones.

        `operation` names exactly what the code confirms (see the module docstring);
        `phone=None` issues a decoy: counted and locked like a code, sent nowhere, never right.
        """
        _check_names(subject, purpose)
        latest = self._latest(db, subject, purpose)
        locked_until = self._locked_until(latest, now)
        if locked_until is not None:
            return IssuedCode("locked", locked_until=locked_until)
        carried = self._carried_attempts(latest, now)
        db.execute(update(OneTimeCode).where(
            OneTimeCode.subject == subject, OneTimeCode.purpose == purpose, OneTimeCode.consumed_at.is_(None)
        ).values(consumed_at=now))
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        code_hash = self._hash(subject, purpose, code) if phone else "decoy:" + secrets.token_hex(16)
        row = OneTimeCode(subject=subject, purpose=purpose, code_hash=code_hash,
                          phone_hash=phone_digest(self.secret_key, phone) if phone else "",
                          attempts=carried, operation=self._operation(subject, purpose, operation),
                          expires_at=now + self.ttl, created_at=now)
        db.add(row)
        db.flush()
        if phone:
            self.sms.send(phone, self._text(code, what), now)
        return IssuedCode("sent", expires_at=row.expires_at)

    def retire(self, db: Session, subject: str, purpose: str, now: datetime) -> None:
        """Expire every outstanding code of a subject + purpose now (its wrong tries still carry over)."""
        _check_names(subject, purpose)
        db.execute(update(OneTimeCode).where(
            OneTimeCode.subject == subject, OneTimeCode.purpose == purpose, OneTimeCode.consumed_at.is_(None),
            OneTimeCode.expires_at > now,
        ).values(expires_at=now))

    def locked_until(self, db: Session, subject: str, purpose: str, now: datetime) -> datetime | None:
        """When the lock of a subject + purpose ends, or None when codes may be sent and checked."""
        _check_names(subject, purpose)
        return self._locked_until(self._latest(db, subject, purpose), now)

    def verify(self, db: Session, subject: str, purpose: str, code: str, now: datetime,
               operation: str | None = None) -> OtpCheck:
        """Check `code` against the newest code; a success consumes it, a failure counts.

        A code sent for another `operation` is no usable code ("missing", nothing counted).
        """
        _check_names(subject, purpose)
        row = self._latest(db, subject, purpose, lock=True)
        locked_until = self._locked_until(row, now)
        if locked_until is not None:
            return OtpCheck("locked", 0, locked_until)
        if row is None or row.consumed_at is not None:
            return OtpCheck("missing", self.max_attempts)
        expected = self._operation(subject, purpose, operation)
        if not hmac.compare_digest(row.operation or "", expected or ""):
            return OtpCheck("missing", self.max_attempts - row.attempts)
        remaining = self.max_attempts - row.attempts
        if now >= row.expires_at:
            return OtpCheck("expired", remaining)
        row.last_attempt_at = now
        if hmac.compare_digest(self._hash(subject, purpose, code.strip()), row.code_hash):
            row.consumed_at = now
            return OtpCheck("ok", remaining)
        row.attempts += 1
        if row.attempts >= self.max_attempts:
            return OtpCheck("locked", 0, now + self.lock_for)
        return OtpCheck("wrong", self.max_attempts - row.attempts)

    def _latest(self, db: Session, subject: str, purpose: str, *, lock: bool = False) -> OneTimeCode | None:
        stmt = (select(OneTimeCode).where(OneTimeCode.subject == subject, OneTimeCode.purpose == purpose)
                .order_by(OneTimeCode.id.desc()).limit(1))
        if lock:
            # Concurrent guesses queue on the row, so each one sees the others' count.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return db.scalar(stmt)

    def _locked_until(self, row: OneTimeCode | None, now: datetime) -> datetime | None:
        if row is None or row.attempts < self.max_attempts or row.last_attempt_at is None:
            return None
        until = row.last_attempt_at + self.lock_for
        return until if now < until else None

    def _carried_attempts(self, latest: OneTimeCode | None, now: datetime) -> int:
        """Wrong tries a replacement code inherits from the code it replaces."""
        if latest is None or latest.consumed_at is not None or latest.last_attempt_at is None:
            return 0
        if latest.attempts >= self.max_attempts or now - latest.last_attempt_at >= self.lock_for:
            return 0  # a lock that has run out, or old failures: start afresh
        return latest.attempts

    def _operation(self, subject: str, purpose: str, operation: str | None) -> str | None:
        """Keyed digest (64 hex) of what a code confirms; None when the caller names nothing."""
        if operation is None:
            return None
        return hash_code(self.secret_key, f"otp-operation:{subject}:{purpose}", operation)

    def _hash(self, subject: str, purpose: str, code: str) -> str:
        return hash_code(self.secret_key, f"{subject}:{purpose}", code)

    def _text(self, code: str, what: str) -> str:
        minutes = int(self.ttl.total_seconds() // 60)
        return (f"【{self.bank_name}】验证码 {code}，用于{what}，{minutes} 分钟内有效。"
                "请勿将验证码告诉任何人，银行工作人员不会向您索要。")


def _check_names(subject: str, purpose: str) -> None:
    """The columns' limits, checked here so a long name is a clear error, not a database one."""
    if not 0 < len(subject) <= 128 or not 0 < len(purpose) <= 32:
        raise InvalidInput("验证码的主体或用途无效", "invalid_otp_subject")
