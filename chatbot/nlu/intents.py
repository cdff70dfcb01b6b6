"""Intent scores and the classifier interface the parser depends on."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float

    def to_dict(self) -> dict:
        return {"name": self.name, "confidence": round(self.confidence, 4)}


class IntentClassifier(Protocol):
    """Ranks intents for one sentence, best first, confidences in [0, 1]."""

    def rank(self, text: str, tokens: Sequence[str]) -> list[IntentScore]: ...
