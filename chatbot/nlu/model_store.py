"""Where trained intent models live and which one is promoted (read side).

Layout under `CHATBOT_MODEL_DIR`:

    <version>/model.joblib     the fitted scikit-learn pipeline
    <version>/metadata.json    data hash, time, metrics, library versions
    promoted.json              {"version": ..., "promoted_at": ...}

Writing (training, promotion) lives in `training/registry.py`. Model files are pickles:
the model directory must be as trusted as the code.
"""
from __future__ import annotations

import json
from pathlib import Path

from chatbot.errors import NotFound

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
PROMOTED_FILE = "promoted.json"


def promoted_version(model_dir: Path) -> str | None:
    pointer = Path(model_dir) / PROMOTED_FILE
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))["version"]


def version_dir(model_dir: Path, version: str) -> Path:
    path = Path(model_dir) / version
    if not (path / MODEL_FILE).exists():
        raise NotFound(f"模型版本不存在：{version}", "unknown_model_version")
    return path


def load_model(model_dir: Path, version: str):
    """Load one version's pipeline and compile it for fast scoring."""
    import joblib

    from chatbot.nlu.classifier import LinearIntentModel

    pipeline = joblib.load(version_dir(model_dir, version) / MODEL_FILE)
    return LinearIntentModel(pipeline)


def load_metadata(model_dir: Path, version: str) -> dict:
    return json.loads((version_dir(model_dir, version) / METADATA_FILE).read_text(encoding="utf-8"))


class PromotedModel:
    """The promoted intent model, swapped in when `promoted.json` changes (no restart).

    Every worker checks the pointer file's mtime at most once per `check_every` seconds,
    so `chatbot models promote` reaches all workers and hosts sharing the model directory.
    """

    def __init__(self, model_dir: Path, check_every: float = 5.0) -> None:
        import threading

        self.model_dir = Path(model_dir)
        self.check_every = check_every
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._stamp: float | None = None
        self.version: str | None = None
        self._model = None
        self.refresh(force=True)
        if self._model is None:
            raise NotFound("尚无已发布的意图模型：请先运行 `chatbot train`", "no_model")

    def rank(self, text: str, tokens):
        self.refresh()
        return self._model.rank(text, tokens)

    def refresh(self, force: bool = False) -> bool:
        """Load the promoted version if the pointer changed; True when a new model was loaded."""
        import time

        now = time.monotonic()
        if not force and now - self._checked_at < self.check_every:
            return False
        with self._lock:
            self._checked_at = now
            pointer = self.model_dir / PROMOTED_FILE
            stamp = pointer.stat().st_mtime_ns if pointer.exists() else None
            if stamp == self._stamp and not force:
                return False
            version = promoted_version(self.model_dir)
            if version is None or version == self.version:
                self._stamp = stamp
                return False
            self._model, self.version, self._stamp = load_model(self.model_dir, version), version, stamp
            return True
