"""Value objects that cross the engine boundary: what a channel sends in and gets back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["bot", "queued", "agent"]
CHANNELS = ("web", "wechat", "terminal")


@dataclass(frozen=True)
class InboundMessage:
    """One customer message as any channel adapter produces it."""

    channel: str
    user_id: str
    text: str
    message_id: str | None = None
    address: str | None = None  # the client's network address, where the channel knows it


@dataclass(frozen=True)
class ReplyItem:
    text: str
    type: str = "text"

    def to_dict(self) -> dict:
        return {"type": self.type, "text": self.text}


@dataclass(frozen=True)
class SessionState:
    mode: Mode = "bot"
    intent: str | None = None
    active_flow: str | None = None

    def to_dict(self) -> dict:
        return {"mode": self.mode, "intent": self.intent, "active_flow": self.active_flow}


@dataclass(frozen=True)
class Reply:
    """What `Engine.handle` returns; channels render it."""

    session_id: int
    replies: tuple[ReplyItem, ...]
    state: SessionState = field(default_factory=SessionState)
    replayed: bool = False  # True when a repeated message_id was answered from the log

    def to_dict(self) -> dict:
        return {
            "session_id": self.session_id,
            "replies": [r.to_dict() for r in self.replies],
            "state": self.state.to_dict(),
        }

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)
