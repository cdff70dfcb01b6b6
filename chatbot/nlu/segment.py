"""Word segmentation with jieba plus the bank's user dictionary.

Each ``Segmenter`` owns a private ``jieba.Tokenizer`` so the bank's words never
leak into (or depend on) jieba's process-global tokenizer that other code may use.
"""

from __future__ import annotations

import logging
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

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
        tokenizer.initialize()
        # Given a path, jieba opens the file and never closes it (ResourceWarning).
        with self._user_dict.open("rb") as handle:
            tokenizer.load_userdict(handle)
        return tokenizer

    def cut(self, text: str) -> list[str]:
        """Segment ``text`` (HMM on for unknown names); whitespace tokens are dropped."""
        self.initialize()
        return [token for token in self._tokenizer.cut(text, HMM=True) if token.strip()]


@lru_cache(maxsize=1)
def default_segmenter() -> Segmenter:
    """The process-wide segmenter over the repository's ``data/`` directory."""
    return Segmenter()
