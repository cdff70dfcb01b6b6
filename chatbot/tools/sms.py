"""The SMS gateway interface, the sandbox gateway and a test double.

`SandboxSms` writes into the `sms_messages` table inside the caller's transaction, so a code
is "sent" only if the turn that issued it commits; `GET /v1/sandbox/sms` reads that inbox.
A real gateway would be called after commit (an outbox), which this interface allows.
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


class SandboxSms:
    """The sandbox's gateway: messages land in the inbox customers read over HTTP."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def send(self, phone: str, text: str, now: datetime) -> None:
        sms.record(self.db, phone, text, now)


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
