"""Turn a raw chat message into canonical text the rest of the NLU can rely on.

Steps, in order (each keeps track of where its characters came from):

1. NFKC: full-width letters, digits and punctuation become half-width
   (``５０００`` -> ``5000``, ``，`` -> ``,``, ``￥`` -> ``¥``); the en dash and its kin
   become ``-`` (``31–45`` stays two numbers).
2. Traditional -> Simplified Chinese with OpenCC (``t2s``).
3. Latin letters lowercased.
4. Emoji, symbols and decorative punctuation removed; the punctuation that
   carries meaning (``. , % ¥ $ - : ; ? ! 。 、 * + / ~ ( ) —``) is kept.
   English banking words become the Chinese term (``mortgage rate`` -> ``房贷利率``),
   whole words only, from the ``english`` table of ``data/synonyms.yaml``; a message
   typed in pinyin becomes Chinese (``wo yao zhuanzhang`` -> ``我要转账``), see
   :mod:`chatbot.nlu.pinyin_input`.
5. Whitespace: runs become one space, dropped at the ends and between two
   Chinese characters (where it never carries meaning and splits words).
6. A run of three or more of the same non-digit character becomes one
   (``啊啊啊啊`` -> ``啊``); digits are never squeezed (``8888`` is a card tail).
7. Spelling variants from ``data/synonyms.yaml`` (``转帐`` -> ``转账``), longest
   match first, protected words untouched.
8. One-character homophone typos of banking terms (``挂时`` -> ``挂失``), see
   :mod:`chatbot.nlu.homophones`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from chatbot.nlu.homophones import HomophoneCorrector
from chatbot.nlu.lexmatch import LongestMatcher
from chatbot.nlu.pinyin_input import PinyinReader
from chatbot.nlu.resources import (
    BANKING_DICT_FILE,
    SYNONYMS_FILE,
    load_dictionary_terms,
    load_synonyms,
    resolve_data_dir,
)
from chatbot.nlu.textmap import Edit, MappedText

# Dashes typed between figures ("31–45 岁", "500‒1000"): one hyphen, never dropped as noise
# (which would glue 31 and 45 into 3145). The long dash — stays (it is kept as punctuation).
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2212\u2015\ufe63"})
_NOISE = re.compile(r"[^\w\s.,%¥$\-:;?!。、*+/~()—]|_")
_SPACES = re.compile(r"\s+")
_SQUEEZE = re.compile(r"(\D)\1{2,}")
# A lone surrogate is no character at all (OpenCC cannot encode it); it becomes U+FFFD,
# which the noise step then drops.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@dataclass(frozen=True)
class NormalizedText:
    """Normalized text with a map back to the message the user typed.

    ``offsets[i]`` is the index in ``original`` where character ``i`` of ``text``
    starts, and ``offsets[len(text)] == len(original)``. ``ends[i]`` is where it
    stops (exclusive); it differs from ``offsets[i + 1]`` when characters were
    removed in between, which is why spans are mapped with :meth:`to_original`.
    """

    original: str
    text: str
    offsets: tuple[int, ...]
    ends: tuple[int, ...] = field(repr=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``text[start:end]`` to the span of ``original`` it came from."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span ({start}, {end}) is outside the normalized text")
        if start == end:
            return self.offsets[start], self.offsets[start]
        return self.offsets[start], self.ends[end - 1]

    def original_text(self, start: int, end: int) -> str:
        """The original substring behind ``text[start:end]``."""
        orig_start, orig_end = self.to_original(start, end)
        return self.original[orig_start:orig_end]


class Normalizer:
    """Holds the resources normalization needs (OpenCC, synonyms, term index)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        import opencc  # C extension; imported here so importing this module stays cheap

        data = resolve_data_dir(data_dir)
        self._t2s = opencc.OpenCC("t2s")
        table = load_synonyms(data / SYNONYMS_FILE)
        self._variants = {self._surface(k): self._surface(v) for k, v in table.variants.items()}
        protected = {self._surface(word) for word in table.protected}
        self._synonyms = LongestMatcher([*self._variants, *self._variants.values(), *protected])
        self._english = _english_pattern(table.english)
        self._english_terms = table.english
        terms = load_dictionary_terms(data / BANKING_DICT_FILE)
        self._homophones = HomophoneCorrector(terms, protected)
        self._pinyin = PinyinReader(terms, extra_words=self._variants.values())

    def warm_up(self) -> None:
        """Load everything lazy now (typo index, lexicon, pinyin words), e.g. before serving requests."""
        self._homophones.warm_up()
        self._pinyin.warm_up()

    def normalize(self, text: str) -> NormalizedText:
        """Normalize ``text``; see the module docstring for the steps."""
        mapped = self._surface_mapped(MappedText.identity(text))
        mapped = self._clean(mapped)
        mapped = mapped.apply(self._synonym_edits(mapped.text))
        mapped = mapped.apply(self._homophones.edits(mapped.text))
        offsets = (*mapped.starts, len(text))
        return NormalizedText(text, mapped.text, offsets, mapped.ends)

    def _surface(self, text: str) -> str:
        return self._surface_mapped(MappedText.identity(text)).text

    def _surface_mapped(self, mapped: MappedText) -> MappedText:
        mapped = _nfkc(_convert(mapped, lambda text: _SURROGATE.sub("\ufffd", text)))
        mapped = _convert(mapped, self._t2s.convert)
        mapped = _convert(mapped, lambda text: text.translate(_DASHES))
        return _convert(mapped, str.lower)

    def _clean(self, mapped: MappedText) -> MappedText:
        mapped = mapped.apply((m.start(), m.end(), "") for m in _NOISE.finditer(mapped.text))
        mapped = mapped.apply(self._english_edits(mapped.text))
        mapped = mapped.apply(self._pinyin.edits(mapped.text))
        mapped = mapped.apply(_space_edits(mapped.text))
        return mapped.apply((m.start(), m.end(), m.group(1)) for m in _SQUEEZE.finditer(mapped.text))

    def _english_edits(self, text: str) -> list[Edit]:
        if self._english is None:
            return []
        return [(m.start(), m.end(), self._english_terms[" ".join(m.group().split())])
                for m in self._english.finditer(text)]

    def _synonym_edits(self, text: str) -> list[Edit]:
        edits = []
        for start, end, word in self._synonyms.finditer(text):
            canonical = self._variants.get(word)
            if canonical is not None and canonical != word:
                edits.append((start, end, canonical))
        return edits


def _english_pattern(terms: dict[str, str]) -> re.Pattern | None:
    """One alternation of the English phrases, longest first, on whole words only."""
    if not terms:
        return None
    phrases = sorted(terms, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    # The lookahead lets the engine skip every position that does not start a Latin word
    # (most messages are all Chinese) before trying hundreds of alternatives there.
    return re.compile(rf"(?<![a-z0-9])(?=[a-z])(?:{alternatives})(?![a-z0-9])")


def _nfkc(mapped: MappedText) -> MappedText:
    if unicodedata.is_normalized("NFKC", mapped.text):
        return mapped
    edits = []
    for i, char in enumerate(mapped.text):
        folded = unicodedata.normalize("NFKC", char)
        if folded != char:
            edits.append((i, i + 1, folded))
    return mapped.apply(edits)


def _convert(mapped: MappedText, convert) -> MappedText:
    """Apply a character converter, per character only if it changes the length."""
    converted = convert(mapped.text)
    if converted == mapped.text:
        return mapped
    if len(converted) == len(mapped.text):
        return mapped.with_text(converted)
    # Rare (a phrase rule changed the length): redo it one character at a time
    # so every character keeps its own origin.
    edits = []
    for i, char in enumerate(mapped.text):
        single = convert(char)
        if single != char:
            edits.append((i, i + 1, single))
    return mapped.apply(edits)


def _space_edits(text: str) -> list[Edit]:
    edits = []
    for match in _SPACES.finditer(text):
        start, end = match.span()
        at_edge = start == 0 or end == len(text)
        if at_edge or (_is_han(text[start - 1]) and _is_han(text[end])):
            edits.append((start, end, ""))
        elif match.group() != " ":
            edits.append((start, end, " "))
    return edits


@lru_cache(maxsize=1)
def default_normalizer() -> Normalizer:
    """The process-wide normalizer over the repository's ``data/`` directory."""
    return Normalizer()


def normalize(text: str) -> NormalizedText:
    """Normalize ``text`` with :func:`default_normalizer`."""
    return default_normalizer().normalize(text)
