"""The dialogue state kept per chat session (stored as JSON on the session row)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class DialogueState:
    last_intent: str | None = None
    active_flow: str | None = None
    slots: dict = field(default_factory=dict)
    # Consecutive turns the bot did not understand; two in a row offer a person.
    not_understood: int = 0

    @classmethod
    def from_json(cls, data: dict | None) -> "DialogueState":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_json(self) -> dict:
        return asdict(self)
