"""Turn a text into the features retrieval compares: words and character n-grams.

A query is normalized (full-width, Traditional, typos) and segmented exactly once;
both the index and the query go through :meth:`TextAnalyzer.features`, so they
always agree on what a feature is. Callers that already ran the NLU pipeline pass
the normalized text and tokens to :meth:`TextAnalyzer.from_normalized` instead of
paying for it twice.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chatbot.nlu.normalize import Normalizer, default_normalizer
from chatbot.nlu.segment import Segmenter, default_segmenter

# Character n-grams of length 1..CHAR_NGRAM_MAX: unigrams keep rare one-character
# words (吞, 磁) that jieba glues to neighbours; bigrams carry most of the meaning.
CHAR_NGRAM_MAX = 2
# Sentence-final particles and filler carry no meaning for matching; question words
# (怎么, 多少, 吗 aside) stay, since they separate "how much" from "how to".
PARTICLES = frozenset("吗 嘛 呢 啊 吧 了 的 呀 么 哦 哈 啦 呗 哇 咯 嗯 噢".split())
# Greetings, politeness and "the matter of" words wrap a question without saying what it
# is about ("你好，我想咨询一下吞卡的事情"); as content words they would count as part of
# the question that no entry covers.
FILLER_WORDS = frozenset("""你好 您好 请问 问下 问一下 想问 想问问 我想 咨询 咨询一下 一下 麻烦 麻烦你 谢谢
    谢啦 多谢 那个 这个 就是 事情 事儿 的事 相关""".split())
_PUNCT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Analyzed:
    """A text as retrieval sees it."""

    text: str                   # normalized text (what rapidfuzz compares)
    tokens: tuple[str, ...]     # jieba tokens of ``text``
    words: tuple[str, ...]      # content tokens (features ``w:``)
    chars: tuple[str, ...]      # character n-grams without punctuation (features ``c:``)
    compact: str                # ``text`` without punctuation or spaces

    @property
    def is_empty(self) -> bool:
        return not self.compact


class TextAnalyzer:
    """Normalizes, segments and extracts features; shared by the index and queries."""

    def __init__(self, normalizer: Normalizer | None = None, segmenter: Segmenter | None = None):
        self.normalizer = normalizer or default_normalizer()
        self.segmenter = segmenter or default_segmenter()
        self._indexed: dict[str, Analyzed] = {}
        self._saved: Callable[[], tuple[Sequence[str], Sequence[Analyzed]]] | None = None

    def warm_up(self) -> None:
        """Load what the first query would otherwise wait for (jieba's dictionary, the typo index)."""
        self.normalizer.warm_up()
        self.segmenter.initialize()

    def analyze(self, text: str) -> Analyzed:
        """Normalize and segment raw ``text`` (what a customer typed)."""
        normalized = self.normalizer.normalize(text).text
        return self.from_normalized(normalized, self.segmenter.cut(normalized))

    def analyze_indexed(self, texts: Sequence[str]) -> list[Analyzed]:
        """:meth:`analyze` each text an index is built from, reusing the previous build's work.

        An admin edit changes a few entries and rebuilds the whole index; normalizing and
        segmenting thousands of unchanged phrasings again would be most of the rebuild.
        Only the texts of the latest build are kept, so memory follows the FAQ's size. (An
        analyzer's normalizer and segmenter never change, so a kept analysis stays right.)
        """
        saved, self._saved = self._saved, None
        previous = dict(zip(*saved())) if saved is not None else self._indexed
        current = {text: previous.get(text) or self.analyze(text) for text in dict.fromkeys(texts)}
        self._indexed = current  # one reference swap: a concurrent build sees old or new, whole
        return [current[text] for text in texts]

    def remember(self, saved: Callable[[], tuple[Sequence[str], Sequence[Analyzed]]]) -> None:
        """Take the texts and analyses ``saved()`` returns (a saved index's) as the latest build's:
        the next :meth:`analyze_indexed` reuses them as if this analyzer had computed them.
        ``saved`` is called then, not now (a worker that never rebuilds never needs them)."""
        self._saved = saved

    def from_normalized(self, text: str, tokens: list[str] | tuple[str, ...]) -> Analyzed:
        """Build features from text the NLU pipeline already normalized and segmented."""
        words = tuple(word for token in tokens if (word := _content(token)))
        compact = _PUNCT.sub("", text)
        return Analyzed(text, tuple(tokens), words, char_ngrams(compact), compact)


def char_ngrams(compact: str, longest: int = CHAR_NGRAM_MAX) -> tuple[str, ...]:
    """All character n-grams of length 1..``longest`` of ``compact``."""
    return tuple(compact[i:i + n] for n in range(1, longest + 1) for i in range(len(compact) - n + 1))


def _content(token: str) -> str:
    word = _PUNCT.sub("", token).lower()
    return "" if word in PARTICLES or word in FILLER_WORDS else word
