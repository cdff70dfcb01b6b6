"""How the intent model does on real customers' phrasing (`data/intents_real.tsv`, issue 20).

The file is never trained on: messages written by people who did not write the training
examples, in the kinds real customers send (terse, regional, prefixed, emotional, contact,
my-versus-how, unsupported business, close to another intent; its third column). About a
quarter of its messages, mostly terse ones ("余额", "分期"), are also training examples,
because they are what anyone writes; the accuracy on the others is reported apart. Reported
by `chatbot evaluate` and `bench/nlu.py` beside the held-out split:

- accuracy overall and per kind;
- **confident precision**: among answers given with confidence >= `CONFIDENT` (0.8), the share
  that is right (wrong and sure is the worst outcome: the bot acts without asking), and how
  many answers were that confident;
- a **reliability diagram** (`reliability_real.png`): confidence in bins against the share right
  in each bin; a calibrated model's bars sit on the diagonal;
- how often the bot would **ask between two businesses** instead of answering
  (chatbot/dialogue/choices.py), how often the right one is among the two, and the share
  answered wrong without asking: what the customer actually meets.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from training.report import Predictions

REAL_FILE = "intents_real.tsv"
CONFIDENT = 0.8
BINS = 10


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    accuracy: float | None  # None for an empty bin
    mean_confidence: float | None


@dataclass(frozen=True)
class RealSetSummary:
    examples: int
    accuracy: float
    per_kind: dict[str, tuple[int, float]]  # kind -> (examples, accuracy)
    confident_answers: int  # confidence >= CONFIDENT
    confident_precision: float | None  # share right among them
    bins: tuple[Bin, ...]
    expected_calibration_error: float
    unseen: int = 0  # messages that are not, once normalized, a training example
    unseen_accuracy: float | None = None  # the accuracy on those: the figure tuning cannot inflate
    asked: int = 0  # messages the bot would ask about (two businesses, choices.py)
    asked_covering: int = 0  # of those, the right intent is one of the two options
    wrong_unasked: int = 0  # answered wrong without asking

    def line(self) -> str:
        """One line for the command's output."""
        confident = ("无" if self.confident_precision is None else
                     f"{self.confident_precision:.1%}（{self.confident_answers} 条）")
        kinds = "，".join(f"{kind} {accuracy:.2f}" for kind, (_, accuracy) in sorted(self.per_kind.items()))
        unseen = "" if self.unseen_accuracy is None else f"（不在训练数据中的 {self.unseen} 条：{self.unseen_accuracy:.4f}）"
        return (f"真实说法集 {self.examples} 条：准确率 {self.accuracy:.4f}{unseen}；置信度≥{CONFIDENT} 的回答中正确 "
                f"{confident}；校准误差 ECE {self.expected_calibration_error:.3f}；二选一反问 {self.asked} 条"
                f"（含正确业务 {self.asked_covering} 条），未反问且答错 {self.wrong_unasked} 条"
                f"（{self.wrong_unasked / self.examples if self.examples else 0:.1%}）；各类：{kinds}")

    def to_dict(self) -> dict:
        return {"examples": self.examples, "accuracy": round(self.accuracy, 4),
                "per_kind": {k: {"examples": n, "accuracy": round(a, 4)} for k, (n, a) in self.per_kind.items()},
                "confident_threshold": CONFIDENT, "confident_answers": self.confident_answers,
                "confident_precision": None if self.confident_precision is None else round(self.confident_precision, 4),
                "expected_calibration_error": round(self.expected_calibration_error, 4),
                "unseen": self.unseen,
                "unseen_accuracy": None if self.unseen_accuracy is None else round(self.unseen_accuracy, 4),
                "asked_between_two": self.asked, "asked_covering_truth": self.asked_covering,
                "wrong_without_asking": self.wrong_unasked,
                "bins": [{"low": b.low, "high": b.high, "count": b.count,
                          "accuracy": None if b.accuracy is None else round(b.accuracy, 4),
                          "mean_confidence": None if b.mean_confidence is None else round(b.mean_confidence, 4)}
                         for b in self.bins]}


def asked_between(parses: Sequence) -> list[tuple[str, str] | None]:
    """For each ParseResult, the two businesses the bot would ask between, or None."""
    from chatbot.dialogue.choices import close_call

    return [close_call(parse) for parse in parses]


def in_training(texts: Sequence[str], training_texts: Sequence[str]) -> list[bool]:
    """Whether each text, normalized, is also a training example ("余额" is in both, naturally)."""
    from chatbot.nlu.normalize import normalize

    known = {normalize(text).text for text in training_texts}
    return [normalize(text).text in known for text in texts]


def summarize(predictions: Predictions, kinds: Sequence[str | None],
              asked: Sequence[tuple[str, str] | None] | None = None,
              seen: Sequence[bool] | None = None) -> RealSetSummary:
    """The figures above from one evaluated split, each example's kind (None: unknown) and,
    when known, the options the bot would ask between (`asked_between`) and whether each
    message is also a training example (`in_training`)."""
    right = [t == p for t, p in zip(predictions.truth, predictions.predicted)]
    unseen_right = [ok for ok, was_seen in zip(right, seen) if not was_seen] if seen is not None else []
    asked = list(asked) if asked is not None else [None] * len(right)
    covering = sum(1 for truth, options in zip(predictions.truth, asked) if options and truth in options)
    wrong_unasked = sum(1 for ok, options in zip(right, asked) if not ok and not options)
    total = len(right)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for kind, ok in zip(kinds, right):
        by_kind[kind or "other"].append(ok)
    confident = [ok for ok, c in zip(right, predictions.confidence) if c >= CONFIDENT]
    bins = _bins(right, predictions.confidence)
    ece = sum(b.count * abs(b.accuracy - b.mean_confidence) for b in bins if b.count) / total if total else 0.0
    return RealSetSummary(
        examples=total, accuracy=sum(right) / total if total else 0.0,
        per_kind={kind: (len(oks), sum(oks) / len(oks)) for kind, oks in by_kind.items()},
        confident_answers=len(confident),
        confident_precision=sum(confident) / len(confident) if confident else None,
        bins=bins, expected_calibration_error=ece,
        asked=sum(1 for options in asked if options), asked_covering=covering, wrong_unasked=wrong_unasked,
        unseen=len(unseen_right) if seen is not None else 0,
        unseen_accuracy=sum(unseen_right) / len(unseen_right) if seen is not None and unseen_right else None)


def _bins(right: Sequence[bool], confidence: Sequence[float]) -> tuple[Bin, ...]:
    members: list[list[tuple[bool, float]]] = [[] for _ in range(BINS)]
    for ok, c in zip(right, confidence):
        members[min(int(c * BINS), BINS - 1)].append((ok, c))
    return tuple(Bin(i / BINS, (i + 1) / BINS, len(m),
                     sum(ok for ok, _ in m) / len(m) if m else None,
                     sum(c for _, c in m) / len(m) if m else None) for i, m in enumerate(members))


def write_reliability_diagram(summary: RealSetSummary, path: Path) -> str | None:
    """The reliability diagram as a PNG; a warning when no Chinese font is installed."""
    from training.heatmap import NO_CJK_FONT, _pyplot, find_cjk_font

    pyplot = _pyplot()
    font = find_cjk_font()
    if font:
        pyplot.rcParams["font.family"] = [font]
    figure, axes = pyplot.subplots(figsize=(5.5, 5.0), dpi=110)
    try:
        width = 1 / BINS
        centers = [b.low + width / 2 for b in summary.bins]
        heights = [b.accuracy or 0.0 for b in summary.bins]
        axes.bar(centers, heights, width=width * 0.9, color="#3b6fb6", edgecolor="white", label="实际正确率")
        axes.plot([0, 1], [0, 1], linestyle="--", color="#c0392b", label="完全校准")
        for center, b in zip(centers, summary.bins):
            if b.count:
                axes.text(center, (b.accuracy or 0) + 0.02, str(b.count), ha="center", fontsize=7, color="#555")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.08)
        axes.set_xlabel("模型置信度")
        axes.set_ylabel("正确率")
        axes.set_title(f"真实说法集可靠性图（{summary.examples} 条，ECE {summary.expected_calibration_error:.3f}）",
                       fontsize=10)
        axes.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        pyplot.close(figure)
    return None if font else NO_CJK_FONT
