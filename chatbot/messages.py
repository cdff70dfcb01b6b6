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


class Rich(str):
    """A reply's plain text that also says how a richer client draws it: buttons under it,
    chips, a card, a table, a link (docs/rich_replies.md). It is a `str`, so every step that
    builds, joins, masks or logs replies keeps working on the text, which is the whole reply
    for plain channels; an operation that makes a new string (replace, join) drops the rest,
    which then degrades to that plain text."""

    kind: str
    data: dict

    def __new__(cls, text: str, kind: str, **data) -> "Rich":
        made = super().__new__(cls, text)
        made.kind, made.data = kind, data
        return made

    def __reduce__(self):  # copies and pickles keep the drawing
        return (_rebuild_rich, (str(self), self.kind, self.data))


def _rebuild_rich(text: str, kind: str, data: dict) -> Rich:
    return Rich(text, kind, **data)


def choice(label: str, send: str | None = None) -> dict:
    """A button or chip: what it shows and what tapping it sends (as if typed)."""
    return {"label": label, "send": send if send is not None else label}


@dataclass(frozen=True)
class ReplyItem:
    text: str
    type: str = "text"
    data: dict = field(default_factory=dict)  # the fields of `type` (docs/rich_replies.md)

    @classmethod
    def of(cls, reply: str) -> "ReplyItem":
        if isinstance(reply, Rich):
            return cls(str(reply), reply.kind, dict(reply.data))
        return cls(str(reply))

    @classmethod
    def stored(cls, logged: str | dict) -> "ReplyItem":
        """From the turn log's `replies` (a text, or a rich item's dict)."""
        if isinstance(logged, dict):
            data = {k: v for k, v in logged.items() if k not in ("type", "text")}
            return cls(logged["text"], logged.get("type", "text"), data)
        return cls(logged)

    def to_dict(self) -> dict:
        return {"type": self.type, "text": self.text, **self.data}


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

    def to_dict(self, rich: bool = True) -> dict:
        """`rich=False`: every item as the chat contract's plain `{"type": "text", "text"}`."""
        return {
            "session_id": self.session_id,
            "replies": [r.to_dict() if rich else {"type": "text", "text": r.text} for r in self.replies],
            "state": self.state.to_dict(),
        }

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)
