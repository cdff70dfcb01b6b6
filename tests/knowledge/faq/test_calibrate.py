"""The hold-out protocol and threshold helpers behind bench/faq.py --fit."""
import numpy as np

from knowledge.faq import calibrate


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


def test_answer_threshold_reaches_the_precision():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
    right = np.array([True, True, True, False, True])
    assert calibrate.answer_threshold(scores, right, precision=1.0) == 0.8
    assert calibrate.answer_threshold(scores, right, precision=0.75) == 0.6


def test_clarify_threshold_keeps_the_share_of_in_domain_questions():
    scores = np.linspace(0.0, 1.0, 11)
    assert abs(calibrate.clarify_threshold(scores, keep=0.9) - 0.1) < 1e-9
