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
