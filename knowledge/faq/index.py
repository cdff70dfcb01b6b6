"""The FAQ search index: what every query is scored against, built once per entry list.

Tags are the editor's keywords for an entry (aliases, colloquial words, the aspect it
answers: 收费 / 多久 / 材料); each is normalized and segmented like any phrasing.
Training phrasings (:mod:`knowledge.faq.training`) are indexed as more phrasings of
their entry.

Built at start and after an admin edit (about 2 s for ~350 entries and ~15,000
phrasings once the analyzer has seen the texts: a rebuild re-analyzes only new or edited
phrasings), never per query; saved once per content and loaded by every other process
(:meth:`FaqIndex.state` / :meth:`FaqIndex.restore`, :mod:`knowledge.faq.index_store`):

* **phrasing spaces**: one row per phrasing (question, each ``similar``, each training one), words and
  character n-grams separately; a query's best phrasing per entry is its nearest neighbour.
* **entry spaces**: one row per entry with all its phrasings and tags pooled, so a query
  that borrows one word from each of two paraphrases still lands on the entry.
* **answer space**: the answer text, a weak signal (the answer often names the thing a
  colloquial question only hints at).
* **classifier**: a linear SVM with one class per entry, trained on the phrasings and
  (down-weighted) the answer and the tags; it learns which words tell neighbouring
  entries apart.
* **category classifier**: the same samples labelled by ``category``; an entry's score is
  how far its category trails the query's most likely one, which keeps a question that
  names a product (信用卡, 房贷) away from look-alike entries about another product.
* **semantic space**: latent semantic analysis (truncated SVD) of the pooled entries,
  their answers and tags, so words the FAQ uses interchangeably (吞卡 / 取款机 / 吃卡) count as
  related even when the query shares none of them with the right phrasing.
* **word coverage**: how much of the query (IDF-weighted) an entry uses at all; an entry
  that matches one rare word well but ignores the rest of the question falls back.

The arithmetic lives in :mod:`knowledge.faq.vectors`; a query is encoded once and every
space reuses the encoding.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from chatbot.errors import InvalidInput
from knowledge.faq.analyze import Analyzed, TextAnalyzer
from knowledge.faq.store import FaqEntry
from knowledge.faq.training import NO_TRAINING, TrainingPhrasings
from knowledge.faq.vectors import (
    LatentSpace,
    LinearClassifier,
    StackedSpaces,
    Vocabulary,
    count_matrix,
    csr_arrays,
    csr_from_arrays,
    weighted_row_sum,
)

# The answer is a paragraph, not a question: it teaches the classifier vocabulary
# but must not outvote the phrasings.
ANSWER_SAMPLE_WEIGHT = 0.5
# An entry's tags (keywords and aliases an editor attached) form one more sample; weighted
# above a phrasing since they name what the entry is about (chosen on the development split).
TAG_SAMPLE_WEIGHT = 3.0
CLASSIFIER_C = 1.0
# Latent dimensions: 64-256 scored alike on the development split; 128 is the middle.
SEMANTIC_DIMENSIONS = 128

# What a built index is made of (see FaqIndex.state): metadata (JSON-able) and named arrays.
IndexState = tuple[dict[str, Any], dict[str, np.ndarray]]


@dataclass(frozen=True)
class QueryScores:
    """Every per-entry score of one query (arrays of length ``len(entries)``)."""

    phrase_words: np.ndarray
    phrase_chars: np.ndarray
    best_phrasing: np.ndarray     # index into ``FaqIndex.phrasings`` of the closest phrasing
    entry_words: np.ndarray
    entry_chars: np.ndarray
    answer_words: np.ndarray
    classifier: np.ndarray
    category: np.ndarray          # entry's category decision value minus the best category's (<= 0)
    semantic: np.ndarray
    word_coverage: np.ndarray     # IDF-weighted share of the query's words the entry ever uses


class FaqIndex:
    """Everything about a list of entries that a query is scored against; immutable."""

    def __init__(self, entries: Sequence[FaqEntry], analyzer: TextAnalyzer,
                 training: TrainingPhrasings = NO_TRAINING) -> None:
        self._layout(entries, training)
        analyzed = self._analyzed = analyzer.analyze_indexed(self._sources)
        count = len(self.texts)
        self.phrasings = analyzed[:count]
        self.compacts = [p.compact for p in self.phrasings]
        self.joined_words = [" ".join(p.words) for p in self.phrasings]
        answers = analyzed[count:count + len(self.entries)]
        self._build(answers, self._tags_per_entry(analyzed[count + len(self.entries):]))

    @classmethod
    def restore(cls, entries: Sequence[FaqEntry], training: TrainingPhrasings, state: IndexState,
                analyses: Callable[[list[str]], list[Analyzed]]) -> FaqIndex:
        """The index :meth:`state` described, for the same entries and training phrasings.

        Nothing is analyzed or fitted again. ``analyses`` gives the saved analysis of each
        text of :meth:`sources`; it is called only when :attr:`phrasings` or :meth:`sources`
        is first needed (an admin edit's rebuild), since a query needs neither. Raises
        ``ValueError`` (or ``KeyError``) when ``state`` does not fit the entries.
        """
        index = cls.__new__(cls)
        index._layout(entries, training)
        meta, arrays = state
        if list(meta["entry_ids"]) != [entry.id for entry in index.entries] \
                or meta["sources_sha256"] != _texts_digest(index._sources):
            raise ValueError("saved index was built from other entries or phrasings")
        if not np.array_equal(arrays["owner"], index.owner):
            raise ValueError("saved index was built for other phrasings")
        index._lazy_analyses = lambda: analyses(index._sources)
        index.compacts, index.joined_words = list(meta["compacts"]), list(meta["joined_words"])
        if not len(index.compacts) == len(index.joined_words) == len(index.texts):
            raise ValueError("saved phrasing features do not match the phrasings")
        index.vocabulary = Vocabulary.of(meta["vocabulary"])
        index._spaces = StackedSpaces.restore(meta["spaces"], _prefixed(arrays, "spaces"))
        index._semantic = LatentSpace.restore(_prefixed(arrays, "semantic"))
        index._classifier = LinearClassifier.restore(_prefixed(arrays, "classifier"))
        index._category_of_entry = arrays["category_of_entry"]
        index._category_classifier = LinearClassifier.restore(_prefixed(arrays, "category"))
        index._phrase_word_idf = index._spaces.idf[0]
        index._word_incidence = csr_from_arrays(arrays, "word_incidence")
        index._entry_word_idf = index._spaces.idf[2]
        size = len(index.vocabulary)
        if (index._spaces.idf.shape[1], index._word_incidence.shape[0]) != (size, size) \
                or len(index._category_of_entry) != len(index.entries) \
                or index._spaces._bounds[-1] != len(index.texts) * 2 + len(index.entries) * 3:
            raise ValueError("saved index arrays do not match its vocabulary or entries")
        return index

    def state(self) -> IndexState:
        """Everything fitted, as JSON-able metadata and plain numeric arrays (no objects)."""
        meta = {"entry_ids": [entry.id for entry in self.entries], "sources_sha256": _texts_digest(self._sources),
                "vocabulary": self.vocabulary.features(), "spaces": list(self._spaces.names),
                "compacts": self.compacts, "joined_words": self.joined_words}
        arrays = {"owner": self.owner, "category_of_entry": self._category_of_entry,
                  **_with_prefix("spaces", self._spaces.arrays()),
                  **_with_prefix("semantic", self._semantic.arrays()),
                  **_with_prefix("classifier", self._classifier.arrays()),
                  **_with_prefix("category", self._category_classifier.arrays()),
                  **csr_arrays(self._word_incidence, "word_incidence")}
        return meta, arrays

    @property
    def source_texts(self) -> list[str]:
        """Every text the index analyzes: phrasings, answers, tags (in that order, with repeats)."""
        return self._sources

    def sources(self) -> tuple[list[str], list[Analyzed]]:
        """:attr:`source_texts` and the analysis of each."""
        return self._sources, self._analyzed

    @cached_property
    def _analyzed(self) -> list[Analyzed]:  # set directly when built; computed on demand when restored
        return self._lazy_analyses()

    @cached_property
    def phrasings(self) -> list[Analyzed]:
        """The analysis of each of :attr:`texts` (set when built, computed on demand when restored)."""
        return self._analyzed[:len(self.texts)]

    def _layout(self, entries: Sequence[FaqEntry], training: TrainingPhrasings) -> None:
        if not entries:
            raise InvalidInput("the FAQ needs at least one entry", code="faq_empty")
        self.entries = tuple(entries)
        per_entry = [(*entry.phrasings, *training.get(entry.id, ())) for entry in self.entries]
        # The text of every indexed phrasing, entry by entry: question, ``similar``, training.
        texts = [text for phrasings in per_entry for text in phrasings]
        self.texts: list[str] = texts
        tags = [tag for entry in self.entries for tag in entry.tags]
        self._sources = [*texts, *(entry.answer for entry in self.entries), *tags]
        self.owner = np.repeat(np.arange(len(self.entries)), [len(p) for p in per_entry])
        self._starts = np.r_[0, np.flatnonzero(np.diff(self.owner)) + 1]
        self._stops = np.r_[self._starts[1:], len(self.owner)]

    def _tags_per_entry(self, analyzed_tags: list[Analyzed]) -> list[list[Analyzed]]:
        per_entry, start = [], 0
        for entry in self.entries:
            per_entry.append(analyzed_tags[start:start + len(entry.tags)])
            start += len(entry.tags)
        return per_entry

    def _build(self, answers: list[Analyzed], tags: list[list[Analyzed]]) -> None:
        vocabulary = self.vocabulary = Vocabulary()
        words = [vocabulary.add(_words(p.words)) for p in self.phrasings]
        chars = [vocabulary.add(_chars(p.chars)) for p in self.phrasings]
        answer_words = [vocabulary.add(_words(a.words)) for a in answers]
        answer_chars = [vocabulary.add(_chars(a.chars)) for a in answers]
        # Each tag is analyzed on its own, so no character bigram spans two tags.
        tag_words = [vocabulary.add(_words(w for t in entry_tags for w in t.words)) for entry_tags in tags]
        tag_chars = [vocabulary.add(_chars(c for t in entry_tags for c in t.chars)) for entry_tags in tags]
        entry_words, entry_chars = self._pool(words), self._pool(chars)
        for position in range(len(self.entries)):
            entry_words[position].extend(tag_words[position])
            entry_chars[position].extend(tag_chars[position])
        size = len(vocabulary)
        self._spaces = StackedSpaces({"phrase_words": words, "phrase_chars": chars,
                                      "entry_words": entry_words, "entry_chars": entry_chars,
                                      "answer_words": answer_words}, size)
        joint = [w + c for w, c in zip(words, chars)]
        answer_joint = [w + c for w, c in zip(answer_words, answer_chars)]
        tag_joint = [w + c for w, c in zip(tag_words, tag_chars)]
        self._semantic = LatentSpace([pooled + answer + tag for pooled, answer, tag
                                      in zip(self._pool(joint), answer_joint, tag_joint)],
                                     size, SEMANTIC_DIMENSIONS)
        entry_labels = list(range(len(self.entries)))
        labels = [*self.owner.tolist(), *entry_labels, *entry_labels]
        weights = ([1.0] * len(joint) + [ANSWER_SAMPLE_WEIGHT] * len(answer_joint)
                   + [TAG_SAMPLE_WEIGHT] * len(tag_joint))
        samples = joint + answer_joint + tag_joint
        self._classifier = LinearClassifier(samples, labels, weights, len(self.entries), size, CLASSIFIER_C)
        # The same samples labelled by category (信用卡 / 贷款 / 外汇 ...): hundreds of samples a
        # class, so it knows which product a question is about even when no entry-level
        # phrasing shares its words ("信用卡晚还一天" is not about a loan's grace period).
        categories = sorted({entry.category for entry in self.entries})
        self._category_of_entry = np.array([categories.index(e.category) for e in self.entries])
        category_labels = self._category_of_entry[np.asarray(labels)]
        self._category_classifier = LinearClassifier(samples, category_labels, weights, len(categories),
                                                     size, CLASSIFIER_C)
        self._phrase_word_idf = self._spaces.idf[0]
        self._build_word_incidence(entry_words)

    def _build_word_incidence(self, entry_words: list[list[int]]) -> None:
        """Word -> entries that use it (in a phrasing or a tag), for :meth:`_word_coverage`."""
        incidence = count_matrix([sorted(set(words)) for words in entry_words], len(self.vocabulary))
        incidence.data[:] = 1.0
        self._word_incidence = incidence.T.tocsr()
        self._entry_word_idf = self._spaces.idf[2]

    def _pool(self, per_phrasing: list[list[int]]) -> list[list[int]]:
        pooled: list[list[int]] = [[] for _ in self.entries]
        for owner, columns in zip(self.owner, per_phrasing):
            pooled[owner].extend(columns)
        return pooled

    def score(self, query: Analyzed) -> QueryScores:
        """All similarity signals of ``query`` against every entry."""
        columns, tf = self.vocabulary.encode([*_words(query.words), *_chars(query.chars)])
        spaces = self._spaces.scores(columns, tf)
        words, chars = spaces["phrase_words"], spaces["phrase_chars"]
        # The closest phrasing is chosen on the two signals together, then reported per signal.
        best = self._argmax_per_entry(words + chars)
        return QueryScores(
            phrase_words=words[best], phrase_chars=chars[best], best_phrasing=best,
            entry_words=spaces["entry_words"], entry_chars=spaces["entry_chars"],
            answer_words=spaces["answer_words"],
            classifier=self._classifier.scores(columns, tf),
            category=self._category_gap(columns, tf),
            semantic=self._semantic.scores(columns, tf),
            word_coverage=self._word_coverage(query))

    def _word_coverage(self, query: Analyzed) -> np.ndarray:
        """Per entry: the IDF-weighted share of the query's words that the entry uses.

        A word no entry uses weighs as much as the rarest known word: "有没有活人" shares
        only 有没有 with most entries, and that should not look like most of the question.
        """
        idf = self._entry_word_idf
        unseen = float(idf.max())
        known, missing = [], 0
        for feature in set(_words(query.words)):
            column = self.vocabulary.get(feature)
            if column is not None and idf[column] > 0:
                known.append(column)
            else:
                missing += 1
        total = float(idf[known].sum()) + missing * unseen
        if not known or total <= 0:
            return np.zeros(len(self.entries))
        known = np.asarray(known)
        return weighted_row_sum(self._word_incidence, known, idf[known]) / total

    def _category_gap(self, columns: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Per entry: how far its category's decision value is below the best category's (0 = best)."""
        decisions = self._category_classifier.scores(columns, tf)
        return (decisions - decisions.max())[self._category_of_entry]

    def coverage(self, query: Analyzed) -> float:
        """IDF-weighted share of the query's words that the FAQ phrasings ever use.

        Low for questions about something else entirely (天气, 减肥): their best match is
        then a coincidence of function words, whatever its cosine says.
        """
        if not query.words:
            return 0.0
        idf = self._phrase_word_idf
        unseen = float(idf.max())  # a word the phrasings never use is as rare as it gets
        known = unknown = 0.0
        for feature in _words(query.words):
            column = self.vocabulary.get(feature)
            weight = float(idf[column]) if column is not None else 0.0
            if weight > 0:
                known += weight
            else:
                unknown += unseen
        return known / (known + unknown)

    def phrasing_range(self, position: int) -> tuple[int, int]:
        """The slice of :attr:`phrasings` that belongs to entry ``position``."""
        return int(self._starts[position]), int(self._stops[position])

    def phrasing_ranges(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Starts and stops of the :attr:`phrasings` of the entries at ``positions``."""
        return self._starts[positions], self._stops[positions]

    def _argmax_per_entry(self, values: np.ndarray) -> np.ndarray:
        best = np.maximum.reduceat(values, self._starts)
        hits = np.flatnonzero(values == best[self.owner])
        # Owners are sorted, so the first hit of each owner is its first best phrasing.
        owners = self.owner[hits]
        return hits[np.r_[True, owners[1:] != owners[:-1]]]


def _texts_digest(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()


def _with_prefix(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{name}": array for name, array in arrays.items()}


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    start = len(prefix) + 1
    return {name[start:]: array for name, array in arrays.items() if name.startswith(prefix + ".")}


def _words(words) -> list[str]:
    return [f"w:{w}" for w in words]


def _chars(chars) -> list[str]:
    return [f"c:{c}" for c in chars]
