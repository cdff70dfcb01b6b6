"""Fitting the ranking weights, the calibration and the thresholds from held-out paraphrases.

Used offline by ``bench/faq.py --fit``, which prints constants to paste into
:mod:`knowledge.faq.ranking` and :mod:`knowledge.faq.retrieve`; nothing here runs in the
service. The protocol keeps the evaluation honest:

* a **hold-out split** removes one ``similar`` phrasing (by position) from every entry
  that has at least ``MIN_SIMILAR`` of them, indexes the rest and uses the removed
  phrasings as queries whose right answer is known;
* weights are fitted on the development positions (``DEV_POSITIONS``), the indexed
  questions asked word for word (customers do that too) and a development list of
  out-of-domain questions; the benchmark reports on the last
  position and a different out-of-domain list, which the fit never sees.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.faq.analyze import TextAnalyzer
from knowledge.faq.ranking import FEATURES, RankingModel, best_other, rank
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import FaqEntry

MIN_SIMILAR = 4
DEV_POSITIONS = (0, 1, 2)
TEST_POSITION = -1
TARGET_ANSWER_PRECISION = 0.93
# Share of in-domain questions that must stay above "not found" (they get at least a clarification).
CLARIFY_KEEP = 0.9


@dataclass(frozen=True)
class Query:
    """A question with its right entry id (``None``: out of domain, nothing is right)."""

    text: str
    expected: str | None


def holdout_split(entries: Sequence[FaqEntry], position: int) -> tuple[list[FaqEntry], list[Query]]:
    """Remove ``similar[position]`` from entries with >= ``MIN_SIMILAR`` paraphrases."""
    indexed, queries = [], []
    for entry in entries:
        if len(entry.similar) < MIN_SIMILAR:
            indexed.append(entry)
            continue
        similar = list(entry.similar)
        held = similar.pop(position)
        indexed.append(dataclasses.replace(entry, similar=tuple(similar)))
        queries.append(Query(held, entry.id))
    return indexed, queries


@dataclass
class Rows:
    """Candidate feature rows of many queries (``group`` says which query a row is from)."""

    features: list[np.ndarray] = dataclasses.field(default_factory=list)
    labels: list[np.ndarray] = dataclasses.field(default_factory=list)
    coverage: list[float] = dataclasses.field(default_factory=list)

    def add(self, features: np.ndarray, labels: np.ndarray, coverage: float) -> None:
        self.features.append(features)
        self.labels.append(labels)
        self.coverage.append(coverage)


def collect(retriever: FaqRetriever, queries: Sequence[Query], rows: Rows) -> None:
    """Append the candidates of every query (features, and whether each is right) to ``rows``."""
    for query in queries:
        analyzed = retriever.analyze(query.text)
        if analyzed.is_empty:
            continue
        ranked = rank(retriever.index, analyzed, retriever.model)
        ids = np.array([retriever.entries[p].id for p in ranked.positions])
        rows.add(ranked.features, ids == query.expected, ranked.coverage)


def fit_weights(rows: Rows, c: float = 10.0) -> tuple[np.ndarray, float]:
    """Pointwise logistic regression: is this candidate the right entry?"""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack(rows.features)
    y = np.concatenate(rows.labels)
    model = LogisticRegression(C=c, max_iter=10_000).fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def fit_calibration(rows: Rows, weights: np.ndarray, bias: float,
                    top: int = 3) -> tuple[float, float, float, float]:
    """Platt scaling with margin and coverage terms, on each query's ``top`` candidates."""
    from sklearn.linear_model import LogisticRegression

    plain = RankingModel(tuple(weights), bias)
    x, y = [], []
    for features, labels, coverage in zip(rows.features, rows.labels, rows.coverage):
        z = plain.logits(features)
        order = np.argsort(-z)[:top]
        margin = z - best_other(z)
        x.extend((z[i], margin[i], coverage) for i in order)
        y.extend(labels[order])
    model = LogisticRegression(C=100.0, max_iter=10_000).fit(np.array(x), np.array(y))
    return (*(float(w) for w in model.coef_[0]), float(model.intercept_[0]))


def fit_model(entries: Sequence[FaqEntry], ood: Sequence[str], analyzer: TextAnalyzer,
              rounds: int = 2) -> RankingModel:
    """Fit weights and calibration on the development splits (see module docs)."""
    model = RankingModel(tuple([1.0] * len(FEATURES)), 0.0)
    splits = [holdout_split(entries, position) for position in DEV_POSITIONS]
    for _ in range(rounds):  # candidates depend on the preselect weights: refit once on better ones
        rows = Rows()
        for indexed, queries in splits:
            retriever = FaqRetriever(indexed, model=model, analyzer=analyzer)
            # Customers also type a known phrasing word for word; the model must trust that.
            repeated = [Query(entry.question, entry.id) for entry in indexed]
            collect(retriever, [*queries, *repeated, *(Query(text, None) for text in ood)], rows)
        weights, bias = fit_weights(rows)
        model = RankingModel(tuple(weights), bias)
    return RankingModel(tuple(weights), bias, *fit_calibration(rows, weights, bias))


def answer_threshold(top_scores: np.ndarray, correct: np.ndarray,
                     precision: float = TARGET_ANSWER_PRECISION) -> float:
    """Lowest top score at which answering is right at least ``precision`` of the time."""
    order = np.argsort(-top_scores)
    hits = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(hits >= precision)
    return float(top_scores[order][good[-1]]) if len(good) else 1.0


def clarify_threshold(in_domain_top: np.ndarray, keep: float = CLARIFY_KEEP) -> float:
    """The top score that ``keep`` of in-domain questions reach (below it: not found)."""
    return float(np.quantile(in_domain_top, 1.0 - keep)) if len(in_domain_top) else 0.0
