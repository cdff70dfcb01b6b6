"""What makes two phrasings "the same" for labelling: the key of a text and the label vocabulary.

Shared by the export (which leaves out what is labelled already), the import, the /admin page
and training (which deduplicates the overlay against data/intents.yaml).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from chatbot.nlu.normalize import normalize

FAQ_LABEL = "faq"        # answered by a FAQ entry (new or existing)
IGNORE_LABEL = "ignore"  # noise: never trained, never shown again
SPECIAL_LABELS = (FAQ_LABEL, IGNORE_LABEL)

# Punctuation, symbols and spaces do not change what was asked ("余额多少？" == "余额 多少").
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def comparable(text: str) -> str:
    """The normalized text (Simplified, half-width, lower case) without punctuation or spaces."""
    folded = normalize(unicodedata.normalize("NFKC", text)).text.lower()
    return _NOISE.sub("", folded) or folded.strip()


def text_key(text: str) -> str:
    """sha256 of `comparable(text)`: the unique key of an annotation."""
    return hashlib.sha256(comparable(text).encode("utf-8")).hexdigest()
