"""Built FAQ indexes kept on disk, keyed by exactly what they were built from.

Building the index (:class:`knowledge.faq.index.FaqIndex`) analyzes some 20,000 texts and
fits the ranking's classifiers: seconds of CPU that every worker used to pay before its
first answer. It is built once instead, saved as an artifact and loaded (a few tenths of a
second) by every process that needs the same index.

Layout under ``CHATBOT_FAQ_INDEX_DIR`` (``chatbot serve`` uses ``<CHATBOT_MODEL_DIR>/faq_index``)::

    <key>.npz      one built index; the newest KEEP are kept

The **key** is a sha256 over everything the index depends on: the FAQ file's bytes, the
training file's bytes (or its absence), the analyzer's resources (``data/synonyms.yaml``
and ``data/banking_dict.txt``, which drive normalization, homophone correction and jieba's
user dictionary), the source of the modules that analyze and index, the versions of the
libraries that do the arithmetic and the segmentation, and :data:`FORMAT_VERSION`. A
different key means another file: an artifact is loaded only under its own key, and the key
is checked again inside the file.

The **format** is numpy's ``.npz`` read with ``allow_pickle=False``: plain numeric arrays
plus one JSON member (vocabulary, the analysis of every text, entry ids), so loading an
artifact never runs code from the file. The fitted scikit-learn models are not kept, only
their weights. A file that cannot be read or does not fit the entries (truncated, corrupt,
another format) is logged and rebuilt, never served.

**Writes** go to a temporary file in the same directory, are flushed to disk and then
renamed over the final name (``os.replace``): a reader sees a complete file or none. Two
processes building at once both write; the last rename wins and both files are complete.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from chatbot.artifact_files import keep_newest, write_whole
from chatbot.nlu.resources import BANKING_DICT_FILE, SYNONYMS_FILE, resolve_data_dir
from knowledge.faq.store import FaqEntry, FaqFileError, load_faq
from knowledge.faq.training import NO_TRAINING, TrainingPhrasings, load_training, training_path

# numpy and the index's modules (scipy) are imported where an index is loaded or built:
# `chatbot serve`'s parent process only computes the key and checks the file (`ensure_saved`).
if TYPE_CHECKING:
    from knowledge.faq.analyze import Analyzed, TextAnalyzer
    from knowledge.faq.index import FaqIndex
    from knowledge.faq.ranking import RankingModel
    from knowledge.faq.retrieve import FaqRetriever

log = logging.getLogger(__name__)

# Bump whenever the index code changes what it stores or how a stored array is read.
FORMAT_VERSION = 1
# Where `chatbot serve` keeps artifacts, under CHATBOT_MODEL_DIR (unless CHATBOT_FAQ_INDEX_DIR says).
DIRECTORY_NAME = "faq_index"
# Processes started by `chatbot serve` find the directory here (serve sets it for its workers).
ENVIRONMENT_VARIABLE = "CHATBOT_FAQ_INDEX_DIR"
SUFFIX = ".npz"
# Artifacts kept per directory (newest first): the current FAQ and a few recent edits.
KEEP = 3
# Modules whose code decides what an index holds; any change to them changes the key (on
# top of FORMAT_VERSION, which is for the stored layout).
CODE_MODULES = ("knowledge.faq.analyze", "knowledge.faq.index", "knowledge.faq.vectors",
                "knowledge.faq.store", "knowledge.faq.training", "knowledge.faq.index_store",
                "chatbot.nlu.normalize", "chatbot.nlu.segment", "chatbot.nlu.homophones",
                "chatbot.nlu.lexicon", "chatbot.nlu.lexmatch", "chatbot.nlu.textmap",
                "chatbot.nlu.resources")
LIBRARIES = ("numpy", "scipy", "scikit-learn", "jieba", "opencc", "pypinyin")
ABSENT = "absent"  # the digest of a training file that does not exist


def index_dir_from_environment() -> Path | None:
    """The artifact directory of this process (``CHATBOT_FAQ_INDEX_DIR``), or None: build in memory.

    Read when a desk is loaded, not at import. ``chatbot serve`` sets it for its workers
    (see ``chatbot/cli.py``); tests and tools that set nothing build in memory as before.
    """
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return Path(value) if value else None


def digest(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data is not None else ABSENT


@lru_cache(maxsize=1)
def analyzer_fingerprint() -> dict[str, object]:
    """What the default analyzer depends on besides the FAQ (read once per process, as the
    analyzer itself reads its resources once)."""
    data = resolve_data_dir(None)
    resources = {name: digest((data / name).read_bytes()) for name in (SYNONYMS_FILE, BANKING_DICT_FILE)}
    code = hashlib.sha256()
    for module in CODE_MODULES:
        code.update(module.encode() + b"\0" + Path(importlib.util.find_spec(module).origin).read_bytes())
    return {"resources": resources, "code": code.hexdigest(), "libraries": _library_versions()}


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "?"
    return found


def index_key(faq_digest: str, training_digest: str) -> str:
    """The key of the index built from these files with this code (hex sha256)."""
    parts = {"format": FORMAT_VERSION, "faq": faq_digest, "training": training_digest, **analyzer_fingerprint()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class FaqSource:
    """The FAQ file and its training file, read once: what is hashed is what is parsed."""

    faq_path: Path
    faq_bytes: bytes
    training_bytes: bytes | None

    @classmethod
    def read(cls, faq_path: str | Path) -> FaqSource:
        faq_path = Path(faq_path)
        try:
            faq_bytes = faq_path.read_bytes()
        except OSError as error:
            raise FaqFileError(f"{faq_path}: cannot read the FAQ file ({error})", faq_path) from None
        try:
            training_bytes = training_path(faq_path).read_bytes()
        except FileNotFoundError:
            training_bytes = None
        except OSError as error:
            path = training_path(faq_path)
            raise FaqFileError(f"{path}: cannot read the training phrasings file ({error})", path) from None
        return cls(faq_path, faq_bytes, training_bytes)

    @property
    def faq_digest(self) -> str:
        return digest(self.faq_bytes)

    @property
    def training_digest(self) -> str:
        return digest(self.training_bytes)

    @property
    def key(self) -> str:
        return index_key(self.faq_digest, self.training_digest)

    def entries(self) -> list[FaqEntry]:
        return load_faq(self.faq_path, _decode(self.faq_path, self.faq_bytes, "FAQ file"))

    def training(self) -> TrainingPhrasings:
        if self.training_bytes is None:
            return NO_TRAINING
        path = training_path(self.faq_path)
        return load_training(path, _decode(path, self.training_bytes, "training phrasings file"))


def _decode(path: Path, data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FaqFileError(f"{path}: cannot read the {what} ({error})", path) from None


class IndexStore:
    """A directory of saved indexes (see module docs). Only the service writes here: keep it
    where the service's models live, not somewhere users can write."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{SUFFIX}"

    def load(self, key: str, entries: list[FaqEntry], training: TrainingPhrasings,
             analyzer: TextAnalyzer) -> FaqIndex | None:
        """The saved index of ``key`` for these entries, or None (absent, or unusable: logged)."""
        import numpy as np

        from knowledge.faq.index import FaqIndex

        path = self.path(key)
        try:
            with path.open("rb") as handle, np.load(handle, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in saved.files}
        except FileNotFoundError:
            return None
        except Exception as error:  # a cache: whatever is wrong with the file, build instead  # noqa: BLE001
            log.warning("FAQ index %s is unreadable, building it again: %s", path, _reason(error))
            return None
        try:
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT_VERSION or meta.get("key") != key:
                raise ValueError(f"it holds format {meta.get('format')} key {str(meta.get('key'))[:12]}…")
            saved = meta.pop("analyses")
            index = FaqIndex.restore(entries, training, (meta, arrays), _saved_analyses(saved, analyzer))
            _check_analyses(saved, len(dict.fromkeys(index.source_texts)))
        except Exception as error:  # noqa: BLE001 (as above)
            log.warning("FAQ index %s does not fit, building it again: %s", path, _reason(error))
            return None
        analyzer.remember(index.sources)  # an admin edit's rebuild re-analyzes only what changed
        return index

    def looks_complete(self, key: str) -> bool:
        """Whether the artifact of ``key`` exists and its zip directory names the metadata
        member (a cheap check: a truncated file fails it; the arrays' checksums are
        verified when they are loaded)."""
        try:
            with zipfile.ZipFile(self.path(key)) as archive:
                return "meta.npy" in archive.namelist()
        except FileNotFoundError:
            return False
        except (OSError, zipfile.BadZipFile) as error:
            log.warning("FAQ index %s is unreadable, building it again: %s", self.path(key), _reason(error))
            return False

    def save(self, key: str, index: FaqIndex, **details) -> Path | None:
        """Write ``index`` under ``key`` atomically; None (logged) when the disk refuses."""
        import numpy as np

        meta, arrays = index.state()
        sources, analyzed = index.sources()
        unique = dict(zip(sources, analyzed))
        meta = {**meta, "format": FORMAT_VERSION, "key": key,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "analyses": [[a.text, list(a.tokens)] for a in unique.values()],
                "fingerprint": analyzer_fingerprint(), **details}
        payload = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        target = self.path(key)
        try:
            write_whole(target, lambda handle: np.savez(handle, meta=payload, **arrays))
        except OSError as error:
            log.warning("FAQ index could not be saved to %s: %s", target, _reason(error))
            return None
        self._prune(keep=target)
        return target

    def _prune(self, keep: Path) -> None:
        """Remove all but the newest :data:`KEEP` artifacts (never ``keep``); best effort."""
        try:
            saved = list(self.directory.glob(f"*{SUFFIX}"))
        except OSError:
            return
        keep_newest(saved, KEEP, keep)


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _saved_analyses(saved: list, analyzer: TextAnalyzer):
    """The ``analyses`` callable of :meth:`FaqIndex.restore`: the saved analysis of each text."""
    def analyses(sources: list[str]) -> list[Analyzed]:
        unique = list(dict.fromkeys(sources))
        by_text = {text: analyzer.from_normalized(normalized, tokens)
                   for text, (normalized, tokens) in zip(unique, saved, strict=True)}
        return [by_text[text] for text in sources]

    return analyses


def _check_analyses(saved: list, count: int) -> None:
    """One ``[normalized text, [tokens]]`` per distinct source text (checked now, used later)."""
    if len(saved) != count or not all(
            isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], list)
            and all(isinstance(token, str) for token in item[1]) for item in saved):
        raise ValueError("saved analyses do not match the texts")


@dataclass(frozen=True)
class Loaded:
    """A retriever and how it came to be (for logs and the benchmark)."""

    retriever: FaqRetriever
    key: str | None
    built: bool            # True: indexed now; False: loaded from the store
    seconds: float


def load_retriever(faq_path: str | Path, index_dir: str | Path | None, *,
                   model: RankingModel | None = None, source: FaqSource | None = None) -> Loaded:
    """The retriever of the FAQ at ``faq_path``: loaded from ``index_dir`` when an artifact of
    exactly these files exists, else built (and saved there). ``index_dir=None``: built, not saved.

    A malformed FAQ or training file raises :class:`FaqFileError` as before.
    """
    from knowledge.faq.analyze import TextAnalyzer
    from knowledge.faq.retrieve import FaqRetriever

    started = time.perf_counter()
    source = source or FaqSource.read(faq_path)
    entries, training = source.entries(), source.training()
    analyzer = TextAnalyzer()
    store = IndexStore(index_dir) if index_dir is not None else None
    key = source.key if store is not None else None
    index = store.load(key, entries, training, analyzer) if store is not None else None
    if index is not None:
        retriever = FaqRetriever.from_index(index, analyzer=analyzer, training=training, model=model,
                                            training_digest=source.training_digest)
        return Loaded(retriever, key, False, time.perf_counter() - started)
    retriever = FaqRetriever(entries, model=model, analyzer=analyzer, training=training,
                             training_digest=source.training_digest)
    seconds = time.perf_counter() - started
    if store is not None:
        store.save(key, retriever.index, build_seconds=round(seconds, 2))
        log.info("FAQ index built in %.1f s and saved as %s", seconds, store.path(key))
    return Loaded(retriever, key, True, seconds)


@dataclass(frozen=True)
class Saved:
    """Where the index of the current FAQ files is saved and whether it was built just now."""

    key: str
    path: Path
    built: bool
    seconds: float


def ensure_saved(faq_path: str | Path, index_dir: str | Path) -> Saved:
    """Make sure the index of exactly the files at ``faq_path`` is saved in ``index_dir``,
    building and saving it when it is not (a malformed file raises :class:`FaqFileError`).

    When it is saved, nothing is parsed or loaded: the key says that artifact was built from
    these very bytes by this very code, so they parsed then; only the file's zip directory
    is read (a truncated file is built again here). What ``chatbot serve`` runs before its
    workers start: each of them loads the index (``KnowledgeDesk.load``), the parent
    process does not need it.
    """
    started = time.perf_counter()
    source = FaqSource.read(faq_path)
    store = IndexStore(index_dir)
    key = source.key
    if store.looks_complete(key):
        return Saved(key, store.path(key), False, time.perf_counter() - started)
    loaded = load_retriever(faq_path, index_dir, source=source)
    return Saved(key, store.path(key), loaded.built, time.perf_counter() - started)


def reindex(current: FaqRetriever, faq_bytes: bytes, entries: list[FaqEntry],
            store: IndexStore | None) -> FaqRetriever:
    """``current`` over ``entries`` (the FAQ file's new content ``faq_bytes``): loaded when a
    worker already saved that index, else rebuilt (re-analyzing only new texts) and saved.

    The training phrasings stay those ``current`` was built with, as before.
    """
    from knowledge.faq.retrieve import FaqRetriever

    key = None
    if store is not None and current.training_digest is not None:
        key = index_key(digest(faq_bytes), current.training_digest)
        index = store.load(key, entries, current.training, current.analyzer)
        if index is not None:
            return FaqRetriever.from_index(index, analyzer=current.analyzer, training=current.training,
                                           model=current.model, training_digest=current.training_digest)
    fresh = current.with_entries(entries)
    if key is not None:
        store.save(key, fresh.index)
    return fresh


def keep(retriever: FaqRetriever, faq_bytes: bytes, store: IndexStore | None) -> Path | None:
    """Save ``retriever``'s index as the one of the FAQ content ``faq_bytes`` (an admin edit that
    just wrote that file), so other workers and the next start load it instead of rebuilding."""
    if store is None or retriever.training_digest is None:
        return None
    key = index_key(digest(faq_bytes), retriever.training_digest)
    if store.path(key).exists():
        return store.path(key)
    return store.save(key, retriever.index)
