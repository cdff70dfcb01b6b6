"""Model registry (write side): save a trained version, list versions, promote one.

Promotions are serialized by `promotion_lock`: an `fcntl.flock` of `<model dir>/.promote.lock`
(between processes and hosts sharing the directory) behind a lock per directory between the
threads of a process. `training/gate.py` holds it around the gate's check and the pointer
write, so two promotions (the API and the CLI, say) never both compare with the same
baseline; `promote` takes it too (it is re-entrant within a thread).
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from chatbot import file_lock
from chatbot.artifact_files import write_whole
from chatbot.errors import Conflict
from chatbot.nlu import model_store

LOCK_FILE = ".promote.lock"
LOCK_WAIT_S = 120.0  # a promotion scores models for seconds; a waiter gives up after this


@dataclass(frozen=True)
class ModelVersion:
    version: str
    created_at: str
    metrics: dict
    promoted: bool


def new_version_name(now: datetime, data_hash: str) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{data_hash[:8]}"


def save_version(model_dir: Path, version: str, pipeline, metadata: dict) -> Path:
    """Write the model, its compiled arrays and its metadata into a new version directory
    (never overwrites)."""
    import joblib

    target = Path(model_dir) / version
    staging = Path(model_dir) / f".{version}.partial"
    staging.mkdir(parents=True, exist_ok=False)
    joblib.dump(pipeline, staging / model_store.MODEL_FILE, compress=3)
    # What the service loads (no scikit-learn import at start): see chatbot/nlu/model_store.py.
    from chatbot.nlu.classifier import LinearIntentModel

    model_store.save_compiled(staging, LinearIntentModel(pipeline))
    (staging / model_store.METADATA_FILE).write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    staging.rename(target)  # a version directory is complete or absent
    return target


def list_versions(model_dir: Path) -> list[ModelVersion]:
    """All complete versions, newest first."""
    root = Path(model_dir)
    if not root.exists():
        return []
    promoted = model_store.promoted_version(root)
    versions = []
    for path in sorted(root.iterdir(), reverse=True):
        if path.name.startswith(".") or not (path / model_store.METADATA_FILE).exists():
            continue
        meta = json.loads((path / model_store.METADATA_FILE).read_text(encoding="utf-8"))
        versions.append(ModelVersion(path.name, meta.get("created_at", ""), meta.get("metrics", {}),
                                     path.name == promoted))
    return versions


def promote(model_dir: Path, version: str) -> None:
    """Point `promoted.json` at `version` atomically (readers see the old or the new one),
    under `promotion_lock`; the temporary file is this call's own (pid and a random part)."""
    with promotion_lock(model_dir):
        model_store.version_dir(model_dir, version)  # raises NotFound for an unknown version
        payload = json.dumps({"version": version, "promoted_at": datetime.now(timezone.utc).isoformat()})
        write_whole(Path(model_dir) / model_store.PROMOTED_FILE,
                    lambda handle: handle.write(payload.encode("utf-8")))


class _DirectoryLock:
    """One model directory's promotion lock in this process: a re-entrant lock between its
    threads, and the `flock` its outermost holder takes on the directory's lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.threads = threading.RLock()
        self.depth = 0  # only the thread holding `threads` reads or writes these two
        self.fd: int | None = None


_locks: dict[Path, _DirectoryLock] = {}
_locks_guard = threading.Lock()


@contextmanager
def promotion_lock(model_dir: Path, timeout: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the model directory's promotion lock (see the module docstring); Conflict
    `promotion_in_progress` when another promotion holds it for longer than `timeout`.
    Blocks the calling thread: call it from a worker thread, never from an event loop."""
    root = Path(model_dir).resolve()
    with _locks_guard:
        lock = _locks.setdefault(root, _DirectoryLock(root / LOCK_FILE))
    deadline = time.monotonic() + timeout
    if not lock.threads.acquire(timeout=timeout):
        raise _busy()
    try:
        if lock.depth == 0:
            lock.fd = file_lock.acquire(lock.path, deadline, _busy)
        lock.depth += 1
        try:
            yield
        finally:
            lock.depth -= 1
            if lock.depth == 0:
                fd, lock.fd = lock.fd, None
                os.close(fd)  # closing the descriptor releases its flock
    finally:
        lock.threads.release()


def _busy() -> Conflict:
    return Conflict("另一个模型版本正在发布，请稍后再试", "promotion_in_progress")
