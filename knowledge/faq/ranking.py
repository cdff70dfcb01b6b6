"""Turn the index's raw similarities into one calibrated score per candidate entry.

Two stages:

1. **Preselect**: every entry gets a linear score over the index signals (TF-IDF cosines
   of the best phrasing, of the pooled entry and of the answer, the classifier's decision
   value, the category gap, the latent-semantic cosine and the entry's coverage of the
   query's words); the best ``CANDIDATES`` go on.
2. **Rerank**: rapidfuzz adds surface similarity (edit-distance ratio against the best
   phrasing and against every phrasing of the entry, token-set ratio of the words, and
   whether the query *is* one of the phrasings once normalized), and a logistic model
   over all features gives ``z``, the log-odds that the candidate is the entry meant.

Calibration (a documented, fitted mapping, not a heuristic): Platt scaling with two
extra terms,

    score = sigmoid(CAL_Z * z + CAL_MARGIN * (z - best other z) + CAL_COVERAGE * coverage + CAL_BIAS)

fitted by logistic regression on each development query's top three candidates
(label: is this the right entry). The margin term makes a clear winner score higher
than one of two look-alikes with the same ``z``; ``coverage`` (how much of the query is
FAQ vocabulary at all) pulls down questions about something else. A score therefore
reads as "probability this hit is right"; ``bench/faq.py`` prints the reliability table
on the held-out test split (mean score vs. share right per score bin).

Where the constants come from: ``bench/faq.py --fit`` (see :mod:`knowledge.faq.calibrate`)
fits them on development splits (the 1st, 2nd and 3rd ``similar`` phrasing of each
entry held out of the index in turn, indexed with and without the training phrasings,
the questions asked word for word, and a development list of out-of-domain questions).
The benchmark reports on a disjoint split (every entry's *last* ``similar`` phrasing held
out) and another out-of-domain list. Refit after a large change to ``data/faq.yaml``,
``data/faq.training.yaml`` or the features.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from knowledge.faq.analyze import Analyzed
from knowledge.faq.index import FaqIndex, QueryScores

CANDIDATES = 20
INDEX_FEATURES = ("phrase_words", "phrase_chars", "entry_words", "entry_chars",
                  "answer_words", "classifier", "category", "semantic", "word_coverage")
FUZZY_FEATURES = ("fuzz_best", "fuzz_max", "token_set", "exact")
FEATURES = INDEX_FEATURES + FUZZY_FEATURES
# A lone candidate (a one-entry index) has no rival; treat it as winning by a wide margin.
_LONE_MARGIN = 10.0

# --- fitted by `bench/faq.py --fit` -------------------------------------------------------
WEIGHTS = np.array([-4.869, -4.281, 0.321, 3.315, -0.770, 6.029, 1.382, 7.365, 4.055, 1.805, 1.088, -1.546, 2.740])
BIAS = -3.329
CAL_Z, CAL_MARGIN, CAL_COVERAGE, CAL_BIAS = 0.320, 0.454, 5.005, -5.376
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingModel:
    """Weights of the rerank and its calibration (defaults: the fitted constants above)."""

    weights: tuple[float, ...] = tuple(WEIGHTS)
    bias: float = BIAS
    cal_z: float = CAL_Z
    cal_margin: float = CAL_MARGIN
    cal_coverage: float = CAL_COVERAGE
    cal_bias: float = CAL_BIAS

    def preselect_weights(self) -> np.ndarray:
        return np.asarray(self.weights[: len(INDEX_FEATURES)])

    def logits(self, features: np.ndarray) -> np.ndarray:
        """``z`` of each candidate row of ``features`` (columns in :data:`FEATURES` order)."""
        return features @ np.asarray(self.weights) + self.bias

    def calibrate(self, z: np.ndarray, coverage: float) -> np.ndarray:
        """Probability that each candidate is right, given all candidates' ``z``.

        ``coverage`` is :meth:`FaqIndex.coverage` of the query: how much of it is
        vocabulary the FAQ uses at all.
        """
        margin = z - best_other(z)
        return _sigmoid(self.cal_z * z + self.cal_margin * margin
                        + self.cal_coverage * coverage + self.cal_bias)


def best_other(z: np.ndarray) -> np.ndarray:
    """For each candidate, the best ``z`` among the *other* candidates."""
    if len(z) == 0:
        return z
    order = np.sort(z)[::-1]
    runner_up = order[1] if len(z) > 1 else order[0] - _LONE_MARGIN
    return np.where(z >= order[0], runner_up, order[0])


@dataclass(frozen=True)
class Ranked:
    """Candidates of one query, best first."""

    positions: np.ndarray    # entry positions in the index
    phrasings: np.ndarray    # index of the best phrasing of each candidate
    features: np.ndarray     # candidates x FEATURES
    logits: np.ndarray
    coverage: float
    scores: np.ndarray       # calibrated probabilities


def rank(index: FaqIndex, query: Analyzed, model: RankingModel,
         candidates: int = CANDIDATES) -> Ranked:
    """Score ``query`` against ``index`` and return its best candidates, best first."""
    signals = index.score(query)
    matrix = np.column_stack([getattr(signals, name) for name in INDEX_FEATURES])
    preselect = matrix @ model.preselect_weights()
    count = min(candidates, len(preselect))
    positions = np.argpartition(-preselect, count - 1)[:count]
    features = np.column_stack([matrix[positions], fuzzy_features(index, query, signals, positions)])
    logits = model.logits(features)
    order = np.argsort(-logits, kind="stable")
    positions, features, logits = positions[order], features[order], logits[order]
    coverage = index.coverage(query)
    return Ranked(positions, signals.best_phrasing[positions], features, logits, coverage,
                  model.calibrate(logits, coverage))


def fuzzy_features(index: FaqIndex, query: Analyzed, signals: QueryScores,
                   positions: np.ndarray) -> np.ndarray:
    """rapidfuzz similarities of ``query`` with each candidate entry, scaled to [0, 1]."""
    starts, stops = index.phrasing_ranges(positions)
    compacts = index.compacts
    # Slices, not one index per phrasing: with training phrasings the candidates hold ~1,000.
    texts = list(chain.from_iterable(compacts[a:b] for a, b in zip(starts.tolist(), stops.tolist())))
    ratios = cdist([query.compact], texts, scorer=fuzz.ratio, dtype=np.float32)[0] / 100.0
    firsts = np.r_[0, np.cumsum(stops - starts)[:-1]]
    fuzz_max = np.maximum.reduceat(ratios, firsts)
    best = signals.best_phrasing[positions]
    fuzz_best = ratios[firsts + best - starts]
    words = [index.joined_words[i] for i in best]
    token_set = cdist([" ".join(query.words)], words, scorer=fuzz.token_set_ratio, dtype=np.float32)[0] / 100.0
    # The customer typed one of the entry's phrasings (after normalization): near-certain.
    exact = (fuzz_max >= 1.0).astype(float)
    return np.column_stack([fuzz_best, fuzz_max, token_set, exact])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
