"""Common Chinese words, used to keep typo recovery away from real words.

The word list is jieba's bundled ``dict.txt`` (about 350k entries). Holding all of
it would cost ~40 MB, so only what the homophone corrector asks about is kept:
two-character words (to test a candidate and the words on either side of it)
and the longer words that the caller's filter selects. The file is read on the
first question (or the corrector's warm-up), not when the object is made.

Reading and filtering 350k lines takes ~0.5 s. Given a ``cache_key`` (what the filter
depends on; the homophone corrector passes a digest of its terms) and an NLU cache
directory (``chatbot/nlu/resource_cache.py``), the resulting words are saved there and
later starts read just them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from chatbot.nlu import resource_cache

# Below this jieba frequency a "word" is mostly noise from its training corpus
# (e.g. 留水, 订期), and we would rather correct it than trust it.
DEFAULT_MIN_FREQ = 5


def jieba_dictionary_path() -> Path:
    """Locate jieba's ``dict.txt`` without importing (and initializing) jieba."""
    spec = find_spec("jieba")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the jieba package is not installed")
    return Path(spec.origin).parent / "dict.txt"


class Lexicon:
    """Answers "is this a common word?" for 2-4 character strings."""

    def __init__(
        self,
        path: Path | None = None,
        keep_long: Callable[[str], bool] = lambda word: False,
        min_freq: int = DEFAULT_MIN_FREQ,
        cache_key: str | None = None,
    ) -> None:
        self._path = path
        self._keep_long = keep_long
        self._min_freq = min_freq
        # Names what `keep_long` keeps; None: the words are not cached (the filter is unknown).
        self._cache_key = cache_key
        self._words: frozenset[str] | None = None
        self._lock = threading.Lock()

    def __contains__(self, word: object) -> bool:
        return word in self._load()

    def _load(self) -> frozenset[str]:
        if self._words is None:
            with self._lock:
                if self._words is None:
                    self._words = self._read()
        return self._words

    def _read(self) -> frozenset[str]:
        path = self._path or jieba_dictionary_path()
        if self._cache_key is None or resource_cache.directory() is None:
            return frozenset(self._scan(path))
        parts = {"dictionary": resource_cache.file_digest(path), "min_freq": self._min_freq,
                 "filter": self._cache_key, "code": resource_cache.source_digest(__file__)}
        payload = resource_cache.load_or_build(
            "lexicon", parts, lambda: "\n".join(sorted(self._scan(path))).encode("utf-8"))
        return frozenset(payload.decode("utf-8").split("\n")) if payload else frozenset()

    def _scan(self, path: Path) -> frozenset[str]:
        """The words of jieba's dictionary file that this lexicon keeps (none contains a newline)."""
        words = set()
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                word, freq, *_ = line.split()
                if int(freq) < self._min_freq:
                    continue
                if len(word) == 2 or (len(word) in (3, 4) and self._keep_long(word)):
                    words.add(word)
        return frozenset(words)
