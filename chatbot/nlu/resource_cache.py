"""Derived NLU data kept on disk between starts: jieba's prefix dictionary, the common-word
lexicon, the pinyin readings of the homophone corrector.

Each is computed from files that change only with an upgrade (jieba's ``dict.txt``, the
bank's dictionary, pypinyin's tables), yet every worker used to compute or decode them on
every start: jieba unmarshals its 9 MB cache (a shared file in ``/tmp``) in ~0.6 s, the
lexicon reads jieba's ``dict.txt`` line by line (~0.5 s), pypinyin loads its phrase tables
(~0.3 s) before the first reading. Saved here as plain text and integers they load in a
fraction of that, and never as pickle or marshal: a file is data, whatever it contains.

The directory is ``CHATBOT_NLU_CACHE_DIR``; ``chatbot serve`` (and ``chat``) set it to
``<CHATBOT_MODEL_DIR>/nlu_cache`` for themselves and their workers. Unset (tests, notebooks,
tools), nothing is cached here and everything is computed as before.

One file per entry, ``<name>-<key>.bin``: the key is a sha256 over everything the entry is
derived from (the caller's ``parts``: source file digests, library versions, the code that
derives it, :data:`FORMAT_VERSION`). The file holds a header line (magic, full key, payload
length, CRC-32) and the payload. A missing, truncated, corrupt or foreign file is rebuilt;
writes go to a temporary file renamed over the final name, so readers see a whole file or
none; the newest :data:`KEEP` files of each name are kept.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from chatbot.artifact_files import keep_newest, write_whole

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "CHATBOT_NLU_CACHE_DIR"
DIRECTORY_NAME = "nlu_cache"
FORMAT_VERSION = 1
MAGIC = b"chatbot-nlu-cache"
SUFFIX = ".bin"
KEEP = 2


def directory() -> Path | None:
    """The cache directory of this process, or None: compute, do not cache (read each call)."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return Path(value) if value else None


@lru_cache(maxsize=16)
def file_digest(path: Path) -> str:
    """sha256 of a source file's bytes (once per process and path)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_digest(*module_files: str) -> str:
    """sha256 of the given source files (the code that derives an entry)."""
    return hashlib.sha256("".join(file_digest(Path(name)) for name in module_files).encode()).hexdigest()


def entry_key(name: str, parts: dict) -> str:
    return hashlib.sha256(json.dumps({"name": name, "format": FORMAT_VERSION, **parts},
                                     sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def load_or_build(name: str, parts: dict, build: Callable[[], bytes],
                  where: Path | None = None) -> bytes:
    """The payload saved under ``name`` and ``parts``; else ``build()``, saved for next time.

    Without a cache directory (``where`` or :func:`directory`), just ``build()``.
    """
    where = where if where is not None else directory()
    if where is None:
        return build()
    key = entry_key(name, parts)
    path = where / f"{name}-{key[:40]}{SUFFIX}"
    payload = _read(path, key)
    if payload is not None:
        return payload
    payload = build()
    _write(where, path, key, payload)
    return payload


def _read(path: Path, key: str) -> bytes | None:
    try:
        with path.open("rb") as handle:
            header = handle.readline(512)
            payload = handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.warning("NLU cache %s is unreadable, building it again: %s", path, error)
        return None
    try:
        magic, saved_key, length, crc = header.rstrip(b"\n").split(b" ")
        if magic != MAGIC or saved_key.decode() != key:
            raise ValueError("another entry")
        if int(length) != len(payload) or int(crc) != zlib.crc32(payload):
            raise ValueError("truncated or corrupt")
    except ValueError as error:
        log.warning("NLU cache %s is unusable, building it again: %s", path, error)
        return None
    return payload


def _write(where: Path, path: Path, key: str, payload: bytes) -> None:
    header = b" ".join([MAGIC, key.encode(), str(len(payload)).encode(), str(zlib.crc32(payload)).encode()])

    def write(handle) -> None:
        handle.write(header + b"\n")
        handle.write(payload)

    try:
        write_whole(path, write)
    except OSError as error:
        log.warning("NLU cache could not be saved to %s: %s", path, error)
        return
    _prune(where, path)


def _prune(where: Path, keep: Path) -> None:
    """Keep the newest :data:`KEEP` files of ``keep``'s name (never ``keep``); best effort."""
    name = keep.name.rsplit("-", 1)[0]
    try:
        files = [p for p in where.glob(f"{name}-*{SUFFIX}") if p.name.rsplit("-", 1)[0] == name]
    except OSError:
        return
    keep_newest(files, KEEP, keep)
