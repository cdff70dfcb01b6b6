"""Word segmentation with jieba plus the bank's user dictionary.

Each ``Segmenter`` owns a private ``jieba.Tokenizer`` so the bank's words never
leak into (or depend on) jieba's process-global tokenizer that other code may use.

jieba's prefix dictionary (every word of its ``dict.txt`` and every prefix of one, with
frequencies: ~500,000 entries) is what a tokenizer needs before its first cut. jieba keeps
it as a marshal file in the system's temporary directory and unmarshals it on each start
(~0.6 s). With an NLU cache directory (``chatbot/nlu/resource_cache.py``, set by
``chatbot serve``) it is saved there instead as UTF-8 words and an integer array, keyed by
the digest of ``dict.txt`` and jieba's version, and loaded in about a third of that time;
the result is the same dictionary jieba builds (``tests/nlu/test_resource_cache.py``).
"""

from __future__ import annotations

import array
import logging
import sys
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from chatbot.nlu import resource_cache
from chatbot.nlu.resources import BANKING_DICT_FILE, resolve_data_dir


def _import_jieba() -> Any:
    """Import jieba without letting its import-time warnings escape.

    jieba 0.42.1 is unmaintained: its modules contain invalid escape sequences
    (a DeprecationWarning, SyntaxWarning on 3.12+, when compiled without a cached
    .pyc) and it imports ``pkg_resources``, which newer setuptools flags as
    deprecated. Neither is ours to fix, and the test suite turns warnings into
    errors, so exactly those two are silenced around the import.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"invalid escape sequence", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"invalid escape sequence", category=SyntaxWarning)
        warnings.filterwarnings("ignore", message=r".*pkg_resources")
        import jieba
    return jieba


class Segmenter:
    """Cuts normalized text into words; banking terms stay whole (挂失, 账单分期)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self._user_dict = resolve_data_dir(data_dir) / BANKING_DICT_FILE
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def initialize(self) -> None:
        """Build the tokenizer and load the user dictionary (once; ~0.5 s)."""
        if self._tokenizer is not None:
            return
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = self._build()

    def _build(self) -> Any:
        jieba = _import_jieba()
        # jieba logs "Building prefix dict..." at DEBUG to stderr on every start.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        cached = prefix_dictionary(jieba)
        if cached is None:
            tokenizer.initialize()  # jieba's own cache (a marshal file in the temp directory)
        else:
            # What `initialize` would set (jieba 0.42's attributes; its version is in the key).
            tokenizer.FREQ, tokenizer.total = cached
            tokenizer.initialized = True
        # Given a path, jieba opens the file and never closes it (ResourceWarning).
        with self._user_dict.open("rb") as handle:
            tokenizer.load_userdict(handle)
        return tokenizer

    def cut(self, text: str) -> list[str]:
        """Segment ``text`` (HMM on for unknown names); whitespace tokens are dropped."""
        self.initialize()
        return [token for token in self._tokenizer.cut(text, HMM=True) if token.strip()]


def prefix_dictionary(jieba: Any) -> tuple[dict[str, int], int] | None:
    """jieba's prefix dictionary (``FREQ``, ``total``) of its default ``dict.txt``, from the
    NLU cache directory (built there when missing); None without a cache directory."""
    if resource_cache.directory() is None:
        return None
    from chatbot.nlu.lexicon import jieba_dictionary_path

    dictionary = jieba_dictionary_path()  # what jieba reads for its default dictionary
    parts = {"dictionary": resource_cache.file_digest(dictionary), "jieba": jieba.__version__,
             "code": resource_cache.source_digest(__file__)}
    payload = resource_cache.load_or_build("jieba_prefix", parts, lambda: _encode_prefix(jieba, dictionary))
    try:
        return _decode_prefix(payload)
    except ValueError as error:  # cannot happen to a file that passed its checksum; be safe anyway
        logging.getLogger(__name__).warning("jieba prefix dictionary from the NLU cache unusable: %s", error)
        return None


def _encode_prefix(jieba: Any, dictionary: Path) -> bytes:
    """``count total`` on the first line, ``count`` little-endian int64 frequencies, then the
    words joined by newlines (a jieba word never contains one: its lines are split on spaces)."""
    with dictionary.open("rb") as handle:
        freq, total = jieba.Tokenizer.gen_pfdict(handle)
    counts = array.array("q", freq.values())
    if sys.byteorder != "little":
        counts.byteswap()
    return b"".join([f"{len(freq)} {total}\n".encode(), counts.tobytes(), "\n".join(freq).encode("utf-8")])


def _decode_prefix(payload: bytes) -> tuple[dict[str, int], int]:
    head, _, rest = payload.partition(b"\n")
    count, total = (int(part) for part in head.split())
    counts = array.array("q")
    counts.frombytes(rest[:8 * count])
    if sys.byteorder != "little":
        counts.byteswap()
    words = rest[8 * count:].decode("utf-8").split("\n")
    if len(words) != count:
        raise ValueError("jieba prefix dictionary: words and frequencies differ in number")
    return dict(zip(words, counts.tolist())), total


@lru_cache(maxsize=1)
def default_segmenter() -> Segmenter:
    """The process-wide segmenter over the repository's ``data/`` directory."""
    return Segmenter()
