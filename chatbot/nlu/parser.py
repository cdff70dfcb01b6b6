"""The NLU pipeline: normalize -> segment -> find the request -> classify intent -> extract entities.

The intent is read from the request without the greetings in front of it, and a second request
("…，顺便查下余额") is classified apart as `later` (chatbot.nlu.clauses); entities come from
the whole message.

`Parser.parse` is stateless and shared by the engine, `chatbot nlu parse` and
`POST /v1/nlu/parse`, so all three understand a sentence the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.nlu.clauses import find_request
from chatbot.nlu.entities import Entity, extract_entities
from chatbot.nlu.intents import IntentClassifier, IntentScore
from chatbot.nlu.normalize import NormalizedText, Normalizer, default_normalizer
from chatbot.nlu.segment import Segmenter, default_segmenter

# What a greeting or a polite filler reads as; a request found behind one must be none of these.
GREETINGS = frozenset({"greet", "thanks", "goodbye"})
SMALL_TALK = GREETINGS | {"affirm", "deny", "cancel", "out_of_scope"}
REQUEST_CONFIDENT = 0.5


@dataclass(frozen=True)
class ParseResult:
    text: str
    normalized: str
    intent: IntentScore
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...]
    tokens: tuple[str, ...]
    later: IntentScore | None = None  # a second request in the same message (offered after the first)
    later_entities: tuple[Entity, ...] = ()  # the entities said in it ("…，顺便给李娜转500")

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
        request = find_request(normalized.text)
        ranking = self.classifier.rank(normalized.text, tokens)[: self.ranking_size]
        later = None
        if request.text != normalized.text:
            ranking = self._rank_request(request.text, ranking)
            if request.later and ranking[0].name not in SMALL_TALK:
                later = self._rank(request.later)[0]
        entities = tuple(extract_entities(normalized, today, known_payees))
        later_entities: tuple[Entity, ...] = ()
        if later is not None:  # "查下余额，顺便看看信用卡账单": the card is the second request's
            cut = normalized.offsets[request.later_start]  # entity spans are in the original text
            entities, later_entities = (tuple(e for e in entities if e.start < cut),
                                        tuple(e for e in entities if e.start >= cut))
        return ParseResult(
            text=text, normalized=normalized.text, intent=ranking[0], ranking=tuple(ranking),
            entities=entities, tokens=tokens, later=later, later_entities=later_entities,
        )

    def _rank(self, text: str) -> list[IntentScore]:
        return self.classifier.rank(text, tuple(self.segmenter.cut(text)))[: self.ranking_size]

    def _rank_request(self, request: str, whole: list[IntentScore]) -> list[IntentScore]:
        """The request's reading when it is at least as sure as the whole message's, or when
        the whole only heard the greeting and the request is something a customer asks for
        ("您好，有空吗" stays a greeting: 有空吗 alone reads as nothing)."""
        ranking = self._rank(request)
        top, whole_top = ranking[0], whole[0]
        if top.confidence >= whole_top.confidence:
            return ranking
        if (whole_top.name in GREETINGS and top.name not in SMALL_TALK
                and top.confidence >= REQUEST_CONFIDENT):
            return ranking
        return whole
