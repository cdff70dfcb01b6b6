"""Leftmost-longest matching of a fixed word list.

A regex alternation of a few hundred words tries every alternative at every
position; indexing the lengths by first character keeps a 20-character sentence
to a handful of dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class LongestMatcher:
    """Finds non-overlapping occurrences of known words, longest first."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(w for w in words if w)
        lengths: dict[str, set[int]] = {}
        for word in self._words:
            lengths.setdefault(word[0], set()).add(len(word))
        self._lengths = {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def finditer(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Yield ``(start, end, word)`` scanning left to right, longest word first."""
        i, n = 0, len(text)
        lengths = self._lengths
        while i < n:
            end = self._longest_at(text, i, lengths.get(text[i], ()))
            if end:
                yield i, end, text[i:end]
                i = end
            else:
                i += 1

    def _longest_at(self, text: str, i: int, lengths: tuple[int, ...]) -> int:
        for length in lengths:
            end = i + length
            if end <= len(text) and text[i:end] in self._words:
                return end
        return 0
