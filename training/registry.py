"""Model registry (write side): save a trained version, list versions, promote one."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from chatbot.nlu import model_store


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
    """Point `promoted.json` at `version` atomically (readers see the old or the new one)."""
    model_store.version_dir(model_dir, version)  # raises NotFound for an unknown version
    pointer = Path(model_dir) / model_store.PROMOTED_FILE
    temporary = pointer.with_suffix(f".{os.getpid()}.tmp")
    payload = {"version": version, "promoted_at": datetime.now(timezone.utc).isoformat()}
    temporary.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(temporary, pointer)
