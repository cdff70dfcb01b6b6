"""Where trained intent models live and which one is promoted (read side).

Layout under `CHATBOT_MODEL_DIR`:

    <version>/model.joblib     the fitted scikit-learn pipeline
    <version>/compiled.npz     the arrays the service scores with (see below)
    <version>/metadata.json    data hash, time, metrics, library versions
    promoted.json              {"version": ..., "promoted_at": ...}

Writing (training, promotion) lives in `training/registry.py`. Model files are pickles:
the model directory must be as trusted as the code.

Serving never needs the pipeline itself, only the arrays `LinearIntentModel` compiles from
it; unpickling the pipeline imports scikit-learn and scipy (more than a second of a
worker's start). So the compiled arrays are saved beside it, as numpy's `.npz` read with
`allow_pickle=False` plus one JSON member (classes, feature names, extractor settings, the
sha256 of the `model.joblib` they came from and `COMPILED_FORMAT`). Training writes them;
for a version saved before, the first load compiles and saves them (`chatbot serve` does
it before starting its workers). A compiled file that is missing, unreadable, of another
format or of other `model.joblib` bytes is never used: the pipeline is loaded instead.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import NotFound

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
COMPILED_FILE = "compiled.npz"
# Bump when what `LinearIntentModel.state` saves, or how `restore` reads it, changes.
COMPILED_FORMAT = 1
METADATA_FILE = "metadata.json"
PROMOTED_FILE = "promoted.json"
# What `training/registry.py` names a version: `YYYYMMDD-HHMMSS-<first 8 hex of the data hash>`.
VERSION_PATTERN = r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$"


def promoted_version(model_dir: Path) -> str | None:
    pointer = Path(model_dir) / PROMOTED_FILE
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))["version"]


def is_version_name(name: str) -> bool:
    return re.fullmatch(VERSION_PATTERN, name) is not None


def version_dir(model_dir: Path, version: str) -> Path:
    """The directory of a saved version; NotFound for an unknown one. Only a plain name is
    looked up (never `..`, a path or a hidden directory such as a half-written `.<v>.partial`)."""
    plain = bool(version) and not any(c in version for c in "/\\\0") and not version.startswith(".")
    path = Path(model_dir) / version
    if not plain or not (path / MODEL_FILE).exists():
        raise NotFound(f"模型版本不存在：{version}", "unknown_model_version")
    return path


def load_model(model_dir: Path, version: str):
    """One version's model, compiled for fast scoring: from its saved arrays when they are
    current (milliseconds, no scikit-learn), else compiled from the pipeline and saved."""
    path = version_dir(model_dir, version)
    model = load_compiled(path)
    if model is None:
        from chatbot.nlu.classifier import LinearIntentModel

        model = LinearIntentModel(load_pipeline(model_dir, version))
        save_compiled(path, model)
    return model


def load_pipeline(model_dir: Path, version: str):
    """One version's fitted scikit-learn pipeline (training, evaluation, tests)."""
    import joblib

    return joblib.load(version_dir(model_dir, version) / MODEL_FILE)


def ensure_compiled(model_dir: Path, version: str) -> bool:
    """Make sure ``version``'s compiled arrays are saved and current; True when they were
    compiled now. Checks only the file's header, not the arrays."""
    path = version_dir(model_dir, version)
    if _compiled_meta(path, _source_digest(path)) is not None:
        return False
    load_model(model_dir, version)
    return True


def load_compiled(version_path: Path):
    """The `LinearIntentModel` saved in ``version_path``, or None (absent, stale or unusable)."""
    import numpy as np

    from chatbot.nlu.classifier import LinearIntentModel

    target = Path(version_path) / COMPILED_FILE
    try:
        with target.open("rb") as handle, np.load(handle, allow_pickle=False) as saved:
            meta = _read_meta(saved)
            if meta is None or meta.get("source_sha256") != _source_digest(version_path):
                log.info("compiled intent model %s is of another model file or format; compiling again", target)
                return None
            return LinearIntentModel.restore(meta, {name: saved[name] for name in saved.files if name != "meta"})
    except FileNotFoundError:
        return None
    except Exception as error:  # a cache: whatever is wrong with the file, compile instead  # noqa: BLE001
        log.warning("compiled intent model %s is unusable, compiling again: %s: %s",
                    target, type(error).__name__, error)
        return None


def save_compiled(version_path: Path, model) -> Path | None:
    """Save ``model``'s arrays beside the ``model.joblib`` they were compiled from (atomically:
    readers see a whole file or none); None, logged, when the directory refuses."""
    import numpy as np

    version_path = Path(version_path)
    meta, arrays = model.state()
    meta = {**meta, "format": COMPILED_FORMAT, "source_sha256": _source_digest(version_path)}
    payload = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    target = version_path / COMPILED_FILE
    temporary = version_path / f".{COMPILED_FILE}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with temporary.open("wb") as handle:
            np.savez(handle, meta=payload, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        log.warning("compiled intent model could not be saved to %s: %s", target, error)
        temporary.unlink(missing_ok=True)
        return None
    return target


def _compiled_meta(version_path: Path, source_digest: str) -> dict | None:
    """The compiled file's metadata when it is current, read without numpy (`chatbot serve`'s
    parent process checks it and imports nothing else numeric): the ``meta`` member is a
    one-dimensional uint8 ``.npy`` array, i.e. a header then the JSON bytes."""
    import zipfile

    try:
        with zipfile.ZipFile(Path(version_path) / COMPILED_FILE) as archive:
            raw = archive.read("meta.npy")
        # .npy: magic (6 bytes), version (2), header length (2 bytes in 1.0, 4 in 2.0/3.0), header.
        if raw[:6] != b"\x93NUMPY" or raw[6] not in (1, 2, 3):
            return None
        size = 2 if raw[6] == 1 else 4
        start = 8 + size + int.from_bytes(raw[8:8 + size], "little")
        header = raw[8 + size:start].decode("latin1")
        if "'|u1'" not in header or "'fortran_order': False" not in header:
            return None
        meta = json.loads(raw[start:].decode("utf-8"))
    except Exception:  # noqa: BLE001 (absent or unreadable: not current)
        return None
    if not isinstance(meta, dict) or meta.get("format") != COMPILED_FORMAT:
        return None
    return meta if meta.get("source_sha256") == source_digest else None


def _read_meta(saved) -> dict | None:
    meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
    return meta if isinstance(meta, dict) and meta.get("format") == COMPILED_FORMAT else None


def _source_digest(version_path: Path) -> str:
    return hashlib.sha256((Path(version_path) / MODEL_FILE).read_bytes()).hexdigest()


def load_metadata(model_dir: Path, version: str) -> dict:
    return json.loads((version_dir(model_dir, version) / METADATA_FILE).read_text(encoding="utf-8"))


class PromotedModel:
    """The promoted intent model, swapped for a newly promoted version without a restart.

    `rank` never looks at the file system: the serving process calls `refresh` off the
    request path (`chatbot/nlu/model_watch.py`: every couple of seconds, and at once when a
    promotion is announced through Redis). `refresh` loads the new version completely, then
    replaces one reference; a request reads that reference once, so it is answered by the
    old model or the new one, never by a half-loaded one.

    A load that fails (the files not yet visible on this host, an I/O error, memory) leaves the
    old model answering and is tried again, after `RETRY_FIRST_S`, then twice as long each
    time up to `RETRY_MAX_S`; a new promotion is tried at once.
    """

    RETRY_FIRST_S = 1.0
    RETRY_MAX_S = 60.0

    def __init__(self, model_dir: Path, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.model_dir = Path(model_dir)
        self._monotonic = monotonic
        self._lock = threading.Lock()  # one refresh at a time; `rank` never takes it
        self._stamp: tuple[int, int] | None = None  # the pointer's stamp when a load last succeeded
        self._current: _Loaded | None = None
        self._failing: FailedLoad | None = None
        self.refresh()
        if self._current is None:
            raise NotFound("尚无已发布的意图模型：请先运行 `chatbot train`", "no_model")

    @property
    def version(self) -> str | None:
        current = self._current
        return current.version if current is not None else None

    def rank(self, text: str, tokens):
        return self._current.model.rank(text, tokens)

    @property
    def failing(self) -> "FailedLoad | None":
        """The pointer's load that keeps failing (attempts, when the next one is due), if any."""
        return self._failing

    def refresh(self) -> bool:
        """Load the promoted version if the pointer changed; True when a new model was swapped in.

        Raises when the load fails (the caller logs it; the old model keeps answering); until
        the retry is due (see the class docstring) it then returns False without trying, so
        each attempt raises once."""
        with self._lock:
            stamp = _pointer_stamp(self.model_dir)
            if stamp == self._stamp:
                return False
            failing = self._failing if self._failing is not None and self._failing.stamp == stamp else None
            now = self._monotonic()
            if failing is not None and now < failing.retry_at:
                return False
            try:
                version = promoted_version(self.model_dir)
                if version is None or version == self.version:
                    self._stamp, self._failing = stamp, None
                    return False
                loaded = _Loaded(version, load_model(self.model_dir, version))
            except Exception:  # MemoryError too
                attempts = failing.attempts + 1 if failing is not None else 1
                delay = min(self.RETRY_FIRST_S * 2 ** (attempts - 1), self.RETRY_MAX_S)
                self._failing = FailedLoad(stamp, attempts, self._monotonic() + delay, delay)
                raise
            self._current = loaded  # the swap: one reference, after the load finished
            self._stamp, self._failing = stamp, None  # only now: a failed load is tried again
            log.info("intent model %s now answers", version)
            return True


@dataclass(frozen=True)
class FailedLoad:
    stamp: tuple[int, int] | None  # the pointer whose version failed to load
    attempts: int
    retry_at: float  # monotonic seconds
    delay: float  # seconds from the last attempt to the next


@dataclass(frozen=True)
class _Loaded:
    version: str
    model: object


def _pointer_stamp(model_dir: Path) -> tuple[int, int] | None:
    # The inode too: `promote` renames a new file over the pointer, so two promotions within
    # the file system's timestamp granularity still differ.
    try:
        status = (Path(model_dir) / PROMOTED_FILE).stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_ino
