"""Intent classifier: word and character n-grams, a linear SVM, sigmoid-calibrated probabilities.

Training uses scikit-learn (`build_pipeline`); answering one sentence does not: sklearn's
per-call overhead (input validation, sparse matrix construction) is several times the
arithmetic. `LinearIntentModel` copies the fitted vocabulary, idf weights, SVM coefficients
and calibration curves into plain arrays and scores a sentence with a dictionary lookup
and one small matrix product. `tests/nlu/test_classifier.py` checks it agrees with
`predict_proba` of the fitted pipeline.

Features (chosen by cross-validation on data/intents.yaml, see training/evaluate.py): the
jieba words, and character 1- and 2-grams of the text wrapped in `^` and `#` (two characters
the normalizer always removes, so they never collide with text). The markers let short
replies tell "好" (affirm) from "好" inside a sentence, and "^在吗#" from "在吗" at the end
of a question. Character trigrams and word bigrams scored lower in cross-validation:
with a few thousand examples they mostly memorize phrasings.

A fitted pipeline keeps its `FeatureExtractor` (pickled with the model), so a model always
scores sentences with the features it was trained on. Models saved before the extractor
existed pickled the bare `features` function, which now computes different features; they
are scored with `LEGACY_FEATURES`, the scheme they were trained with (retrain to upgrade).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chatbot.errors import ServiceUnavailable
from chatbot.nlu.intents import IntentScore

BEGIN, END = "^", "#"  # removed by the normalizer (see chatbot/nlu/normalize.py `_NOISE`)
WORD_NGRAMS = (1,)
CHAR_NGRAMS = (1, 2)
DEFAULT_C = 2.0  # cross-validated over 0.5-2.0 on data/intents.yaml (2.0 best on two seeds)


@dataclass(frozen=True)
class FeatureExtractor:
    """Feature strings of one (normalized text, tokens) document; the TF-IDF analyzer."""

    word_ngrams: tuple[int, ...] = WORD_NGRAMS
    char_ngrams: tuple[int, ...] = CHAR_NGRAMS
    boundaries: bool = True

    def __call__(self, doc: tuple[str, Sequence[str]]) -> list[str]:
        text, tokens = doc
        feats: list[str] = []
        for n in self.word_ngrams:
            if n == 1:  # the common case, without the slicing (this runs on every message)
                feats += ["w:" + t for t in tokens]
            else:
                prefix = "b:" if n == 2 else f"w{n}:"
                feats += [prefix + "|".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        chars = text.replace(" ", "")
        if self.boundaries:
            chars = BEGIN + chars + END
        for n in self.char_ngrams:
            feats += [f"c{n}:" + chars[i:i + n] for i in range(len(chars) - n + 1)]
        return feats


DEFAULT_FEATURES = FeatureExtractor()
# What `features` computed before extractors were pickled with models (words, word pairs,
# character 1-3-grams, no boundary markers); feature names are unchanged since.
LEGACY_FEATURES = FeatureExtractor(word_ngrams=(1, 2), char_ngrams=(1, 2, 3), boundaries=False)


def features(doc: tuple[str, Sequence[str]]) -> list[str]:
    """Feature strings of one (normalized text, tokens) pair with the default extractor."""
    return DEFAULT_FEATURES(doc)


def build_pipeline(c: float = DEFAULT_C, cv: int = 5, extractor: FeatureExtractor = DEFAULT_FEATURES):
    """The trainable pipeline (sklearn objects; imported lazily to keep start-up light)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=extractor, sublinear_tf=True, lowercase=False)
    svm = LinearSVC(C=c, class_weight="balanced", max_iter=5000)
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=cv, ensemble=False)
    return Pipeline([("features", vectorizer), ("classifier", calibrated)])


class LinearIntentModel:
    """A fitted pipeline compiled to arrays for fast single-sentence scoring.

    The arrays are all a sentence's score needs, so they are also what is saved beside the
    pipeline (`state` / `restore`, used by `chatbot/nlu/model_store.py`): a worker loads them
    without unpickling the pipeline or importing scikit-learn. A restored model has no
    `pipeline` (None).
    """

    def __init__(self, pipeline) -> None:
        vectorizer = pipeline.named_steps["features"]
        self.extractor = _extractor_of(vectorizer)
        calibrated = pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        svm = calibrated.estimator
        self.classes = [str(c) for c in calibrated.classes]
        self.vocabulary: dict[str, int] = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.coef_t = np.ascontiguousarray(svm.coef_.T, dtype=np.float64)  # features x classes
        self.intercept = np.asarray(svm.intercept_, dtype=np.float64)
        self.cal_a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        self.cal_b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
        self.pipeline = pipeline

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What `restore` needs: JSON-able metadata (classes, feature names in column order,
        the extractor's settings) and the numeric arrays."""
        names: list[str | None] = [None] * len(self.vocabulary)
        for name, column in self.vocabulary.items():
            names[column] = name
        meta = {"classes": list(self.classes), "features": names,
                "extractor": {"word_ngrams": list(self.extractor.word_ngrams),
                              "char_ngrams": list(self.extractor.char_ngrams),
                              "boundaries": self.extractor.boundaries}}
        arrays = {"idf": self.idf, "coef_t": self.coef_t, "intercept": self.intercept,
                  "cal_a": self.cal_a, "cal_b": self.cal_b}
        return meta, arrays

    @classmethod
    def restore(cls, meta: dict, arrays: dict[str, np.ndarray]) -> LinearIntentModel:
        """The model `state` described; ValueError when the parts do not fit together."""
        model = cls.__new__(cls)
        names, classes = meta["features"], meta["classes"]
        extractor = meta["extractor"]
        model.extractor = FeatureExtractor(tuple(int(n) for n in extractor["word_ngrams"]),
                                           tuple(int(n) for n in extractor["char_ngrams"]),
                                           bool(extractor["boundaries"]))
        model.classes = [str(c) for c in classes]
        model.vocabulary = {str(name): column for column, name in enumerate(names)}
        model.idf = np.asarray(arrays["idf"], dtype=np.float64)
        model.coef_t = np.ascontiguousarray(arrays["coef_t"], dtype=np.float64)
        model.intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        model.cal_a = np.asarray(arrays["cal_a"], dtype=np.float64)
        model.cal_b = np.asarray(arrays["cal_b"], dtype=np.float64)
        model.pipeline = None
        n_features, n_classes = len(names), len(classes)
        if (len(model.vocabulary) != n_features or model.idf.shape != (n_features,)
                or model.coef_t.shape != (n_features, n_classes)
                or any(a.shape != (n_classes,) for a in (model.intercept, model.cal_a, model.cal_b))):
            raise ValueError("the saved arrays do not fit the saved features and classes")
        return model

    def probabilities(self, text: str, tokens: Sequence[str]) -> np.ndarray:
        """Calibrated probability of every class (same order as `classes`)."""
        vocabulary = self.vocabulary
        counts = Counter(f for f in self.extractor((text, tokens)) if f in vocabulary)
        if not counts:
            decision = self.intercept
        else:
            index = np.fromiter((vocabulary[f] for f in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=np.float64, count=len(counts))
            weights = tf * self.idf[index]
            weights /= np.sqrt(weights @ weights)
            decision = weights @ self.coef_t[index] + self.intercept
        proba = 1.0 / (1.0 + np.exp(self.cal_a * decision + self.cal_b))
        total = proba.sum()
        return proba / total if total > 0 else np.full(len(self.classes), 1.0 / len(self.classes))

    def rank(self, text: str, tokens: Sequence[str]) -> list[IntentScore]:
        """Every intent with its confidence, best first."""
        proba = self.probabilities(text, tokens)
        order = np.argsort(-proba)
        return [IntentScore(self.classes[i], float(proba[i])) for i in order]


def _extractor_of(vectorizer) -> FeatureExtractor:
    """The extractor the model was trained with; older pickles get theirs put back."""
    analyzer = vectorizer.analyzer
    if isinstance(analyzer, FeatureExtractor):
        return analyzer
    if analyzer is features:
        # Unpickling resolved the old function by name to today's `features`: score with the
        # scheme it was trained on, in the pipeline too, so both keep agreeing.
        vectorizer.set_params(analyzer=LEGACY_FEATURES)
        return LEGACY_FEATURES
    raise ServiceUnavailable("意图模型的特征函数无法识别：请运行 `chatbot train` 重新训练", "model_unknown_features")
