"""`chatbot train`: fit the intent classifier on data/intents.yaml (and the analysts'
overlay, training/annotations/store.py) into a new model version."""
from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from chatbot.nlu import model_store
from chatbot.nlu.classifier import build_pipeline
from training import registry
from training.datasets import Example, Overlay, data_hash, join_overlay, load_intents, load_tsv
from training.features import prepare

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    version: str
    path: Path
    metrics: dict
    promoted: bool


def fit(examples: list[Example]):
    """Fit a fresh pipeline on examples (normalized and segmented like at serving time)."""
    pipeline = build_pipeline()
    pipeline.fit(prepare(e.text for e in examples), [e.intent for e in examples])
    return pipeline


def held_out_metrics(pipeline, test: list[Example]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    predicted = pipeline.predict(prepare(e.text for e in test))
    truth = [e.intent for e in test]
    return {"held_out_examples": len(test), "held_out_accuracy": round(accuracy_score(truth, predicted), 4),
            "held_out_macro_f1": round(f1_score(truth, predicted, average="macro"), 4)}


def train(intents_path: Path, model_dir: Path, test_path: Path | None = None,
          progress: Progress = lambda _: None, overlay: Sequence[Example] = ()) -> TrainResult:
    """Train, measure on the held-out file if given, save a version; promote it if none is.

    `overlay`: the analysts' labelled phrasings to train on besides the file's (the train part
    of `overlay_split`); a phrasing the file has already, one of the test file `test_path`
    (it is measured there), or one of an intent the file lacks, is left out. The data hash,
    hence the version name, covers the overlay examples used."""
    progress("读取训练数据")
    examples = load_intents(intents_path)
    test = None
    if test_path is not None and Path(test_path).exists():
        test = load_tsv(test_path, {e.intent for e in examples})
    joined = join_overlay(examples, overlay, test or ())
    if overlay:
        progress(_overlay_note(joined))
    data = examples + joined.used
    progress(f"训练模型（{len(data)} 条例句，{len({e.intent for e in data})} 个意图）")
    pipeline = fit(data)
    metrics = {"training_examples": len(data)}
    if test:
        progress("在留出测试集上评估")
        metrics |= held_out_metrics(pipeline, test)
    now = datetime.now(timezone.utc)
    digest = data_hash(data)
    version = registry.new_version_name(now, digest)
    progress(f"保存模型版本 {version}")
    metadata = _metadata(now, digest, metrics, intents_path) | _overlay_metadata(joined)
    path = registry.save_version(model_dir, version, pipeline, metadata)
    with registry.promotion_lock(model_dir):  # a promotion in between must not be overwritten
        promoted = model_store.promoted_version(model_dir) is None
        if promoted:
            registry.promote(model_dir, version)
    return TrainResult(version, path, metrics, promoted)


def _overlay_note(joined: Overlay) -> str:
    note = f"标注叠加层：使用 {len(joined.used)} 条"
    if joined.in_file:
        note += f"，{joined.in_file} 条已在训练文件中（以文件为准）"
    if joined.in_test:
        note += f"，{joined.in_test} 条在测试文件中（只用于评估，未训练）"
    if joined.unknown_intent:
        note += f"，{joined.unknown_intent} 条的意图已不在训练文件中（未使用）"
    return note


def _overlay_metadata(joined: Overlay) -> dict:
    return {"overlay_examples": len(joined.used), "overlay_in_test_file": joined.in_test,
            "overlay_annotation_ids": sorted(e.annotation_id for e in joined.used if e.annotation_id is not None)}


def _metadata(now: datetime, digest: str, metrics: dict, intents_path: Path) -> dict:
    import jieba
    import numpy
    import sklearn

    return {
        "created_at": now.isoformat(), "data_file": str(intents_path), "data_sha256": digest,
        "metrics": metrics,
        "libraries": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                      "numpy": numpy.__version__, "jieba": jieba.__version__},
    }
