"""`chatbot evaluate`: stratified cross-validation on data/intents.yaml, optionally a held-out test.

Writes into the output directory:

    report.json / report.md                  accuracy, macro F1, per-intent P/R/F1/support
    confusion_cv.csv / confusion_test.csv    labels as header row and first column
    confusion_cv.png / confusion_test.png    heatmaps with Chinese labels
    misclassified_cv.tsv / misclassified_test.tsv   true, predicted, confidence, text
    real.json, reliability_real.png, confusion_real.*, misclassified_real.tsv
                                             with a real-customers file (training/real_set.py)

Texts are normalized and segmented once (`training.features.prepare`, the serving path) and
shared by every fold; each fold fits a fresh `build_pipeline()` like `chatbot train` does.
The held-out and real splits are read by the whole parser, as the service reads a message
(the request found behind a greeting, chatbot/nlu/clauses.py).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from chatbot.errors import InvalidInput
from chatbot.nlu.classifier import build_pipeline
from training import heatmap, real_set, report
from training.datasets import Example, load_intents, load_tsv
from training.features import prepare

Progress = Callable[[str], None]
SEED = 20240607  # fixed so two runs over the same data report the same numbers
PARSE_DAY = date(2026, 11, 24)  # relative dates in test sentences do not change their intent
TITLES = {"cv": "意图混淆矩阵（交叉验证）", "test": "意图混淆矩阵（留出测试集）",
          "real": "意图混淆矩阵（真实说法集）"}


@dataclass(frozen=True)
class EvaluationSummary:
    """Headline numbers and where the report files are."""

    out_dir: Path
    cv: report.SplitMetrics
    test: report.SplitMetrics | None
    files: dict[str, Path] = field(default_factory=dict)  # "report.json" -> path, ...
    warnings: tuple[str, ...] = ()
    real: real_set.RealSetSummary | None = None  # the real customers' phrasings, when evaluated

    @property
    def cv_accuracy(self) -> float:
        return self.cv.accuracy

    @property
    def test_accuracy(self) -> float | None:
        return self.test.accuracy if self.test else None


def evaluate(intents_path: Path, out_dir: Path, test_path: Path | None = None, folds: int = 5,
             progress: Progress = lambda _: None, real_path: Path | None = None) -> EvaluationSummary:
    """Cross-validate on `intents_path` (and test on `test_path`, and on the real customers'
    phrasings of `real_path`), write the report to `out_dir`.

    A bad test file fails (with its line number) before any model is trained.
    """
    progress("读取训练数据")
    examples = load_intents(intents_path)
    labels = list(dict.fromkeys(e.intent for e in examples))  # the file's order, catalogue order
    test = load_tsv(test_path, labels) if test_path is not None else None
    real = load_tsv(real_path, labels) if real_path is not None else None
    _check_folds(examples, folds)
    docs = prepare(e.text for e in examples)
    runs = [cross_validate(examples, docs, folds, progress)]
    pipeline = None
    if test is not None or real is not None:
        progress("在全部训练数据上训练一次")
        pipeline = _fit(docs, [e.intent for e in examples])
    if test is not None:
        runs.append(predict_split("test", pipeline, test, progress)[0])
    real_summary = None
    if real is not None:
        predictions, parses = predict_split("real", pipeline, real, progress)
        runs.append(predictions)
        real_summary = real_set.summarize(predictions, [e.kind for e in real], real_set.asked_between(parses),
                                          real_set.in_training([e.text for e in real], [e.text for e in examples]))
    progress("写出评估报告")
    meta = _meta(intents_path, test_path, examples, folds) | {"real_file": str(real_path) if real_path else None}
    summary = _write(runs, labels, Path(out_dir), meta, real_summary)
    for warning in summary.warnings:
        progress(warning)
    return summary


def cross_validate(examples: Sequence[Example], docs: list, folds: int,
                   progress: Progress = lambda _: None) -> report.Predictions:
    """Stratified k-fold: every example is predicted by a model that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    intents = [e.intent for e in examples]
    predicted, confidence = [""] * len(examples), [0.0] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for number, (train_idx, test_idx) in enumerate(splitter.split(docs, intents), start=1):
        progress(f"交叉验证 第 {number}/{folds} 折")
        pipeline = _fit([docs[i] for i in train_idx], [intents[i] for i in train_idx])
        for i, (label, score) in zip(test_idx, _predict(pipeline, [docs[i] for i in test_idx])):
            predicted[i], confidence[i] = label, score
    return report.Predictions("cv", tuple(e.text for e in examples), tuple(intents),
                              tuple(predicted), tuple(confidence))


def predict_split(split: str, pipeline, test: Sequence[Example],
                  progress: Progress = lambda _: None) -> tuple[report.Predictions, list]:
    """Parse a split's examples as the service would, with a pipeline fitted on all training
    examples; the predictions and each example's ParseResult."""
    from chatbot.nlu.classifier import LinearIntentModel
    from chatbot.nlu.parser import Parser

    progress(f"在{TITLES.get(split, split)}上评估（{len(test)} 条）")
    parser = Parser(LinearIntentModel(pipeline))
    parses = [parser.parse(e.text, PARSE_DAY) for e in test]
    return report.Predictions(split, tuple(e.text for e in test), tuple(e.intent for e in test),
                              tuple(p.intent.name for p in parses),
                              tuple(p.intent.confidence for p in parses)), parses


def _fit(docs: list, intents: list[str]):
    pipeline = build_pipeline()
    pipeline.fit(docs, intents)
    return pipeline


def _predict(pipeline, docs: list) -> list[tuple[str, float]]:
    proba = pipeline.predict_proba(docs)
    classes = pipeline.classes_
    return [(str(classes[row.argmax()]), float(row.max())) for row in proba]


def _check_folds(examples: Sequence[Example], folds: int) -> None:
    # Stratification needs every intent in every fold; say which intent is too small.
    if folds < 2:
        raise InvalidInput(f"交叉验证折数至少为 2（收到 {folds}）", "bad_folds")
    counts = Counter(e.intent for e in examples)
    small = sorted(name for name, n in counts.items() if n < folds)
    if small:
        raise InvalidInput(f"{folds} 折交叉验证要求每个意图至少 {folds} 条例句，不足的意图：{'、'.join(small)}",
                           "bad_folds")


def _write(runs: list[report.Predictions], labels: list[str], out_dir: Path, meta: dict,
           real: real_set.RealSetSummary | None = None) -> EvaluationSummary:
    out_dir.mkdir(parents=True, exist_ok=True)
    files, notes, metrics = {}, [], {}
    for run in runs:
        metrics[run.split] = report.split_metrics(run, labels)
        matrix = report.confusion(run, labels)
        for name in (f"confusion_{run.split}.csv", f"confusion_{run.split}.png", f"misclassified_{run.split}.tsv"):
            files[name] = out_dir / name
        report.write_confusion_csv(matrix, labels, files[f"confusion_{run.split}.csv"])
        report.write_misclassified(run, files[f"misclassified_{run.split}.tsv"])
        warning = heatmap.write_heatmap(matrix, labels, TITLES[run.split], files[f"confusion_{run.split}.png"])
        if warning and warning not in notes:
            notes.append(warning)
    if real is not None:
        files["real.json"] = out_dir / "real.json"
        files["real.json"].write_text(json.dumps(real.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        files["reliability_real.png"] = out_dir / "reliability_real.png"
        warning = real_set.write_reliability_diagram(real, files["reliability_real.png"])
        if warning and warning not in notes:
            notes.append(warning)
    files["report.json"], files["report.md"] = report.write_summary(list(metrics.values()), meta, out_dir)
    return EvaluationSummary(out_dir, metrics["cv"], metrics.get("test"), files, tuple(notes), real)


def _meta(intents_path: Path, test_path: Path | None, examples: Sequence[Example], folds: int) -> dict:
    return {"intents_file": str(intents_path), "test_file": str(test_path) if test_path else None,
            "training_examples": len(examples), "intents": len({e.intent for e in examples}),
            "folds": folds, "seed": SEED}
