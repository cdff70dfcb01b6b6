"""What passes between the engine and a policy for one turn."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from chatbot.dialogue.state import DialogueState
from chatbot.nlu.parser import ParseResult


@dataclass(frozen=True)
class TurnContext:
    """Everything a policy may look at for one turn; `db` is the turn's open transaction."""

    parse: ParseResult
    state: DialogueState
    customer_id: int | None
    now: datetime
    db: Session | None = None
    channel: str = "web"
    user_id: str = ""
    session_id: int | None = None
    address: str | None = None  # client address (web), for per-address limits
    # `db` is a read-only session (chatbot/storage/db.py): a write raises and the engine
    # redoes the turn in a write transaction, so nothing else may have effects before one.
    read_only: bool = False


@dataclass(frozen=True)
class HandoffRequest:
    """The policy asks for a person; higher priority is served first (complaints: 10)."""

    reason: str  # human_request | call_back | complaint | not_understood | flow_failed | fraud_risk
    priority: int = 0


@dataclass
class PolicyResult:
    replies: list[str]
    state: DialogueState
    outcome: str
    steps: list[dict] = field(default_factory=list)
    handoff: HandoffRequest | None = None


class Policy(Protocol):
    def respond(self, ctx: TurnContext) -> PolicyResult: ...
