"""NLU benchmark: held-out accuracy and `Parser.parse` latency on one core, against bare jieba.

    .venv/bin/python bench/nlu.py [--rounds 20] [--model-dir DIR] [--profile]

Trains the intent model on data/intents.yaml in memory (or loads the promoted model of
--model-dir), then parses every sentence of data/intents_test.tsv: the intent accuracy of the
whole parser (and on data/intents_real.tsv, the real customers' phrasings, by kind), parse latency p50/p99 and parses/s pinned to one core, the same for a bare
`jieba.lcut` of the same sentences, their ratio, and where a parse spends its time
(normalize / segment / classify / entities). Targets: p99 under 2 ms on one core.
Absolute numbers depend on the (shared) machine; the ratio to jieba is what to compare.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatbot.nlu.classifier import LinearIntentModel  # noqa: E402
from chatbot.nlu.entities import extract_entities  # noqa: E402
from chatbot.nlu.parser import Parser  # noqa: E402
from chatbot.nlu.segment import _import_jieba  # noqa: E402
from training.datasets import Example, load_intents, load_tsv  # noqa: E402
from training.train import fit  # noqa: E402

TODAY = date(2026, 11, 24)


def pin_to_one_core() -> str:
    """Run on CPU 0 only, so parses/s means one core's worth (where the OS allows it)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
        return "CPU 0"
    return "not pinned (no sched_setaffinity)"


def load_classifier(intents: Path, model_dir: Path | None) -> LinearIntentModel:
    if model_dir is not None:
        from chatbot.nlu.model_store import load_model, promoted_version

        return load_model(model_dir, promoted_version(model_dir))
    return LinearIntentModel(fit(load_intents(intents)))


def time_each(call: Callable[[str], object], texts: Sequence[str], rounds: int) -> list[list[float]]:
    """Seconds per call: one row per round, one column per text (after an untimed warm-up)."""
    for text in texts:
        call(text)
    gc.collect()
    rows = []
    for _ in range(rounds):
        row = []
        for text in texts:
            start = time.perf_counter()
            call(text)
            row.append(time.perf_counter() - start)
        rows.append(row)
    return rows


def summary(rows: list[list[float]]) -> dict:
    """Percentiles over all calls, and over each text's fastest call.

    On a shared machine the plain p99 mostly measures preemption by other processes; the
    p99 of per-text best times is the intrinsic cost of the slowest sentences.
    """
    samples = [s for row in rows for s in row]
    best = [min(column) for column in zip(*rows)]
    return {"p50_ms": _percentile(samples, 0.50), "p99_ms": _percentile(samples, 0.99),
            "best_p99_ms": _percentile(best, 0.99),
            "mean_ms": 1000 * statistics.fmean(samples), "per_s": len(samples) / sum(samples)}


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def accuracy(parser: Parser, test: Sequence[Example]) -> float:
    return sum(parser.parse(e.text, TODAY).intent.name == e.intent for e in test) / len(test)


def real_customers(parser: Parser, real: Sequence[Example], training: Sequence[Example] = ()):
    """The real customers' phrasings (data/intents_real.tsv) through the whole parser: accuracy
    per kind, precision of the answers given with confidence >= 0.8, calibration error."""
    from training.real_set import asked_between, in_training, summarize
    from training.report import Predictions

    parses = [parser.parse(e.text, TODAY) for e in real]
    predictions = Predictions("real", tuple(e.text for e in real), tuple(e.intent for e in real),
                              tuple(p.intent.name for p in parses), tuple(p.intent.confidence for p in parses))
    seen = in_training([e.text for e in real], [e.text for e in training]) if training else None
    return summarize(predictions, [e.kind for e in real], asked_between(parses), seen)


def stage_means(parser: Parser, texts: Sequence[str], rounds: int) -> dict[str, float]:
    """Mean milliseconds of each parser stage, each timed on its own."""
    normalized = [parser.normalizer.normalize(t) for t in texts]
    tokens = [tuple(parser.segmenter.cut(n.text)) for n in normalized]
    by_text = {t: (n, k) for t, n, k in zip(texts, normalized, tokens)}
    stages = {
        "normalize": lambda t: parser.normalizer.normalize(t),
        "segment": lambda t: parser.segmenter.cut(by_text[t][0].text),
        "classify": lambda t: parser.classifier.rank(by_text[t][0].text, by_text[t][1]),
        "entities": lambda t: extract_entities(by_text[t][0], TODAY),
    }
    return {name: summary(time_each(call, texts, rounds))["mean_ms"] for name, call in stages.items()}


def profile(parser: Parser, texts: Sequence[str], rounds: int) -> None:
    """cProfile of `rounds` passes, the 25 functions with the most cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        for text in texts:
            parser.parse(text, TODAY)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    args = _arguments()
    pinned = pin_to_one_core()
    started = time.perf_counter()
    classifier = load_classifier(args.intents, args.model_dir)
    print(f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"model ready in {time.perf_counter() - started:.1f} s ({len(classifier.classes)} intents); pinned: {pinned}")
    parser = Parser(classifier)
    test = load_tsv(args.test, classifier.classes)
    texts = [e.text for e in test]
    print(f"held-out accuracy (Parser.parse): {accuracy(parser, test):.4f} on {len(test)} sentences")
    if args.real.is_file():
        print(real_customers(parser, load_tsv(args.real, classifier.classes), load_intents(args.intents)).line())
    jieba = _import_jieba()
    jieba.initialize()
    parse = summary(time_each(lambda t: parser.parse(t, TODAY), texts, args.rounds))
    bare = summary(time_each(jieba.lcut, texts, args.rounds))
    _report("Parser.parse", parse)
    _report("jieba.lcut", bare)
    print(f"ratio parse / jieba.lcut: mean {parse['mean_ms'] / bare['mean_ms']:.2f}x, "
          f"p50 {parse['p50_ms'] / bare['p50_ms']:.2f}x")
    stages = stage_means(parser, texts, max(1, args.rounds // 4))
    print("stage means (ms): " + ", ".join(f"{name} {ms:.3f}" for name, ms in stages.items()))
    print(f"p99 target 2 ms: {'met' if parse['p99_ms'] < 2.0 else 'NOT met'} "
          f"(intrinsic p99 of per-sentence best times {parse['best_p99_ms']:.3f} ms)")
    if args.profile or parse["p99_ms"] >= 2.0:
        profile(parser, texts, max(1, args.rounds // 4))


def _report(name: str, stats: dict) -> None:
    print(f"{name:13s} p50 {stats['p50_ms']:.3f} ms  p99 {stats['p99_ms']:.3f} ms  "
          f"(best-of-rounds p99 {stats['best_p99_ms']:.3f} ms)  mean {stats['mean_ms']:.3f} ms  "
          f"{stats['per_s']:,.0f}/s")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=Path, default=ROOT / "data" / "intents.yaml")
    parser.add_argument("--test", type=Path, default=ROOT / "data" / "intents_test.tsv")
    parser.add_argument("--real", type=Path, default=ROOT / "data" / "intents_real.tsv",
                        help="real customers' phrasings (intent, text, kind), reported when the file exists")
    parser.add_argument("--model-dir", type=Path, help="use this directory's promoted model instead of training")
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the test sentences")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    return parser.parse_args()


if __name__ == "__main__":
    main()
