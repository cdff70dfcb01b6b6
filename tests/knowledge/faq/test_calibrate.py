"""The hold-out protocol and threshold helpers behind bench/faq.py --fit."""
import numpy as np

from knowledge.faq import calibrate
from knowledge.faq.analyze import TextAnalyzer


def test_holdout_split_removes_one_phrasing_per_entry(faq_entries):
    indexed, queries = calibrate.holdout_split(faq_entries, calibrate.TEST_POSITION)
    assert len(indexed) == len(faq_entries) and len(queries) == len(faq_entries)
    by_id = {e.id: e for e in faq_entries}
    for entry, query in zip(indexed, queries):
        original = by_id[query.expected]
        assert query.text == original.similar[-1] and query.text not in entry.phrasings
        assert entry.similar == original.similar[:-1]


def test_dev_and_test_queries_never_overlap(faq_entries):
    test = {q.text for q in calibrate.holdout_split(faq_entries, calibrate.TEST_POSITION)[1]}
    for position in calibrate.DEV_POSITIONS:
        dev = {q.text for q in calibrate.holdout_split(faq_entries, position)[1]}
        assert not dev & test


def test_precision_at_counts_only_answered_questions():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
    right = np.array([True, True, True, False, True])
    assert calibrate.precision_at(0.8, scores, right) == 1.0
    assert calibrate.precision_at(0.6, scores, right) == 0.8
    assert calibrate.precision_at(0.99, scores, right) == 0.0


def test_clarify_threshold_leaves_the_share_of_out_of_domain_questions_above():
    scores = np.linspace(0.0, 1.0, 11)
    threshold = calibrate.clarify_threshold(scores, share=0.2)
    assert abs(threshold - 0.8) < 1e-9
    assert np.mean(scores >= threshold) <= 0.2 + 1 / len(scores)


def test_training_phrasings_equal_to_a_held_out_query_are_dropped(faq_entries):
    analyzer = TextAnalyzer()
    _, queries = calibrate.holdout_split(faq_entries[:2], calibrate.TEST_POSITION)
    held = queries[0].text
    training = {faq_entries[0].id: (held, "完全无关的另一句"), faq_entries[1].id: (held + "！",)}
    kept, dropped = calibrate.without_queries(training, queries, analyzer)
    # Punctuation does not make it a different question: both copies go, the rest stays.
    assert dropped == 2
    assert kept == {faq_entries[0].id: ("完全无关的另一句",), faq_entries[1].id: ()}
