"""The SMS gateway interface, the sandbox gateway and a test double.

`SandboxSms` writes into the `sms_messages` table inside the caller's transaction (text
sealed), so a code is "sent" only if the turn that issued it commits; `GET /v1/sandbox/sms`
reads that inbox. The real gateway (`chatbot.tools.sms_webhook`) queues the message in an
outbox row of the same transaction and posts it to the bank's SMS service after the commit.

A policy gets its gateway per turn from an `SmsGateways` (`gateway(db)` for the turn's session).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from chatbot.storage import sms


class SmsGateway(Protocol):
    """Sends one text message to one mobile number."""

    def send(self, phone: str, text: str, now: datetime) -> None: ...


class SmsGateways(Protocol):
    """Hands out the gateway of one turn (bound to that turn's transaction)."""

    def gateway(self, db: Session) -> SmsGateway: ...

    def close(self) -> None: ...


class SandboxSms:
    """The sandbox's gateway: messages land (sealed) in the inbox customers read over HTTP."""

    def __init__(self, db: Session, secret_key: str) -> None:
        self.db = db
        self.secret_key = secret_key

    def send(self, phone: str, text: str, now: datetime) -> None:
        sms.record(self.db, phone, text, now, self.secret_key)


@dataclass(frozen=True)
class SandboxGateways:
    """`SmsGateways` of the sandbox inbox."""

    secret_key: str

    def gateway(self, db: Session) -> SmsGateway:
        return SandboxSms(db, self.secret_key)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    at: datetime


@dataclass
class RecordingSms:
    """Test double: keeps every message in `messages`, oldest first."""

    messages: list[SentSms] = field(default_factory=list)

    def send(self, phone: str, text: str, now: datetime) -> None:
        self.messages.append(SentSms(phone, text, now))

    @property
    def last(self) -> SentSms:
        return self.messages[-1]
