"""Look-alike FAQ entries: pairs whose phrasings retrieval mixes up, for editors to resolve.

Two entries that answer nearly the same question (信用卡 vs 贷款 逾期记录多久消除) cost
accuracy that no ranking model can win back: a customer's short question fits both, and
only one is counted right. This finds them by cross-validation over the entries' own
phrasings: every ``similar`` and training phrasing goes to one of ``folds`` folds; each
fold is removed from the index in turn and asked as a query. A pair's count is how many
phrasings of either entry ranked the other one first.

An editor then merges the pair into one entry, or rewrites their questions so each says
what sets it apart. Offline only (``bench/faq.py --overlaps``): it builds ``folds``
indexes.
"""
from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.faq.analyze import TextAnalyzer
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import FaqEntry
from knowledge.faq.training import NO_TRAINING, TrainingPhrasings


@dataclass(frozen=True)
class Overlap:
    """Two entries and how often a phrasing of one ranked the other first."""

    first: FaqEntry
    second: FaqEntry
    confusions: int


def find_overlaps(entries: Sequence[FaqEntry], analyzer: TextAnalyzer,
                  training: TrainingPhrasings = NO_TRAINING, folds: int = 4,
                  min_confusions: int = 2, seed: int = 0) -> list[Overlap]:
    """Entry pairs confused at least ``min_confusions`` times, most confused first."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    rng = random.Random(seed)
    # fold of every (entry id, "similar" | "training", phrasing) item
    assignment: dict[tuple[str, str, str], int] = {}
    for entry in entries:
        items = [(entry.id, "similar", text) for text in entry.similar]
        items += [(entry.id, "training", text) for text in training.get(entry.id, ())]
        rng.shuffle(items)
        for position, item in enumerate(items):
            assignment[item] = position % folds
    pairs: Counter[tuple[str, str]] = Counter()
    for fold in range(folds):
        held = {item for item, f in assignment.items() if f == fold}
        indexed = [dataclasses.replace(entry, similar=tuple(
            t for t in entry.similar if (entry.id, "similar", t) not in held)) for entry in entries]
        kept = {entry_id: tuple(t for t in texts if (entry_id, "training", t) not in held)
                for entry_id, texts in training.items()}
        retriever = FaqRetriever(indexed, analyzer=analyzer, training=kept)
        for expected, _, text in sorted(held):
            hits = retriever.search(text, top_k=1)
            if hits and hits[0].entry.id != expected:
                pairs[tuple(sorted((expected, hits[0].entry.id)))] += 1
    by_id = {entry.id: entry for entry in entries}
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))  # ties by id: stable output
    return [Overlap(by_id[a], by_id[b], count) for (a, b), count in ranked if count >= min_confusions]
