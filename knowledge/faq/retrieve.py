"""FAQ retrieval: search, and the answer / clarify / not-found decision.

``FaqRetriever`` owns one immutable index. An admin edit never mutates it: the service
calls :meth:`FaqRetriever.with_entries` (one or two seconds, off the request path) and swaps the
reference, so a search in flight keeps the index it started with.

Decision thresholds (on the calibrated score of the top hit, see
:mod:`knowledge.faq.ranking`):

* ``ANSWER_THRESHOLD``: answer outright only above it; below it the bot asks which
  question was meant instead of guessing (a wrong answer is worse than one question).
  Fitted by ``bench/faq.py --thresholds`` (:func:`knowledge.faq.calibrate.answer_threshold`):
  the lowest score at which at most 1 % of the development questions are answered
  wrongly, both with and without the training phrasings. It was 0.75 ("right 3 times in
  4"), which answered 2-3 % of the held-out questions wrongly.
* ``CLARIFY_THRESHOLD``: fitted by ``bench/faq.py --fit`` so that 80 % of development
  out-of-domain questions (weather, food, coding) fall under it: say so and offer a
  person rather than offering three wrong options.
* ``CLARIFY_THRESHOLD_WITHOUT_TRAINING``: the same rule on the development splits indexed
  without training phrasings: what a bank that brings its own FAQ (a question and a few
  ``similar`` phrasings per entry) runs with. Its scores run lower, off-topic questions'
  too, so ``CLARIFY_THRESHOLD`` turned most of its answerable questions into "not found".

A query shorter than ``MIN_ANSWER_CHARS`` characters ("年费") is never answered outright
unless it is word for word one of the phrasings: the calibration was fitted on real
questions, and a bare keyword names a topic, not a question, so the bot asks which one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chatbot.errors import InvalidInput
from chatbot.nlu.normalize import Normalizer
from chatbot.nlu.segment import Segmenter
from knowledge.faq.analyze import Analyzed, TextAnalyzer
from knowledge.faq.index import FaqIndex
from knowledge.faq.ranking import RankingModel, rank
from knowledge.faq.store import FaqEntry, load_faq
from knowledge.faq.training import NO_TRAINING, TrainingPhrasings, load_training_for

ANSWER_THRESHOLD = 0.93
CLARIFY_THRESHOLD = 0.36
CLARIFY_THRESHOLD_WITHOUT_TRAINING = 0.10
# A clarification lists at most this many options, each at least this likely.
CLARIFY_OPTIONS = 3
CLARIFY_OPTION_MIN = 0.05
MIN_ANSWER_CHARS = 3
MAX_TOP_K = 50

DecisionKind = Literal["answer", "clarify", "not_found"]


@dataclass(frozen=True)
class FaqHit:
    """One search result."""

    entry: FaqEntry
    score: float        # calibrated probability that this is the entry meant, in [0, 1]
    matched: str        # the phrasing (question, a ``similar`` or a training one) closest to the query

    def to_dict(self) -> dict:
        """The shape of one result of ``POST /v1/faq/search``."""
        return {"id": self.entry.id, "question": self.entry.question,
                "answer": self.entry.answer, "score": round(self.score, 4)}


@dataclass(frozen=True)
class FaqDecision:
    """What to do with a knowledge question."""

    kind: DecisionKind
    query: str                          # the normalized text that was searched
    hits: tuple[FaqHit, ...]            # best candidates (logged for analysts when not found)
    options: tuple[FaqHit, ...] = field(default=())   # what a clarification offers

    @property
    def entry(self) -> FaqEntry | None:
        """The entry to answer with, when ``kind == "answer"``."""
        return self.hits[0].entry if self.kind == "answer" else None

    def to_dict(self) -> dict:
        """A log record (the unanswered-questions export uses ``candidates``)."""
        return {"kind": self.kind, "query": self.query,
                "candidates": [{"id": h.entry.id, "question": h.entry.question,
                                "score": round(h.score, 4)} for h in self.hits],
                "options": [h.entry.id for h in self.options]}


class FaqRetriever:
    """Searches one list of FAQ entries; thread-safe (nothing changes after construction)."""

    def __init__(self, entries: Sequence[FaqEntry], normalizer: Normalizer | None = None,
                 segmenter: Segmenter | None = None, *, model: RankingModel | None = None,
                 analyzer: TextAnalyzer | None = None, training: TrainingPhrasings = NO_TRAINING,
                 training_digest: str | None = None) -> None:
        _check_unique(entries)
        analyzer = analyzer or TextAnalyzer(normalizer, segmenter)
        self._adopt(FaqIndex(entries, analyzer, training), analyzer, model, training, training_digest)

    @classmethod
    def from_index(cls, index: FaqIndex, *, analyzer: TextAnalyzer, training: TrainingPhrasings,
                   model: RankingModel | None = None, training_digest: str | None = None) -> FaqRetriever:
        """A retriever over an index already built (a saved one, :mod:`knowledge.faq.index_store`)."""
        _check_unique(index.entries)
        retriever = cls.__new__(cls)
        retriever._adopt(index, analyzer, model, training, training_digest)
        return retriever

    def _adopt(self, index: FaqIndex, analyzer: TextAnalyzer, model: RankingModel | None,
               training: TrainingPhrasings, training_digest: str | None) -> None:
        self.analyzer = analyzer
        self.model = model or RankingModel()
        self.training = training
        # Whether training phrasings are indexed (of these entries: ids of other entries do not count).
        trained = any(training.get(entry.id) for entry in index.entries)
        self.clarify_threshold = CLARIFY_THRESHOLD if trained else CLARIFY_THRESHOLD_WITHOUT_TRAINING
        # sha256 of the training file ``training`` was read from (None: not from a file): with
        # the FAQ file's, it keys the saved index (knowledge/faq/index_store.py).
        self.training_digest = training_digest
        self.index = index
        self._by_id = {entry.id: entry for entry in index.entries}

    @classmethod
    def from_file(cls, path: str | Path, **options) -> FaqRetriever:
        """Load ``path`` (strictly, see :func:`load_faq`) and its training phrasings, and index them."""
        return cls(load_faq(path), training=load_training_for(path), **options)

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        """The indexed entries, in file order."""
        return self.index.entries

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with ``entry_id``, if indexed."""
        return self._by_id.get(entry_id)

    def with_entries(self, entries: Iterable[FaqEntry]) -> FaqRetriever:
        """A new retriever over ``entries`` sharing this one's analyzer, model and training phrasings."""
        return FaqRetriever(list(entries), model=self.model, analyzer=self.analyzer, training=self.training,
                            training_digest=self.training_digest)

    def analyze(self, text: str, tokens: Sequence[str] | None = None) -> Analyzed:
        """Features of a query; with ``tokens``, ``text`` is taken as already normalized."""
        if tokens is not None:
            return self.analyzer.from_normalized(text, tokens)
        return self.analyzer.analyze(text)

    def search(self, text: str, top_k: int = 5, tokens: Sequence[str] | None = None) -> list[FaqHit]:
        """The ``top_k`` best entries for ``text``, best first.

        Pass ``tokens`` (with ``text`` the normalized text they came from) when the NLU
        pipeline already normalized and segmented the message.
        """
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidInput(f"top_k must be between 1 and {MAX_TOP_K}", code="invalid_top_k")
        return self._hits(self.analyze(text, tokens), top_k)

    def decide(self, text: str, tokens: Sequence[str] | None = None) -> FaqDecision:
        """Answer, ask which question was meant, or admit not knowing (see module docs)."""
        query = self.analyze(text, tokens)
        hits = tuple(self._hits(query, CLARIFY_OPTIONS))
        top = hits[0].score if hits else 0.0
        if top >= ANSWER_THRESHOLD and self._specific_enough(query, hits[0]):
            return FaqDecision("answer", query.text, hits)
        if top >= self.clarify_threshold:
            options = tuple(h for h in hits if h.score >= CLARIFY_OPTION_MIN)
            return FaqDecision("clarify", query.text, hits, options)
        return FaqDecision("not_found", query.text, hits)

    def _specific_enough(self, query: Analyzed, hit: FaqHit) -> bool:
        if len(query.compact) >= MIN_ANSWER_CHARS:
            return True
        return query.compact == self.analyze(hit.matched).compact

    def _hits(self, query: Analyzed, top_k: int) -> list[FaqHit]:
        if query.is_empty:
            return []
        ranked = rank(self.index, query, self.model)
        rows = zip(ranked.positions[:top_k], ranked.phrasings[:top_k], ranked.scores[:top_k])
        return [self._hit(int(position), int(phrasing), float(score)) for position, phrasing, score in rows]

    def _hit(self, position: int, phrasing: int, score: float) -> FaqHit:
        return FaqHit(self.index.entries[position], score, self.index.texts[phrasing])


def _check_unique(entries: Sequence[FaqEntry]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise InvalidInput(f"duplicate FAQ id '{entry.id}'", code="faq_duplicate_id")
        seen.add(entry.id)
