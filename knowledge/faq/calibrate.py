"""Fitting the ranking weights, the calibration and the thresholds from held-out paraphrases.

Used offline by ``bench/faq.py --fit``, which prints constants to paste into
:mod:`knowledge.faq.ranking` and :mod:`knowledge.faq.retrieve`; nothing here runs in the
service. The protocol keeps the evaluation honest:

* a **hold-out split** removes one ``similar`` phrasing (by position) from every entry
  that has at least ``MIN_SIMILAR`` of them, indexes the rest (and the training
  phrasings, minus any that happen to equal a removed one) and uses the removed
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
from knowledge.faq.training import NO_TRAINING, TrainingPhrasings

MIN_SIMILAR = 4
DEV_POSITIONS = (0, 1, 2)
TEST_POSITION = -1
# Share of development out-of-domain questions allowed above "not found" (they would get a
# clarification listing unrelated entries). Generous: the intent model sends most off-topic
# messages elsewhere before the FAQ is asked, and a needless clarification costs a customer
# one glance where a wrong "not found" costs them the answer.
OOD_ABOVE_CLARIFY = 0.2
# Wrong answers allowed (answered outright with another entry), as a share of all development
# questions (issue 21: a wrong answer is worse than one question). The answer threshold is the
# lowest score that keeps under it both with and without training phrasings.
MAX_WRONG_ANSWERS = 0.01


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


def without_queries(training: TrainingPhrasings, queries: Sequence[Query],
                    analyzer: TextAnalyzer) -> tuple[TrainingPhrasings, int]:
    """``training`` minus any phrasing that is a held-out query once normalized, and how many.

    Training phrasings were written without seeing the ``similar`` ones, but a short
    question can coincide word for word; indexing it would leak the answer to the test.
    """
    held = {analyzer.analyze(query.text).compact for query in queries}
    kept, dropped = {}, 0
    for entry_id, phrasings in training.items():
        keep = tuple(p for p in phrasings if analyzer.analyze(p).compact not in held)
        dropped += len(phrasings) - len(keep)
        kept[entry_id] = keep
    return kept, dropped


def fit_model(entries: Sequence[FaqEntry], ood: Sequence[str], analyzer: TextAnalyzer,
              training: TrainingPhrasings = NO_TRAINING, rounds: int = 2) -> RankingModel:
    """Fit weights and calibration on the development splits (see module docs).

    With training phrasings, the weights are fitted on every split indexed both with and
    without them, so that one model ranks well for a FAQ with a training file and for one
    without (a bank's own FAQ under ``CHATBOT_FAQ_PATH``); that also ranked better on the
    development positions 3-6 than either alone. The calibration is fitted on the splits
    with them: it is what the shipped FAQ runs with.
    """
    model = RankingModel(tuple([1.0] * len(FEATURES)), 0.0)
    splits = [holdout_split(entries, position) for position in DEV_POSITIONS]
    variants = [without_queries(training, queries, analyzer)[0] for _, queries in splits]
    if training:
        variants += [NO_TRAINING] * len(splits)
        splits += splits
    for _ in range(rounds):  # candidates depend on the preselect weights: refit once on better ones
        rows = [Rows() for _ in splits]
        for (indexed, queries), kept, split_rows in zip(splits, variants, rows):
            retriever = FaqRetriever(indexed, model=model, analyzer=analyzer, training=kept)
            # Customers also type a known phrasing word for word; the model must trust that.
            repeated = [Query(entry.question, entry.id) for entry in indexed]
            collect(retriever, [*queries, *repeated, *(Query(text, None) for text in ood)], split_rows)
        weights, bias = fit_weights(_joined(rows))
        model = RankingModel(tuple(weights), bias)
    calibration_rows = _joined(rows[:len(DEV_POSITIONS)])
    return RankingModel(tuple(weights), bias, *fit_calibration(calibration_rows, weights, bias))


def _joined(parts: Sequence[Rows]) -> Rows:
    joined = Rows()
    for part in parts:
        joined.features += part.features
        joined.labels += part.labels
        joined.coverage += part.coverage
    return joined


def precision_at(threshold: float, top_scores: np.ndarray, correct: np.ndarray) -> float:
    """Share of questions answered at ``threshold`` whose top hit was right (0 when none is)."""
    answered = top_scores >= threshold
    return float(correct[answered].mean()) if answered.any() else 0.0


def answer_threshold(top_scores: np.ndarray, correct: np.ndarray, max_wrong: float = MAX_WRONG_ANSWERS,
                     step: float = 0.01) -> float:
    """The lowest threshold (a multiple of ``step``) at which answering every question whose top
    score reaches it answers at most ``max_wrong`` of all questions wrongly.

    ``top_scores``: each development question's top calibrated score; ``correct``: whether that
    top hit was the right entry. Raising the threshold only ever removes answers, so the share
    of wrong ones never grows with it.
    """
    wrong_scores = np.sort(top_scores[~correct])[::-1]
    allowed = int(np.floor(max_wrong * len(top_scores) + 1e-9))
    if len(wrong_scores) <= allowed:
        return 0.0
    # Strictly above the (allowed + 1)-th highest wrong score: then at most `allowed` stay answered.
    return round(float(np.floor(wrong_scores[allowed] / step) + 1) * step, 6)


def clarify_threshold(ood_top: np.ndarray, share: float = OOD_ABOVE_CLARIFY) -> float:
    """The top score under which all but ``share`` of out-of-domain questions fall (below it: not found)."""
    return float(np.quantile(ood_top, 1.0 - share)) if len(ood_top) else 0.0
