"""Sparse vector machinery of the FAQ index: one vocabulary, many TF-IDF spaces, one gather.

A query is encoded once (feature columns and sublinear term frequencies). Every space
is TF-IDF with its own IDF over the shared vocabulary (IDF 0 where the space never saw
the feature, so the feature is ignored there, as an unknown word would be). Because

    cos(q, d) = sum_c tf'(q,c) * [idf(c)^2 * tf'(d,c) / |d|]  /  |q|

the bracket is precomputed per posting, and all spaces are stacked into one
feature -> rows posting matrix: scoring a query against every phrasing, entry and answer
is one gather and one ``bincount``, then a division by each space's query norm. The
classifier and the latent (LSA) space fold their IDF into their weights the same way.
Building a scipy matrix per query would cost several times the arithmetic.
"""
from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import chain

import numpy as np
import scipy.sparse as sp

# Threads fitting the classifier's one-vs-rest problems side by side (liblinear frees the GIL).
SVM_THREADS = 2


class Vocabulary:
    """Feature string -> column, grown while the index is built, frozen afterwards."""

    def __init__(self) -> None:
        self._columns: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._columns)

    def add(self, features: Iterable[str]) -> list[int]:
        """Columns of ``features`` (new ones appended)."""
        columns = self._columns
        return [columns.setdefault(f, len(columns)) for f in features]

    def get(self, feature: str) -> int | None:
        return self._columns.get(feature)

    def features(self) -> list[str]:
        """Every feature, in column order (what a saved index keeps)."""
        return list(self._columns)

    @classmethod
    def of(cls, features: Sequence[str]) -> Vocabulary:
        """The vocabulary whose columns are ``features`` in order (a saved index's)."""
        vocabulary = cls()
        vocabulary._columns = {feature: column for column, feature in enumerate(features)}
        if len(vocabulary._columns) != len(features):
            raise ValueError("a saved vocabulary repeats a feature")
        return vocabulary

    def encode(self, features: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the known features and their sublinear term frequencies ``1 + log tf``."""
        counts = Counter(c for f in features if (c := self._columns.get(f)) is not None)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        return columns, 1.0 + np.log(tf)


def count_matrix(documents: Sequence[Sequence[int]], size: int) -> sp.csr_matrix:
    """Rows: how often each column occurs in each document (one sparse build, no Python loop per row)."""
    lengths = np.fromiter((len(doc) for doc in documents), dtype=np.int64, count=len(documents))
    columns = np.fromiter(chain.from_iterable(documents), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(documents)), lengths)
    counts = sp.csr_matrix((np.ones(len(columns)), (rows, columns)), shape=(len(documents), size))
    counts.sum_duplicates()
    return counts


def csr_arrays(matrix: sp.csr_matrix, name: str) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays ``<name>.data`` / ``.indices`` / ``.indptr`` / ``.shape``."""
    return {f"{name}.data": matrix.data, f"{name}.indices": matrix.indices,
            f"{name}.indptr": matrix.indptr, f"{name}.shape": np.asarray(matrix.shape, dtype=np.int64)}


def csr_from_arrays(arrays: dict[str, np.ndarray], name: str) -> sp.csr_matrix:
    """The matrix :func:`csr_arrays` took apart (structure checked by scipy)."""
    shape = tuple(int(n) for n in arrays[f"{name}.shape"])
    matrix = sp.csr_matrix((arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]),
                           shape=shape)
    matrix.check_format(full_check=True)
    return matrix


def weighted_row_sum(matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ matrix[rows]`` as one dense row, gathered from the CSR arrays: slicing a
    scipy matrix per query costs more than the arithmetic (its index checks and copies)."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    values = matrix.data[positions] * np.repeat(weights, lengths)
    return np.bincount(matrix.indices[positions], values, minlength=matrix.shape[1])


def inverse_document_frequency(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed IDF per column (``log((1+n)/(1+df)) + 1``), 0 for columns no document has."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1 + counts.shape[0]) / (1 + df)) + 1.0
    return np.where(df > 0, idf, 0.0)


def tfidf_matrix(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Rows: L2-normalized ``(1 + log tf) * idf`` of each document."""
    matrix = counts.copy()
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(matrix.indptr))
    return matrix


class StackedSpaces:
    """Named TF-IDF spaces over one vocabulary, scored together."""

    def __init__(self, spaces: dict[str, Sequence[Sequence[int]]], size: int) -> None:
        self.names = tuple(spaces)
        counts = [count_matrix(docs, size) for docs in spaces.values()]
        self.idf = np.vstack([inverse_document_frequency(c) for c in counts])
        blocks = [tfidf_matrix(c, idf) @ sp.diags(idf) for c, idf in zip(counts, self.idf)]
        sizes = [block.shape[0] for block in blocks]
        self._bounds = np.cumsum([0, *sizes])
        self._postings = sp.vstack(blocks).T.tocsr()  # feature -> rows of every space

    def arrays(self) -> dict[str, np.ndarray]:
        """What :meth:`restore` needs (the fitted state, as plain arrays)."""
        return {"idf": self.idf, "bounds": self._bounds, **csr_arrays(self._postings, "postings")}

    @classmethod
    def restore(cls, names: Sequence[str], arrays: dict[str, np.ndarray]) -> StackedSpaces:
        spaces = cls.__new__(cls)
        spaces.names = tuple(names)
        spaces.idf, spaces._bounds = arrays["idf"], arrays["bounds"]
        spaces._postings = csr_from_arrays(arrays, "postings")
        if len(spaces.names) != spaces.idf.shape[0] or len(spaces._bounds) != len(spaces.names) + 1:
            raise ValueError("saved spaces do not match their names")
        return spaces

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> dict[str, np.ndarray]:
        """Cosine of the encoded query with every document of every space."""
        raw = weighted_row_sum(self._postings, columns, tf)
        norms = np.linalg.norm(self.idf[:, columns] * tf, axis=1)
        return {name: raw[self._bounds[i]:self._bounds[i + 1]] / (norms[i] or 1.0)
                for i, name in enumerate(self.names)}


class LinearClassifier:
    """Linear SVM over a TF-IDF space, one class per entry; IDF folded into the weights."""

    def __init__(self, samples: Sequence[Sequence[int]], labels: Sequence[int], weights: Sequence[float],
                 n_classes: int, size: int, c: float) -> None:
        counts = count_matrix(samples, size)
        self.idf = inverse_document_frequency(counts)
        matrix = tfidf_matrix(counts, self.idf)
        coef, self._bias = fit_one_vs_rest(matrix, np.asarray(labels), np.asarray(weights), n_classes, c)
        self._coef = (coef * self.idf[:, None]).astype(np.float32)  # feature-major: gather query rows

    def arrays(self) -> dict[str, np.ndarray]:
        """What :meth:`restore` needs (the fitted state, as plain arrays)."""
        return {"idf": self.idf, "coef": self._coef, "bias": self._bias}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray]) -> LinearClassifier:
        classifier = cls.__new__(cls)
        classifier.idf, classifier._coef, classifier._bias = arrays["idf"], arrays["coef"], arrays["bias"]
        if classifier._coef.shape != (len(classifier.idf), len(classifier._bias)):
            raise ValueError("saved classifier weights do not match its vocabulary and classes")
        return classifier

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Decision value of every class (higher means more likely)."""
        norm = np.linalg.norm(self.idf[columns] * tf) or 1.0
        return (tf / norm).astype(np.float32) @ self._coef[columns] + self._bias


def fit_one_vs_rest(matrix: sp.csr_matrix, labels: np.ndarray, weights: np.ndarray, n_classes: int,
                    c: float, threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest linear SVM: weights (features x classes) and biases.

    Every class is an independent binary problem and liblinear releases the GIL, so
    groups of classes are fitted side by side, ``threads`` groups (default: up to
    :data:`SVM_THREADS`, one per CPU). The weights are those of one ``LinearSVC`` over
    all classes, up to the solver's tolerance.
    """
    coef = np.zeros((matrix.shape[1], n_classes))
    bias = np.zeros(n_classes, dtype=np.float32)
    if n_classes < 2:
        return coef, bias  # one entry: nothing to tell apart
    from sklearn.svm import LinearSVC  # heavy import, paid only when an index is built

    groups = [g for g in np.array_split(np.arange(n_classes), threads or _svm_threads(n_classes)) if len(g)]
    model = partial(LinearSVC, C=c, max_iter=20_000, random_state=0)
    fit = partial(_fit_group, model, matrix, labels, weights, coef, bias)
    with warnings.catch_warnings():
        # Classes with a handful of samples may stop short of the tolerance; the weights are fine.
        warnings.filterwarnings("ignore", message=r".*(converge|Liblinear).*")
        if len(groups) == 1:
            fit(groups[0])
        else:
            with ThreadPoolExecutor(len(groups)) as pool:
                list(pool.map(fit, groups))
    return coef, bias


def _svm_threads(n_classes: int) -> int:
    # Each group costs one extra "rest" problem: not worth it for a few dozen classes.
    return max(1, min(SVM_THREADS, os.cpu_count() or 1, n_classes // 32))


def _fit_group(new_model, matrix: sp.csr_matrix, labels: np.ndarray, weights: np.ndarray,
               coef: np.ndarray, bias: np.ndarray, group: np.ndarray) -> None:
    """Fit the classes of ``group`` into their columns of ``coef`` and ``bias``."""
    # The group's classes keep their labels and every other class becomes one "rest"
    # label: exactly the negatives each of the group's one-vs-rest problems needs.
    grouped = np.where(np.isin(labels, group), labels, _REST)
    model = new_model().fit(matrix, grouped, sample_weight=weights)
    vectors, intercepts = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # liblinear learns one vector, for the second class; the first mirrors it
        vectors, intercepts = np.vstack([-vectors[0], vectors[0]]), np.array([-1.0, 1.0]) * intercepts[0]
    mine = model.classes_ != _REST
    coef[:, model.classes_[mine]] = vectors[mine].T
    bias[model.classes_[mine]] = intercepts[mine]


_REST = -1


class LatentSpace:
    """Latent semantic analysis (truncated SVD) of documents; cosine in the latent space.

    The SVD is exact and cheap: with far fewer documents (entries) than features, the
    right singular vectors follow from the eigenvectors of the small document Gram
    matrix ``M M^T`` (documents x documents), so nothing of feature size is factorized
    (milliseconds for hundreds of entries; the Gram matrix grows with entries squared,
    fine up to a few thousand).
    """

    def __init__(self, documents: Sequence[Sequence[int]], size: int, dimensions: int) -> None:
        counts = count_matrix(documents, size)
        idf = inverse_document_frequency(counts)
        matrix = tfidf_matrix(counts, idf)
        components, singular = _top_singular(matrix, dimensions)
        # The query's own norm cancels out after projection, so only IDF is folded in.
        self._by_feature = (components.T * idf[:, None]).astype(np.float32)
        # A document's latent vector is (M V)_i = (U S)_i; rows are then scaled to unit length.
        self._documents = _unit_rows(np.asarray(matrix @ components.T)).astype(np.float32)
        self.singular_values = singular

    def arrays(self) -> dict[str, np.ndarray]:
        """What :meth:`restore` needs (the fitted state, as plain arrays)."""
        return {"by_feature": self._by_feature, "documents": self._documents, "singular": self.singular_values}

    @classmethod
    def restore(cls, arrays: dict[str, np.ndarray]) -> LatentSpace:
        space = cls.__new__(cls)
        space._by_feature, space._documents = arrays["by_feature"], arrays["documents"]
        space.singular_values = arrays["singular"]
        if space._by_feature.shape[1] != space._documents.shape[1]:
            raise ValueError("saved latent space has mismatched dimensions")
        return space

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Cosine of the query's latent vector with every document's."""
        vector = tf.astype(np.float32) @ self._by_feature[columns]
        norm = np.linalg.norm(vector)
        return self._documents @ (vector / norm) if norm else np.zeros(len(self._documents))


def _top_singular(matrix: sp.csr_matrix, dimensions: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``dimensions`` leading right singular vectors (rows) of ``matrix`` and their values.

    Fewer when the matrix has lower rank; one zero vector when it has nothing to relate
    (a one-document index).
    """
    from scipy.linalg import eigh

    rows, size = matrix.shape
    dimensions = min(dimensions, rows - 1, size - 1)
    if dimensions < 1:
        return np.zeros((1, size)), np.zeros(1)
    gram = (matrix @ matrix.T).toarray()
    values, vectors = eigh(gram, subset_by_index=[rows - dimensions, rows - 1])
    values, vectors = values[::-1], vectors[:, ::-1]  # largest first
    keep = values > values[0] * 1e-10
    singular = np.sqrt(values[keep])
    # V^T = S^-1 U^T M: each component is a combination of the documents' rows.
    components = np.asarray((matrix.T @ vectors[:, keep]).T) / singular[:, None]
    return components, singular


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
