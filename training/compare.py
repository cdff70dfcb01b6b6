"""`chatbot evaluate --compare V1 V2`: two saved versions scored on the same held-out data.

What changed, for an analyst deciding whether to promote V2: overall accuracy and macro F1 of
each and the delta; per intent, accuracy (the share of its held-out examples answered right)
and F1 with support, only for intents that changed, the largest drop first; and every
example whose prediction changed (text, truth, V1 -> V2): fixed, broken, or wrong both times.
`write_report` puts all of it into `compare.json` and `compare.md`.

Both versions are scored on the held-out set less the held-out annotations either of them
trained on (`overlay_annotation_ids` in its metadata, written by training/train.py): a label
on the train side when one version was trained is never counted as held out for it.

A version's predictions on a held-out set are cached in its version directory, keyed by the
texts and by the preprocessing they went through (`heldout/<sha256>.json`: the normalizer's
and segmenter's data files, their code and library versions, `preprocessing_digest`; a
version is never changed once saved), so the regression gate (`training/gate.py`) of a
second promotion neither loads the pipeline nor imports scikit-learn. Metrics are computed
here in plain Python for the same reason; they agree with `training.report.split_metrics`
(tests check it).
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from chatbot.artifact_files import keep_newest, write_whole
from chatbot.errors import InvalidInput
from chatbot.nlu import model_store, resource_cache, resources
from training import report
from training.heldout import HeldOut

log = logging.getLogger(__name__)

CACHE_DIR = "heldout"
CACHE_KEEP = 5
KINDS = {"broken": "变错", "fixed": "变对", "still_wrong": "仍错"}


@dataclass(frozen=True)
class Scored:
    """One version's answers on a held-out set, and its metrics."""

    version: str
    predicted: tuple[str, ...]
    confidence: tuple[float, ...]
    metrics: report.SplitMetrics
    cached: bool = False


@dataclass(frozen=True)
class IntentDelta:
    intent: str
    before: report.IntentMetrics
    after: report.IntentMetrics

    @property
    def support(self) -> int:
        return self.after.support

    @property
    def accuracy_delta(self) -> float:
        return round(self.after.recall - self.before.recall, 4)

    @property
    def f1_delta(self) -> float:
        return round(self.after.f1 - self.before.f1, 4)

    def to_dict(self) -> dict:
        return {"intent": self.intent, "support": self.support,
                "accuracy": {"before": self.before.recall, "after": self.after.recall, "delta": self.accuracy_delta},
                "f1": {"before": self.before.f1, "after": self.after.f1, "delta": self.f1_delta}}


@dataclass(frozen=True)
class ChangedPrediction:
    text: str
    truth: str
    before: str
    after: str

    @property
    def kind(self) -> str:
        if self.after == self.truth:
            return "fixed"
        return "broken" if self.before == self.truth else "still_wrong"


@dataclass(frozen=True)
class Comparison:
    held_out: HeldOut
    before: Scored
    after: Scored
    intents: tuple[IntentDelta, ...]  # every intent of the held-out set, in its order
    changed: tuple[ChangedPrediction, ...]  # broken first, then fixed, then still wrong

    @property
    def accuracy_delta(self) -> float:
        return round(self.after.metrics.accuracy - self.before.metrics.accuracy, 4)

    @property
    def macro_f1_delta(self) -> float:
        return round(self.after.metrics.macro_f1 - self.before.metrics.macro_f1, 4)

    def changed_intents(self) -> list[IntentDelta]:
        """Intents whose accuracy or F1 changed, the largest accuracy drop first."""
        moved = [d for d in self.intents if d.accuracy_delta or d.f1_delta]
        return sorted(moved, key=lambda d: (d.accuracy_delta, d.f1_delta, d.intent))

    def to_dict(self) -> dict:
        counts = Counter(c.kind for c in self.changed)
        return {
            "before": self.before.version, "after": self.after.version, "held_out": self.held_out.to_dict(),
            "overall": {name: {"before": getattr(self.before.metrics, name), "after": getattr(self.after.metrics, name),
                               "delta": getattr(self, f"{name}_delta")} for name in ("accuracy", "macro_f1")},
            "intents": [d.to_dict() for d in self.changed_intents()],
            "changed_predictions": {"count": len(self.changed), **{k: counts.get(k, 0) for k in KINDS},
                                    "examples": [{**asdict(c), "kind": c.kind} for c in self.changed]},
        }


def compare(model_dir: Path, before: str, after: str, held_out: HeldOut) -> Comparison:
    """Score both versions on `held_out` less the held-out annotations either trained on
    (unknown version: NotFound before any work; InvalidInput when nothing is left)."""
    for version in (before, after):
        model_store.version_dir(model_dir, version)
    given = held_out
    held_out = held_out.without_annotations(trained_annotation_ids(model_dir, before)
                                            | trained_annotation_ids(model_dir, after))
    if given.examples and not held_out.examples:
        raise InvalidInput(f"没有两个版本都未训练过的留出数据：{held_out.describe()}", "no_held_out_data")
    labels = list(dict.fromkeys(e.intent for e in held_out.examples))
    old, new = score(model_dir, before, held_out, labels), score(model_dir, after, held_out, labels)
    intents = tuple(IntentDelta(label, old.metrics.per_intent[label], new.metrics.per_intent[label])
                    for label in labels)
    changed = [ChangedPrediction(e.text, e.intent, p, q)
               for e, p, q in zip(held_out.examples, old.predicted, new.predicted) if p != q]
    order = list(KINDS)
    changed.sort(key=lambda c: (order.index(c.kind), c.truth, c.text))
    return Comparison(held_out, old, new, intents, tuple(changed))


def trained_annotation_ids(model_dir: Path, version: str) -> set[int]:
    """The annotations `version` trained on, as its metadata lists them (none when it has no
    such list: trained before the overlay, or without it)."""
    try:
        metadata = model_store.load_metadata(model_dir, version)
    except FileNotFoundError:
        return set()
    ids = metadata.get("overlay_annotation_ids") if isinstance(metadata, dict) else None
    return {int(i) for i in ids} if isinstance(ids, list) else set()


def score(model_dir: Path, version: str, held_out: HeldOut, labels: Sequence[str] | None = None) -> Scored:
    """`version`'s predictions on `held_out` (from its cache when there) and their metrics."""
    path = model_store.version_dir(model_dir, version)
    labels = list(labels) if labels is not None else list(dict.fromkeys(e.intent for e in held_out.examples))
    preprocessing = preprocessing_digest()
    target = _cache_file(path, held_out, preprocessing)
    cached = _read_cache(target, held_out)
    predicted, confidence = cached if cached is not None else _predict(model_dir, version, held_out)
    if cached is None:
        _write_cache(target, held_out, preprocessing, predicted, confidence)
    truth = [e.intent for e in held_out.examples]
    texts = tuple(e.text for e in held_out.examples)
    run = report.Predictions("test", texts, tuple(truth), tuple(predicted), tuple(confidence))
    return Scored(version, tuple(predicted), tuple(confidence), split_metrics(run, labels), cached is not None)


def split_metrics(predictions: report.Predictions, labels: Sequence[str]) -> report.SplitMetrics:
    """Accuracy, macro F1 (over intents present) and per-intent P/R/F1/support, as
    `training.report.split_metrics` computes them, without scikit-learn."""
    right, predicted_as = Counter(), Counter(predictions.predicted)
    for truth, predicted in zip(predictions.truth, predictions.predicted):
        right[truth] += truth == predicted
    support = Counter(predictions.truth)
    per_intent = {}
    for label in labels:
        wrong = predicted_as[label] - right[label] + support[label] - right[label]
        per_intent[label] = report.IntentMetrics(
            _ratio(right[label], predicted_as[label]), _ratio(right[label], support[label]),
            _ratio(2 * right[label], 2 * right[label] + wrong), support[label])
    present = [per_intent[label].f1 for label in labels if support[label]]
    examples = len(predictions.truth)
    return report.SplitMetrics(predictions.split, examples, _ratio(sum(right.values()), examples),
                               round(sum(present) / len(present), 4) if present else 0.0, per_intent,
                               tuple(report.top_confusions(predictions)))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _predict(model_dir: Path, version: str, held_out: HeldOut) -> tuple[list[str], list[float]]:
    if not held_out.examples:
        return [], []
    from training.features import prepare

    pipeline = model_store.load_pipeline(model_dir, version)
    proba = pipeline.predict_proba(prepare(e.text for e in held_out.examples))
    classes = pipeline.classes_
    return [str(classes[row.argmax()]) for row in proba], [round(float(row.max()), 6) for row in proba]


# The code that turns a text into the classifier's input (training/features.py `prepare`).
PREPROCESSING_CODE = ("normalize.py", "homophones.py", "pinyin_input.py", "lexicon.py", "lexmatch.py", "textmap.py",
                      "segment.py", "resources.py")
PREPROCESSING_LIBRARIES = ("jieba", "opencc", "pypinyin")


def preprocessing_digest() -> str:
    """sha256 of what `training.features.prepare` depends on besides the text: the data files
    of the normalizer and segmenter (data/synonyms.yaml, the bank's jieba dictionary
    data/banking_dict.txt, which also feeds the homophone fixes), their code and the versions
    of jieba (and its bundled dictionary), OpenCC and pypinyin. The data files are read each
    time: editing one between two comparisons must not reuse stale predictions."""
    from importlib.metadata import PackageNotFoundError, version

    data = resources.resolve_data_dir(None)  # the directory `prepare`'s default normalizer reads
    digest = hashlib.sha256()
    for name in (resources.SYNONYMS_FILE, resources.BANKING_DICT_FILE):
        try:
            content = (data / name).read_bytes()
        except FileNotFoundError:
            content = b"\0missing"
        digest.update(f"{name}\n".encode() + hashlib.sha256(content).digest())
    code = [str(Path(resources.__file__).parent / name) for name in PREPROCESSING_CODE]
    code.append(str(Path(__file__).parent / "features.py"))
    digest.update(resource_cache.source_digest(*code).encode())
    for library in PREPROCESSING_LIBRARIES:
        try:
            digest.update(f"{library}={version(library)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{library} absent\n".encode())
    return digest.hexdigest()


def _cache_file(version_path: Path, held_out: HeldOut, preprocessing: str) -> Path:
    key = hashlib.sha256(f"{held_out.texts_digest}\n{preprocessing}".encode()).hexdigest()
    return version_path / CACHE_DIR / f"{key}.json"


def _read_cache(target: Path, held_out: HeldOut) -> tuple[list[str], list[float]] | None:
    try:
        saved = json.loads(target.read_text(encoding="utf-8"))
        predicted, confidence = saved["predicted"], saved["confidence"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("held-out predictions %s are unusable, predicting again: %s", target, exc)
        return None
    if len(predicted) != len(held_out.examples) or len(confidence) != len(predicted):
        return None
    return [str(p) for p in predicted], [float(c) for c in confidence]


def _write_cache(target: Path, held_out: HeldOut, preprocessing: str, predicted: list[str],
                 confidence: list[float]) -> None:
    payload = json.dumps({"texts_sha256": held_out.texts_digest, "preprocessing_sha256": preprocessing,
                          "predicted": predicted, "confidence": confidence}, ensure_ascii=False).encode("utf-8")
    try:
        write_whole(target, lambda handle: handle.write(payload))
    except OSError as exc:  # a cache: a read-only model directory only costs time
        log.warning("could not cache held-out predictions in %s: %s", target, exc)
        return
    keep_newest(target.parent.glob("*.json"), CACHE_KEEP, target)


# --- what people read -------------------------------------------------------------------------

def summary_lines(comparison: Comparison, limit: int = 20) -> list[str]:
    """The comparison for a terminal: headline, changed intents, the first `limit` changed examples."""
    old, new = comparison.before, comparison.after
    lines = [comparison.held_out.describe(),
             f"{old.version}：准确率 {old.metrics.accuracy:.4f}，宏平均 F1 {old.metrics.macro_f1:.4f}",
             f"{new.version}：准确率 {new.metrics.accuracy:.4f}，宏平均 F1 {new.metrics.macro_f1:.4f}",
             f"变化：准确率 {comparison.accuracy_delta:+.4f}，宏平均 F1 {comparison.macro_f1_delta:+.4f}"]
    moved = comparison.changed_intents()
    lines.append(f"有变化的意图 {len(moved)} 个（按准确率变化排序）：" if moved else "各意图的准确率与 F1 均无变化")
    lines += [f"  {d.intent}（n={d.support}）：准确率 {d.before.recall:.2f} → {d.after.recall:.2f}"
              f"（{d.accuracy_delta:+.2f}），F1 {d.before.f1:.2f} → {d.after.f1:.2f}（{d.f1_delta:+.2f}）"
              for d in moved]
    counts = Counter(c.kind for c in comparison.changed)
    lines.append(f"预测改变的例句 {len(comparison.changed)} 条：" + "，".join(
        f"{name} {counts.get(kind, 0)}" for kind, name in KINDS.items()))
    lines += [f"  [{KINDS[c.kind]}] {_one_line(c.text)}（标注 {c.truth}）：{c.before} → {c.after}"
              for c in comparison.changed[:limit]]
    if len(comparison.changed) > limit:
        lines.append(f"  ……另有 {len(comparison.changed) - limit} 条，见报告 compare.md / compare.json")
    return lines


def write_report(comparison: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """`compare.json` (everything) and `compare.md` in `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "compare.json", out_dir / "compare.md"
    json_path.write_text(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(comparison), encoding="utf-8")
    return json_path, md_path


def markdown(comparison: Comparison) -> str:
    old, new = comparison.before, comparison.after
    lines = [f"# 模型对比：`{old.version}` → `{new.version}`", "", f"- {comparison.held_out.describe()}", "",
             "| | 准确率 | 宏平均 F1 |", "|---|---|---|",
             f"| `{old.version}` | {old.metrics.accuracy:.4f} | {old.metrics.macro_f1:.4f} |",
             f"| `{new.version}` | {new.metrics.accuracy:.4f} | {new.metrics.macro_f1:.4f} |",
             f"| 变化 | {comparison.accuracy_delta:+.4f} | {comparison.macro_f1_delta:+.4f} |", "",
             "## 有变化的意图", ""]
    moved = comparison.changed_intents()
    if moved:
        lines += ["| 意图 | n | 准确率 | 变化 | F1 | 变化 |", "|---|---|---|---|---|---|"]
        lines += [f"| `{d.intent}` | {d.support} | {d.before.recall:.2f} → {d.after.recall:.2f} | {d.accuracy_delta:+.2f} "
                  f"| {d.before.f1:.2f} → {d.after.f1:.2f} | {d.f1_delta:+.2f} |" for d in moved]
    else:
        lines.append("无")
    lines += ["", f"## 预测改变的例句（{len(comparison.changed)} 条）", ""]
    if comparison.changed:
        lines += ["| | 例句 | 标注 | 之前 | 之后 |", "|---|---|---|---|---|"]
        lines += [f"| {KINDS[c.kind]} | {_cell(c.text)} | `{c.truth}` | `{c.before}` | `{c.after}` |"
                  for c in comparison.changed]
    else:
        lines.append("无")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")
