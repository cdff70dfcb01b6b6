"""Evaluation report files: metrics from predictions, and the files analysts read.

One evaluated split (cross-validation or the held-out test) is a `Predictions`; from it come
`SplitMetrics` (accuracy, macro F1, per-intent precision/recall/F1/support), the confusion
matrix as CSV, and the misclassified examples as TSV. `write_summary` puts the metrics of all
splits into `report.json` and a Markdown table into `report.md`.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Predictions:
    """What the model said about each example of one split, in the split's order."""

    split: str  # "cv" or "test"
    texts: tuple[str, ...]
    truth: tuple[str, ...]
    predicted: tuple[str, ...]
    confidence: tuple[float, ...]


@dataclass(frozen=True)
class IntentMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class SplitMetrics:
    split: str
    examples: int
    accuracy: float
    macro_f1: float
    per_intent: dict[str, IntentMetrics]
    confusions: tuple[tuple[str, str, int], ...] = ()  # most frequent (true, predicted, count)

    def weakest(self, count: int = 5) -> list[tuple[str, float]]:
        """The `count` intents with the lowest F1, lowest first."""
        ranked = sorted(self.per_intent.items(), key=lambda item: (item[1].f1, item[0]))
        return [(name, m.f1) for name, m in ranked[:count]]


def split_metrics(predictions: Predictions, labels: Sequence[str]) -> SplitMetrics:
    """Accuracy, macro F1 and per-intent scores; an intent never predicted has precision 0."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    truth, predicted = list(predictions.truth), list(predictions.predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(labels), zero_division=0)
    per_intent = {label: IntentMetrics(_round(p), _round(r), _round(f), int(s))
                  for label, p, r, f, s in zip(labels, precision, recall, f1, support)}
    present = [m.f1 for m in per_intent.values() if m.support > 0]
    return SplitMetrics(predictions.split, len(truth), _round(accuracy_score(truth, predicted)),
                        _round(float(np.mean(present)) if present else 0.0), per_intent,
                        tuple(top_confusions(predictions)))


def confusion(predictions: Predictions, labels: Sequence[str]) -> np.ndarray:
    """Counts, rows = true intent, columns = predicted intent, both in `labels` order."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(list(predictions.truth), list(predictions.predicted), labels=list(labels))


def write_confusion_csv(matrix: np.ndarray, labels: Sequence[str], path: Path) -> None:
    """Labels as the header row and the first column (the corner cell names the axes)."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["true\\predicted", *labels])
        for label, row in zip(labels, matrix):
            writer.writerow([label, *(int(n) for n in row)])


def write_misclassified(predictions: Predictions, path: Path) -> int:
    """`true<TAB>predicted<TAB>confidence<TAB>text`, most confident mistakes first."""
    rows = [(t, p, c, x) for x, t, p, c in zip(predictions.texts, predictions.truth,
                                               predictions.predicted, predictions.confidence) if t != p]
    rows.sort(key=lambda row: (-row[2], row[0], row[3]))
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        handle.write("true\tpredicted\tconfidence\ttext\n")
        for true, predicted, confidence, text in rows:
            # A tab or newline inside a text would shift the columns.
            clean = " ".join(text.split())
            handle.write(f"{true}\t{predicted}\t{confidence:.4f}\t{clean}\n")
    return len(rows)


def write_summary(splits: Sequence[SplitMetrics], meta: dict, out_dir: Path) -> tuple[Path, Path]:
    """`report.json` (machine-readable) and `report.md` (for people) in `out_dir`."""
    json_path, md_path = Path(out_dir) / "report.json", Path(out_dir) / "report.md"
    payload = {**meta, "splits": {s.split: _as_json(s) for s in splits}}
    json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(splits, meta), encoding="utf-8")
    return json_path, md_path


def _as_json(metrics: SplitMetrics) -> dict:
    return {"examples": metrics.examples, "accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1,
            "per_intent": {name: asdict(m) for name, m in metrics.per_intent.items()},
            "top_confusions": [{"true": t, "predicted": p, "count": n} for t, p, n in metrics.confusions]}


SPLIT_TITLES = {"cv": "交叉验证", "test": "留出测试集", "real": "真实说法集"}


def markdown(splits: Sequence[SplitMetrics], meta: dict) -> str:
    """The report as Markdown: headline numbers, then one row per intent with every split."""
    lines = ["# 意图识别评估报告", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    lines.append("")
    for s in splits:
        weakest = "、".join(f"{name} {f1:.2f}" for name, f1 in s.weakest())
        lines.append(f"**{SPLIT_TITLES.get(s.split, s.split)}**：{s.examples} 条，准确率 {s.accuracy:.4f}，"
                     f"宏平均 F1 {s.macro_f1:.4f}；F1 最低：{weakest}")
        lines.append("")
    lines += _intent_table(splits)
    for s in splits:
        if s.confusions:
            lines += ["", f"## 最常见的混淆（{SPLIT_TITLES.get(s.split, s.split)}）", ""]
            lines += [f"- `{t}` → `{p}`：{n} 次" for t, p, n in s.confusions]
    return "\n".join(lines) + "\n"


def _intent_table(splits: Sequence[SplitMetrics]) -> list[str]:
    header = ["意图"] + [f"{SPLIT_TITLES.get(s.split, s.split)} {col}" for s in splits
                         for col in ("P", "R", "F1", "n")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in splits[0].per_intent:
        cells = [f"`{name}`"]
        for s in splits:
            m = s.per_intent[name]
            cells += [f"{m.precision:.2f}", f"{m.recall:.2f}", _flag(m), str(m.support)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _flag(metrics: IntentMetrics) -> str:
    # Bold marks an intent below the bank's acceptance bar of 0.90 F1.
    return f"**{metrics.f1:.2f}**" if metrics.support and metrics.f1 < 0.90 else f"{metrics.f1:.2f}"


def top_confusions(predictions: Predictions, count: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted) mistakes."""
    pairs = Counter((t, p) for t, p in zip(predictions.truth, predictions.predicted) if t != p)
    return [(t, p, n) for (t, p), n in pairs.most_common(count)]


def _round(value: float) -> float:
    return round(float(value), 4)
