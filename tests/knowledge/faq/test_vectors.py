"""The index's arithmetic: TF-IDF, the exact latent space, the one-vs-rest classifier."""
import numpy as np
import pytest
from sklearn.svm import LinearSVC

from knowledge.faq.vectors import (LatentSpace, count_matrix, fit_one_vs_rest, inverse_document_frequency,
                                   tfidf_matrix, weighted_row_sum)

DOCUMENTS = [[0, 1, 1, 2], [2, 3], [], [0, 4, 4, 4], [1, 3, 5]]
SIZE = 7  # column 6 occurs in no document


def test_tfidf_matches_the_formula_written_out():
    counts = count_matrix(DOCUMENTS, SIZE)
    idf = inverse_document_frequency(counts)
    n = len(DOCUMENTS)
    df = [sum(column in set(doc) for doc in DOCUMENTS) for column in range(SIZE)]
    expected_idf = [np.log((1 + n) / (1 + d)) + 1 if d else 0.0 for d in df]
    assert np.allclose(idf, expected_idf)
    matrix = tfidf_matrix(counts, idf).toarray()
    for row, doc in zip(matrix, DOCUMENTS):
        weights = np.zeros(SIZE)
        for column in set(doc):
            weights[column] = (1 + np.log(doc.count(column))) * idf[column]
        norm = np.linalg.norm(weights)
        assert np.allclose(row, weights / norm if norm else weights)


def test_latent_space_is_the_exact_truncated_svd():
    rng = np.random.default_rng(0)
    documents = [list(rng.integers(0, 60, rng.integers(3, 15))) for _ in range(25)]
    space = LatentSpace(documents, 60, 8)
    counts = count_matrix(documents, 60)
    dense = tfidf_matrix(counts, inverse_document_frequency(counts)).toarray()
    assert np.allclose(space.singular_values, np.linalg.svd(dense, compute_uv=False)[:8])
    # A document scored as a query is closest to itself (cosine 1 in the latent space).
    columns = np.unique(documents[3])
    tf = 1 + np.log([documents[3].count(c) for c in columns])
    scores = space.scores(columns, tf)
    assert np.argmax(scores) == 3 and scores[3] == pytest.approx(1.0, abs=1e-5)


def test_a_one_document_latent_space_scores_zero():
    space = LatentSpace([[1, 2]], 5, 16)
    assert space.scores(np.array([1]), np.ones(1)).tolist() == [0.0]


@pytest.mark.parametrize(("n_classes", "threads"), [(2, 1), (3, 2), (40, 3)])
def test_one_vs_rest_in_groups_equals_one_model_over_all_classes(n_classes, threads):
    rng = np.random.default_rng(1)
    documents = [list(rng.integers(0, 80, 8)) + [80 + label] for label in range(n_classes) for _ in range(4)]
    labels = np.repeat(np.arange(n_classes), 4)
    weights = rng.choice([0.5, 1.0], len(labels))
    counts = count_matrix(documents, 80 + n_classes)
    matrix = tfidf_matrix(counts, inverse_document_frequency(counts))
    coef, bias = fit_one_vs_rest(matrix, labels, weights, n_classes, 1.0, threads=threads)
    whole = LinearSVC(C=1.0, max_iter=20_000, random_state=0).fit(matrix, labels, sample_weight=weights)
    expected = whole.decision_function(matrix)
    if n_classes == 2:  # sklearn reports the second class only; the first is its mirror
        expected = np.column_stack([-expected, expected])
    decisions = np.asarray(matrix @ coef) + bias
    assert np.allclose(decisions, expected, atol=1e-3)
    assert (decisions.argmax(axis=1) == labels).all()


def test_one_class_has_nothing_to_learn():
    counts = count_matrix([[0, 1], [1]], 2)
    coef, bias = fit_one_vs_rest(tfidf_matrix(counts, inverse_document_frequency(counts)),
                                 np.array([0, 0]), np.ones(2), 1, 1.0)
    assert not coef.any() and not bias.any()


def test_weighted_row_sum_is_the_sparse_product():
    rng = np.random.default_rng(1)
    matrix = count_matrix([list(rng.integers(0, 9, size=rng.integers(0, 6))) for _ in range(12)], 9)
    for rows in ([0], [3, 1, 7], [2, 2], list(range(12)), []):
        rows = np.asarray(rows, dtype=np.int64)
        weights = rng.random(len(rows))
        expected = weights @ matrix[rows].toarray() if len(rows) else np.zeros(9)
        assert np.allclose(weighted_row_sum(matrix, rows, weights), expected)
