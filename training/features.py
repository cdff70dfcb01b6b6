"""Turn raw texts into the (normalized text, tokens) documents the classifier expects.

Training and serving must prepare text identically, so both go through the same
normalizer and segmenter the parser uses.
"""
from __future__ import annotations

from collections.abc import Iterable

from chatbot.nlu.normalize import default_normalizer
from chatbot.nlu.segment import default_segmenter


def prepare(texts: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    normalizer, segmenter = default_normalizer(), default_segmenter()
    docs = []
    for text in texts:
        normalized = normalizer.normalize(text).text
        docs.append((normalized, tuple(segmenter.cut(normalized))))
    return docs
