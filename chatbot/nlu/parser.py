"""The NLU pipeline: normalize -> segment -> classify intent -> extract entities.

`Parser.parse` is stateless and shared by the engine, `chatbot nlu parse` and
`POST /v1/nlu/parse`, so all three understand a sentence the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.nlu.entities import Entity, extract_entities
from chatbot.nlu.intents import IntentClassifier, IntentScore
from chatbot.nlu.normalize import NormalizedText, Normalizer, default_normalizer
from chatbot.nlu.segment import Segmenter, default_segmenter


@dataclass(frozen=True)
class ParseResult:
    text: str
    normalized: str
    intent: IntentScore
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...]
    tokens: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "intent": self.intent.to_dict(),
            "ranking": [score.to_dict() for score in self.ranking],
            "entities": [entity.to_dict() for entity in self.entities],
            "tokens": list(self.tokens),
        }

    def entity_values(self, name: str) -> list:
        return [e.value for e in self.entities if e.entity == name]


class Parser:
    """Runs the stages in order; each stage is loaded once and shared across threads."""

    def __init__(
        self,
        classifier: IntentClassifier,
        normalizer: Normalizer | None = None,
        segmenter: Segmenter | None = None,
        ranking_size: int = 5,
    ) -> None:
        self.classifier = classifier
        self.normalizer = normalizer or default_normalizer()
        self.segmenter = segmenter or default_segmenter()
        self.ranking_size = ranking_size

    def parse(self, text: str, today: date, known_payees: Sequence[str] = ()) -> ParseResult:
        normalized: NormalizedText = self.normalizer.normalize(text)
        tokens = tuple(self.segmenter.cut(normalized.text))
        ranking = self.classifier.rank(normalized.text, tokens)[: self.ranking_size]
        entities = tuple(extract_entities(normalized, today, known_payees))
        return ParseResult(
            text=text, normalized=normalized.text, intent=ranking[0],
            ranking=tuple(ranking), entities=entities, tokens=tokens,
        )
