"""Intent classifier: word and character n-grams, a linear SVM, sigmoid-calibrated probabilities.

Training uses scikit-learn (`build_pipeline`); answering one sentence does not: sklearn's
per-call overhead (input validation, sparse matrix construction) is several times the
arithmetic. `LinearIntentModel` copies the fitted vocabulary, idf weights, SVM coefficients
and calibration curves into plain arrays and scores a sentence with a dictionary lookup
and one small matrix product. `tests/nlu/test_classifier.py` checks it agrees with
`predict_proba` of the fitted pipeline.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from chatbot.nlu.intents import IntentScore

CHAR_NGRAMS = (1, 2, 3)


def features(doc: tuple[str, Sequence[str]]) -> list[str]:
    """Feature strings of one (normalized text, tokens) pair: words, word pairs, char n-grams."""
    text, tokens = doc
    feats = ["w:" + t for t in tokens]
    feats += ["b:" + a + "|" + b for a, b in zip(tokens, tokens[1:])]
    chars = text.replace(" ", "")
    for n in CHAR_NGRAMS:
        feats += [f"c{n}:" + chars[i:i + n] for i in range(len(chars) - n + 1)]
    return feats


def build_pipeline(c: float = 1.0, cv: int = 5):
    """The trainable pipeline (sklearn objects; imported lazily to keep start-up light)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, lowercase=False)
    svm = LinearSVC(C=c, class_weight="balanced", max_iter=5000)
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=cv, ensemble=False)
    return Pipeline([("features", vectorizer), ("classifier", calibrated)])


class LinearIntentModel:
    """A fitted pipeline compiled to arrays for fast single-sentence scoring."""

    def __init__(self, pipeline) -> None:
        vectorizer = pipeline.named_steps["features"]
        calibrated = pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        svm = calibrated.estimator
        self.classes = [str(c) for c in calibrated.classes]
        self.vocabulary: dict[str, int] = dict(vectorizer.vocabulary_)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.coef_t = np.ascontiguousarray(svm.coef_.T, dtype=np.float64)  # features x classes
        self.intercept = np.asarray(svm.intercept_, dtype=np.float64)
        self.cal_a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        self.cal_b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
        self.pipeline = pipeline

    def probabilities(self, text: str, tokens: Sequence[str]) -> np.ndarray:
        """Calibrated probability of every class (same order as `classes`)."""
        counts = Counter(f for f in features((text, tokens)) if f in self.vocabulary)
        if not counts:
            decision = self.intercept
        else:
            index = np.fromiter((self.vocabulary[f] for f in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=np.float64, count=len(counts))
            weights = tf * self.idf[index]
            weights /= np.sqrt(weights @ weights)
            decision = weights @ self.coef_t[index] + self.intercept
        proba = 1.0 / (1.0 + np.exp(self.cal_a * decision + self.cal_b))
        total = proba.sum()
        return proba / total if total > 0 else np.full(len(self.classes), 1.0 / len(self.classes))

    def rank(self, text: str, tokens: Sequence[str]) -> list[IntentScore]:
        proba = self.probabilities(text, tokens)
        order = np.argsort(-proba)
        return [IntentScore(self.classes[i], float(proba[i])) for i in order]
