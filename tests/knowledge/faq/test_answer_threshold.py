"""The answer threshold: the lowest score that keeps wrong answers under a share of all questions."""
import dataclasses

import numpy as np
import yaml

from knowledge.faq import calibrate
from knowledge.faq.ranking import fuzzy_features, rank
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import validate_entry
from tests.faq_samples import SMALL_FAQ


def test_no_wrong_answer_allowed_puts_the_threshold_above_the_best_wrong_score():
    scores = np.array([0.99, 0.97, 0.95, 0.9, 0.6, 0.4])
    right = np.array([True, False, True, True, False, True])
    threshold = calibrate.answer_threshold(scores, right, max_wrong=0.0)
    assert threshold == 0.98
    assert not np.any((scores >= threshold) & ~right)


def test_the_allowed_share_counts_all_questions_not_the_answered_ones():
    scores = np.linspace(0.5, 0.99, 100)
    right = np.ones(100, dtype=bool)
    right[[95, 60, 10]] = False           # wrong at 0.9655, 0.797 and 0.5495
    threshold = calibrate.answer_threshold(scores, right, max_wrong=0.02)
    # Two wrong answers of 100 are allowed: the third highest wrong one must fall below.
    assert 0.5495 < threshold <= 0.56
    assert np.sum((scores >= threshold) & ~right) == 2


def test_all_right_needs_no_threshold():
    assert calibrate.answer_threshold(np.array([0.9, 0.2]), np.array([True, True])) == 0.0


def test_the_shipped_threshold_is_one_a_fit_can_give():
    from knowledge.faq.retrieve import ANSWER_THRESHOLD

    assert 0.5 <= ANSWER_THRESHOLD < 1.0 and round(ANSWER_THRESHOLD, 2) == ANSWER_THRESHOLD


def _small_retriever() -> FaqRetriever:
    return FaqRetriever([validate_entry(raw) for raw in yaml.safe_load(SMALL_FAQ)])


def test_fuzzy_features_mark_the_entry_whose_phrasing_was_typed():
    retriever = _small_retriever()
    query = retriever.analyze("卡丢了咋办")
    signals = retriever.index.score(query)
    positions = np.arange(len(retriever.entries))
    features = fuzzy_features(retriever.index, query, signals, positions)
    fuzz_best, fuzz_max, _, exact = features.T
    assert list(exact) == [1.0, 0.0, 0.0] and fuzz_max[0] == 1.0
    assert np.all(fuzz_best <= fuzz_max) and np.all((features >= 0) & (features <= 1))


def test_fuzzy_features_follow_the_candidates_order():
    retriever = _small_retriever()
    query = retriever.analyze("房贷利率是多少")
    signals = retriever.index.score(query)
    forward = fuzzy_features(retriever.index, query, signals, np.array([0, 1, 2]))
    backward = fuzzy_features(retriever.index, query, signals, np.array([2, 1, 0]))
    assert np.array_equal(forward, backward[::-1])
    assert rank(retriever.index, query, retriever.model).positions[0] == 2


def test_an_entry_without_similar_phrasings_is_ranked():
    entries = [validate_entry(raw) for raw in yaml.safe_load(SMALL_FAQ)]
    entries[2] = dataclasses.replace(entries[2], similar=())
    retriever = FaqRetriever(entries)
    assert retriever.search("房贷利率是多少", top_k=1)[0].entry.id == "rate"


def test_an_faq_without_training_phrasings_asks_from_a_lower_score():
    from knowledge.faq.retrieve import CLARIFY_THRESHOLD, CLARIFY_THRESHOLD_WITHOUT_TRAINING

    entries = [validate_entry(raw) for raw in yaml.safe_load(SMALL_FAQ)]
    assert CLARIFY_THRESHOLD_WITHOUT_TRAINING < CLARIFY_THRESHOLD
    assert FaqRetriever(entries).clarify_threshold == CLARIFY_THRESHOLD_WITHOUT_TRAINING
    # Training phrasings of other entries (a retriever's, kept across an edit) index nothing here.
    assert FaqRetriever(entries, training={"card-001": ("卡没了咋整",)}).clarify_threshold \
        == CLARIFY_THRESHOLD_WITHOUT_TRAINING
    trained = FaqRetriever(entries, training={"lost": ("卡没了咋整",)})
    assert trained.clarify_threshold == CLARIFY_THRESHOLD
    assert trained.with_entries(entries).clarify_threshold == CLARIFY_THRESHOLD


def test_decide_asks_from_the_retrievers_own_clarify_threshold(monkeypatch):
    from knowledge.faq import retrieve

    retriever = _small_retriever()
    top = retriever.decide("信用卡逾期怎么办").hits[0].score
    monkeypatch.setattr(retriever, "clarify_threshold", top - 0.01)
    assert retriever.decide("信用卡逾期怎么办").kind == "clarify"
    monkeypatch.setattr(retriever, "clarify_threshold", min(top + 0.01, retrieve.ANSWER_THRESHOLD))
    assert retriever.decide("信用卡逾期怎么办").kind == "not_found"
