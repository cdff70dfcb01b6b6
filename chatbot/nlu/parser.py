"""The NLU pipeline: normalize -> segment -> find the request -> classify intent -> extract entities.

The intent is read from the request without the greetings in front of it when that reading is
at least as sure, and a second business request ("…，顺便查下余额") is classified apart as
`later`, with the entities said in it (chatbot.nlu.clauses); otherwise every entity of the
message belongs to its one request.

`Parser.parse` is stateless and shared by the engine, `chatbot nlu parse` and
`POST /v1/nlu/parse`, so all three understand a sentence the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from chatbot.memo import memoize_text
from chatbot.nlu.clauses import find_request
from chatbot.nlu.entities import Entity, extract_entities
from chatbot.nlu.intents import IntentClassifier, IntentScore
from chatbot.nlu.normalize import NormalizedText, Normalizer, default_normalizer
from chatbot.nlu.segment import Segmenter, default_segmenter

# What a greeting or a polite filler reads as; a request found behind one must be none of these.
GREETINGS = frozenset({"greet", "thanks", "goodbye"})
SMALL_TALK = GREETINGS | {"affirm", "deny", "cancel", "out_of_scope"}
# Second requests that are not offered as business of their own.
NOT_OFFERED = frozenset({"faq", "human.request", "complaint"})
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
    request: str | None = None  # with `later`: the first request's text (what the FAQ searches)
    request_tokens: tuple[str, ...] = ()

    @property
    def question(self) -> tuple[str, tuple[str, ...]]:
        """What a knowledge search should read: the first request when the message held two."""
        return (self.request, self.request_tokens) if self.request else (self.normalized, self.tokens)

    def to_dict(self) -> dict:
        body = {
            "intent": self.intent.to_dict(),
            "ranking": [score.to_dict() for score in self.ranking],
            "entities": [entity.to_dict() for entity in self.entities],
            "tokens": list(self.tokens),
        }
        if self.later is not None:  # a second request: its reading and what was said in it
            body["later"] = {"intent": self.later.to_dict(),
                             "entities": [entity.to_dict() for entity in self.later_entities]}
        return body

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
        memo_size: int = 0,
    ) -> None:
        self.classifier = classifier
        self.normalizer = normalizer or default_normalizer()
        self.segmenter = segmenter or default_segmenter()
        self.ranking_size = ranking_size
        # Repeated short messages (chips, "余额", "转人工") are parsed once per model version.
        self._memo = memoize_text(self._parse_with, memo_size, keep=_holds_no_personal_number)

    def parse(self, text: str, today: date, known_payees: Sequence[str] = ()) -> ParseResult:
        return self._memo(text, today, tuple(known_payees), getattr(self.classifier, "version", None))

    def _parse_with(self, text: str, today: date, known_payees: tuple[str, ...], _model_version) -> ParseResult:
        normalized: NormalizedText = self.normalizer.normalize(text)
        tokens = tuple(self.segmenter.cut(normalized.text))
        ranking = self.classifier.rank(normalized.text, tokens)[: self.ranking_size]
        entities = tuple(extract_entities(normalized, today, known_payees))
        found = find_request(normalized.text)
        if found.later is not None:  # two requests: the first is served if it reads as one
            split = self._split(found, normalized, entities)
            if split is not None:
                return ParseResult(text=text, normalized=normalized.text, tokens=tokens, **split)
        if found.text != normalized.text:  # greetings in front: the request's reading if it wins
            request_ranking = self._rank(found.text)
            if self._request_wins(request_ranking[0], ranking[0]):
                ranking = request_ranking
        return ParseResult(text=text, normalized=normalized.text, intent=ranking[0], ranking=tuple(ranking),
                           entities=entities, tokens=tokens)

    def _split(self, found, normalized: NormalizedText, entities: tuple[Entity, ...]) -> dict | None:
        """The first request's reading and the second's, each with the entities said in it;
        None unless both are requests of their own ("能不能顺便给李娜转500" is one; "帮我转账，
        还有金额500" is one transfer; "转账限额多少，顺便给李娜转500" is two)."""
        first_tokens = tuple(self.segmenter.cut(found.first))
        first_ranking = self.classifier.rank(found.first, first_tokens)[: self.ranking_size]
        first, later = first_ranking[0], self._rank(found.later)[0]
        if first.name in SMALL_TALK or first.confidence < REQUEST_CONFIDENT:
            return None
        if later.name in SMALL_TALK or later.name in NOT_OFFERED or later.name == first.name \
                or later.confidence < REQUEST_CONFIDENT:
            return None
        cut = normalized.offsets[found.later_start]  # entity spans are in the original text
        return {"intent": first, "ranking": tuple(first_ranking),
                "entities": tuple(e for e in entities if e.start < cut),
                "later": later, "later_entities": tuple(e for e in entities if e.start >= cut),
                "request": found.first, "request_tokens": first_tokens}

    @staticmethod
    def _request_wins(request: IntentScore, whole: IntentScore) -> bool:
        """The request's reading when it is at least as sure as the whole message's, or when
        the whole only heard the greeting and the request is something a customer asks for
        ("您好，有空吗" stays a greeting: 有空吗 alone reads as nothing)."""
        if request.confidence >= whole.confidence:
            return True
        return whole.name in GREETINGS and request.name not in SMALL_TALK and request.confidence >= REQUEST_CONFIDENT

    def _rank(self, text: str) -> list[IntentScore]:
        return self.classifier.rank(text, tuple(self.segmenter.cut(text)))[: self.ranking_size]


# Entities that are one customer's business: a parse holding one is never kept in memory.
_PERSONAL_ENTITIES = frozenset({"amount", "card_tail", "phone", "id_number", "otp"})


def _holds_no_personal_number(result: ParseResult) -> bool:
    return not any(entity.entity in _PERSONAL_ENTITIES for entity in result.entities)
