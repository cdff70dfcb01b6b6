"""Where the NLU data files live and how they are read.

Only paths are computed at import time; files are read when a ``Normalizer`` or
``Segmenter`` is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chatbot.paths import default_data_dir

# The checkout's data/ or the package's copy (chatbot/paths.py); tests may point it elsewhere.
DEFAULT_DATA_DIR = default_data_dir()
SYNONYMS_FILE = "synonyms.yaml"
BANKING_DICT_FILE = "banking_dict.txt"


@dataclass(frozen=True)
class SynonymTable:
    """Variant -> canonical mapping plus the words that are never rewritten."""

    variants: dict[str, str]
    protected: frozenset[str]
    english: dict[str, str] = field(default_factory=dict)   # English phrase -> Chinese term


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """Return ``data_dir`` as a Path, or the default data directory when None."""
    return DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)


def load_synonyms(path: Path) -> SynonymTable:
    """Read ``synonyms.yaml``: ``{synonyms: {canonical: [variants]}, protected: [words],
    english: {chinese: [english phrases]}}``."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}  # noqa: S506 (safe)
    variants: dict[str, str] = {}
    for canonical, forms in (raw.get("synonyms") or {}).items():
        for form in forms or ():
            variants[str(form)] = str(canonical)
    protected = frozenset(str(word) for word in raw.get("protected") or ())
    english: dict[str, str] = {}
    for chinese, phrases in (raw.get("english") or {}).items():
        for phrase in phrases or ():
            english[" ".join(str(phrase).lower().split())] = str(chinese)
    return SynonymTable(variants, protected, english)


def load_dictionary_terms(path: Path) -> tuple[str, ...]:
    """Read the words (first column) of a jieba user dictionary, in file order."""
    terms: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields:
                terms.append(fields[0])
    return tuple(terms)
