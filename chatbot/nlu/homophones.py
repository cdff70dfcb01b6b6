"""Recover banking terms typed with a same-sounding wrong character.

Pinyin input methods make a typical typo: the right syllables, the wrong
candidate (挂时 for 挂失, 于额 for 余额). A 2-4 character window is replaced by a
dictionary term when both read the same (toneless pinyin) and differ in exactly
one character. Since only one character may differ, the index is keyed by the
term with one position blanked out; pinyin is only consulted on a hit, which
keeps the common case (no typo) to a few dictionary look-ups.

Guards against "correcting" real words: the window must not itself be a term,
a protected word or a common word; it must not cut into a term or protected
word; a typo at the window's edge must not form a common word with the
character outside it (关于额外 keeps its 于额); and the differing character must
not be a particle (验证吗 is a question, not 验证码).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from functools import cached_property, lru_cache
from itertools import accumulate

from chatbot.nlu import resource_cache
from chatbot.nlu.lexicon import Lexicon
from chatbot.nlu.lexmatch import LongestMatcher
from chatbot.nlu.textmap import Edit

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_WINDOW_SIZES = (4, 3, 2)
_BLANK = "\x00"
# Particles, pronouns and 好 are typed constantly and rarely by mistake for a
# noun; letting them count as typos turns 这张卡好用吗 into 卡号.
_NEVER_TYPO = frozenset("吗嘛呢吧啊呀哦哈了的地得么是在有不也都就和与及或把被给让我你他她它好")


@lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """All toneless pinyin readings of one character (heteronyms included); also read by
    chatbot/nlu/pinyin_input.py."""
    table = _reading_table()
    index = ord(char) - _TABLE_START
    if table is not None and 0 <= index < len(table):
        return frozenset(table[index].split(","))
    return _pypinyin_readings(char)


def _pypinyin_readings(char: str) -> frozenset[str]:
    from pypinyin import Style, pinyin  # heavy import (its phrase tables), deferred to first use

    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


# Every character a window or a term can hold (`_HAN_RUN`): the readings table covers them all.
_TABLE_START, _TABLE_END = 0x4E00, 0x9FFF


@lru_cache(maxsize=1)
def _reading_table() -> list[str] | None:
    """pypinyin's readings of U+4E00..U+9FFF, comma-joined, from the NLU cache directory
    (computed there once per pypinyin version, ~0.5 s); None without a cache directory."""
    if resource_cache.directory() is None:
        return None
    from importlib.metadata import version

    parts = {"pypinyin": version("pypinyin"), "code": resource_cache.source_digest(__file__),
             "range": [_TABLE_START, _TABLE_END]}
    payload = resource_cache.load_or_build("pinyin_readings", parts, _encode_reading_table)
    table = payload.decode("utf-8").split("\n")
    if len(table) != _TABLE_END - _TABLE_START + 1:  # cannot happen to a file that passed its checksum
        logging.getLogger(__name__).warning("pinyin readings from the NLU cache unusable: %d rows", len(table))
        return None
    return table


def _encode_reading_table() -> bytes:
    # A reading is letters (or, for a character pypinyin does not know, the character itself).
    return "\n".join(",".join(sorted(_pypinyin_readings(chr(code))))
                     for code in range(_TABLE_START, _TABLE_END + 1)).encode("utf-8")


def _masks(word: str) -> Iterable[tuple[int, str]]:
    for pos in range(len(word)):
        yield pos, word[:pos] + _BLANK + word[pos + 1 :]


class HomophoneCorrector:
    """Proposes edits that turn one-character homophone typos into dictionary terms."""

    def __init__(self, terms: Iterable[str], protected: Iterable[str] = (), lexicon: Lexicon | None = None):
        self._terms = tuple(t for t in dict.fromkeys(terms) if _HAN_RUN.fullmatch(t))
        self._fixed = LongestMatcher([*self._terms, *protected])
        # The lexicon's filter is `_is_near_term`: it depends on the terms and on this module.
        filter_key = hashlib.sha256("\n".join(self._terms).encode("utf-8")).hexdigest() + ":" \
            + resource_cache.source_digest(__file__)
        self._lexicon = lexicon or Lexicon(keep_long=self._is_near_term, cache_key=filter_key)

    @cached_property
    def _index(self) -> dict[str, tuple[str, ...]]:
        """Term with one character blanked -> the terms it came from; built on first use."""
        index: dict[str, list[str]] = {}
        for term in self._terms:
            if len(term) in _WINDOW_SIZES:
                for _, key in _masks(term):
                    index.setdefault(key, []).append(term)
        return {key: tuple(terms) for key, terms in index.items()}

    @cached_property
    def _term_chars(self) -> frozenset[str]:
        return frozenset("".join(self._terms))

    def edits(self, text: str) -> list[Edit]:
        """Return ``(start, end, term)`` edits for the typos found in ``text``."""
        counts = self._prefix_counts(text)
        found: list[Edit] = []
        for run in _HAN_RUN.finditer(text):
            i = run.start()
            while i < run.end() - 1:
                edit = self._edit_at(text, i, run.end(), counts)
                if edit is None:
                    i += 1
                    continue
                found.append(edit)
                i = edit[1]
        return found

    def _prefix_counts(self, text: str) -> tuple[list[int], list[int]]:
        """Running counts of fixed characters and of term characters, for O(1) window tests."""
        fixed = bytearray(len(text))
        for start, end, _ in self._fixed.finditer(text):
            fixed[start:end] = b"\x01" * (end - start)
        term_chars = self._term_chars
        return (
            list(accumulate(fixed, initial=0)),
            list(accumulate((c in term_chars for c in text), initial=0)),
        )

    def _edit_at(self, text: str, i: int, run_end: int, counts: tuple[list[int], list[int]]) -> Edit | None:
        fixed, known = counts
        for size in _WINDOW_SIZES:
            end = i + size
            # Skip windows that touch a real term, or that share too few characters with any term.
            if end > run_end or fixed[end] != fixed[i] or known[end] - known[i] < size - 1:
                continue
            window = text[i:end]
            found = self._term_for(window)
            if found and self._safe_to_replace(text, i, end, found[1]):
                return i, end, found[0]
        return None

    def _term_for(self, window: str) -> tuple[str, int] | None:
        """The term ``window`` is a homophone typo of, and the typo's position."""
        index = self._index
        for pos, key in _masks(window):
            typo = window[pos]
            if typo in _NEVER_TYPO:
                continue
            for term in index.get(key, ()):
                if typo != term[pos] and readings(typo) & readings(term[pos]):
                    return term, pos
        return None

    def _safe_to_replace(self, text: str, start: int, end: int, typo_pos: int) -> bool:
        """False if the window is a real word, or its typo belongs to a word outside it."""
        if text[start:end] in self._lexicon:
            return False
        if typo_pos == 0 and start > 0:
            return text[start - 1 : start + 1] not in self._lexicon  # 关于|额外
        if typo_pos == end - start - 1 and end < len(text):
            return text[end - 1 : end + 1] not in self._lexicon  # 挂时|间
        return True

    def _is_near_term(self, word: str) -> bool:
        """Lexicon filter: keep longer words only if they could be mistaken for a term."""
        index = self._index
        return any(key in index for _, key in _masks(word))

    def warm_up(self) -> None:
        """Build the index, read the lexicon and the readings now instead of on the first typo."""
        _ = self._index
        _ = "" in self._lexicon
        _reading_table()
