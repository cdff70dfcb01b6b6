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

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp


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

    def encode(self, features: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the known features and their sublinear term frequencies ``1 + log tf``."""
        counts = Counter(c for f in features if (c := self._columns.get(f)) is not None)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        return columns, 1.0 + np.log(tf)


def inverse_document_frequency(documents: Sequence[Sequence[int]], size: int) -> np.ndarray:
    """Smoothed IDF per column (``log((1+n)/(1+df)) + 1``), 0 for columns no document has."""
    df = np.zeros(size)
    for doc in documents:
        df[list(set(doc))] += 1
    idf = np.log((1 + len(documents)) / (1 + df)) + 1.0
    return np.where(df > 0, idf, 0.0)


def tfidf_matrix(documents: Sequence[Sequence[int]], idf: np.ndarray) -> sp.csr_matrix:
    """Rows: L2-normalized ``(1 + log tf) * idf`` of each document."""
    indptr, indices, data = [0], [], []
    for doc in documents:
        counts = Counter(doc)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[columns]
        norm = math.sqrt(float(weights @ weights)) or 1.0
        indices.extend(columns.tolist())
        data.extend((weights / norm).tolist())
        indptr.append(len(indices))
    return sp.csr_matrix((data, indices, indptr), shape=(len(documents), len(idf)))


class StackedSpaces:
    """Named TF-IDF spaces over one vocabulary, scored together."""

    def __init__(self, spaces: dict[str, Sequence[Sequence[int]]], size: int) -> None:
        self.names = tuple(spaces)
        self.idf = np.vstack([inverse_document_frequency(docs, size) for docs in spaces.values()])
        blocks = [tfidf_matrix(docs, idf) @ sp.diags(idf) for docs, idf in zip(spaces.values(), self.idf)]
        sizes = [block.shape[0] for block in blocks]
        self._bounds = np.cumsum([0, *sizes])
        self._postings = sp.vstack(blocks).T.tocsr()  # feature -> rows of every space

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> dict[str, np.ndarray]:
        """Cosine of the encoded query with every document of every space."""
        postings = self._postings
        starts = postings.indptr[columns]
        lengths = postings.indptr[columns + 1] - starts
        shift = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        positions = shift + np.arange(lengths.sum())
        values = postings.data[positions] * np.repeat(tf, lengths)
        raw = np.bincount(postings.indices[positions], values, minlength=self._bounds[-1])
        norms = np.linalg.norm(self.idf[:, columns] * tf, axis=1)
        return {name: raw[self._bounds[i]:self._bounds[i + 1]] / (norms[i] or 1.0)
                for i, name in enumerate(self.names)}


class LinearClassifier:
    """Linear SVM over a TF-IDF space, one class per entry; IDF folded into the weights."""

    def __init__(self, samples: Sequence[Sequence[int]], labels: Sequence[int], weights: Sequence[float],
                 n_classes: int, size: int, c: float) -> None:
        self.idf = inverse_document_frequency(samples, size)
        matrix = tfidf_matrix(samples, self.idf)
        coef, self._bias = _fit_linear_svm(matrix, np.asarray(labels), np.asarray(weights), n_classes, c)
        self._coef = (coef * self.idf[:, None]).astype(np.float32)  # feature-major: gather query rows

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Decision value of every class (higher means more likely)."""
        norm = np.linalg.norm(self.idf[columns] * tf) or 1.0
        return (tf / norm).astype(np.float32) @ self._coef[columns] + self._bias


def _fit_linear_svm(matrix: sp.csr_matrix, labels: np.ndarray, weights: np.ndarray, n_classes: int,
                    c: float) -> tuple[np.ndarray, np.ndarray]:
    coef = np.zeros((matrix.shape[1], n_classes))
    bias = np.zeros(n_classes, dtype=np.float32)
    if n_classes < 2:
        return coef, bias  # one entry: nothing to tell apart
    from sklearn.svm import LinearSVC  # heavy import, paid only when an index is built

    model = LinearSVC(C=c, max_iter=20_000, random_state=0)
    with warnings.catch_warnings():
        # Classes with a handful of samples may stop short of the tolerance; the weights are fine.
        warnings.filterwarnings("ignore", message=r".*(converge|Liblinear).*")
        model.fit(matrix, labels, sample_weight=weights)
    if n_classes == 2:
        # liblinear learns one vector for class 1 when there are two; class 0 is its mirror.
        coef[:, 1], coef[:, 0] = model.coef_[0], -model.coef_[0]
        bias[1], bias[0] = model.intercept_[0], -model.intercept_[0]
    else:
        coef[:, model.classes_] = model.coef_.T
        bias[model.classes_] = model.intercept_
    return coef, bias


class LatentSpace:
    """Latent semantic analysis (truncated SVD) of documents; cosine in the latent space."""

    def __init__(self, documents: Sequence[Sequence[int]], size: int, dimensions: int) -> None:
        idf = inverse_document_frequency(documents, size)
        matrix = tfidf_matrix(documents, idf)
        dimensions = min(dimensions, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if dimensions < 1:  # a one-document index has nothing to relate
            self._by_feature = np.zeros((size, 1), dtype=np.float32)
            self._documents = np.zeros((matrix.shape[0], 1), dtype=np.float32)
            return
        from sklearn.decomposition import TruncatedSVD  # heavy import, paid only when building

        svd = TruncatedSVD(dimensions, random_state=0).fit(matrix)
        # The query's own norm cancels out after projection, so only IDF is folded in.
        self._by_feature = (svd.components_.T * idf[:, None]).astype(np.float32)
        self._documents = _unit_rows(svd.transform(matrix)).astype(np.float32)

    def scores(self, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Cosine of the query's latent vector with every document's."""
        vector = tf.astype(np.float32) @ self._by_feature[columns]
        norm = np.linalg.norm(vector)
        return self._documents @ (vector / norm) if norm else np.zeros(len(self._documents))


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
