"""What makes two phrasings "the same" for labelling: the key of a text and the label vocabulary.

Shared by the export (which leaves out what is labelled already), the import, the /admin page
and training (which deduplicates the overlay against data/intents.yaml).

A key is stored with every annotation and decides which side of the train / held-out split a
phrasing is on (training/annotations/store.py), so it must never change for a given text. It
is built from a frozen normalisation only: NFKC (full width -> half width), Traditional ->
Simplified (OpenCC t2s, the converter chatbot/nlu/normalize.py uses), lower case, and
punctuation, symbols and spaces removed. The serving normalizer's data-driven steps (the
synonyms and English terms of data/synonyms.yaml, homophone fixes from the bank's
dictionary, squeezed repeats) are deliberately left out: editing those files must not
re-key what analysts labelled. So "转帐" and "转账" are two phrasings here (each may be
labelled; the model sees both as 转账 anyway).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

FAQ_LABEL = "faq"        # answered by a FAQ entry (new or existing)
IGNORE_LABEL = "ignore"  # noise: never trained, never shown again
SPECIAL_LABELS = (FAQ_LABEL, IGNORE_LABEL)

# Punctuation, symbols and spaces do not change what was asked ("余额多少？" == "余额 多少").
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # C extension; imported on first use so importing this module stays cheap

    return opencc.OpenCC("t2s")


def comparable(text: str) -> str:
    """The text in the frozen normalisation (half width, Simplified, lower case) without
    punctuation, symbols or spaces. A text of punctuation alone ("？？") keeps its
    punctuation; one of emoji, symbols or spaces alone has nothing to compare: ""."""
    folded = _t2s().convert(unicodedata.normalize("NFKC", text)).lower()
    return _NOISE.sub("", folded) or "".join(c for c in folded if unicodedata.category(c).startswith("P"))


def text_key(text: str) -> str:
    """sha256 of `comparable(text)`: the unique key of an annotation."""
    return hashlib.sha256(comparable(text).encode("utf-8")).hexdigest()
