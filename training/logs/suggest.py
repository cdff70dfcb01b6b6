"""A suggested label for a group of turns, so an analyst confirms more than they type.

The model's own top-1 is what went wrong in most exported turns, so it comes last:

1. "faq" when the FAQ came close for most of the group: it asked which entry was meant
   (a clarification), or a candidate scored at least the FAQ's clarify threshold.
2. The intent of the nearest training examples (data/intents.yaml) by TF-IDF cosine
   similarity, when they are near enough and agree (a similarity-weighted majority).
3. The model's top-1 when most of the group got the same one with confidence (the
   policy's own line): a complaint that was handed off is a complaint.

None when no signal is clear: an empty cell is better than a wrong hint.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.faq.retrieve import CLARIFY_THRESHOLD
from training.annotations.keys import FAQ_LABEL

FAQ_CLOSE = CLARIFY_THRESHOLD  # a candidate this good would have made the FAQ ask, not give up
# Measured on data/intents_test.tsv (held out, 680 phrasings, no model intent given): a
# suggestion for 83 % of them, 91.7 % right. NEAR 0.5: 68 %, 91 %; 0.3: 90 %, 92.6 %, but
# exported turns are odder than the test set, and a weaker match suggests more wrongly there.
NEAR = 0.4  # cosine similarity to a training example that counts as said much the same way
NEIGHBOURS = 5  # training examples consulted per phrasing
CONFIDENT = 0.5  # chatbot/dialogue/policy.py: under it the policy does not trust the model
_CHUNK = 1000  # phrasings compared with the training examples at once (a dense chunk x examples)


@dataclass(frozen=True)
class Neighbour:
    intent: str
    similarity: float


def nearest_examples(vectors, example_vectors, example_intents: Sequence[str],
                     k: int = NEIGHBOURS) -> list[tuple[Neighbour, ...]]:
    """For each row of `vectors` (L2-normalized TF-IDF), its k most similar training
    examples, best first. Compared a chunk at a time, so memory stays bounded."""
    rows = vectors.shape[0]
    if rows == 0 or example_vectors.shape[0] == 0:
        return [()] * rows
    k = min(k, example_vectors.shape[0])
    found: list[tuple[Neighbour, ...]] = []
    for start in range(0, rows, _CHUNK):
        similarity = (vectors[start:start + _CHUNK] @ example_vectors.T).toarray()
        best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        for row, columns in enumerate(best):
            ordered = sorted(columns, key=lambda c: -similarity[row, c])
            found.append(tuple(Neighbour(example_intents[c], float(similarity[row, c])) for c in ordered))
    return found


def suggest_label(turns: Sequence, neighbours: Sequence[Sequence[Neighbour]],
                  known_intents: Collection[str]) -> str | None:
    """The label to suggest for a group (`neighbours[i]` belongs to `turns[i]`)."""
    labels = set(known_intents) | {FAQ_LABEL}
    if _faq_was_close(turns):
        return FAQ_LABEL
    votes: Counter[str] = Counter()
    for near in neighbours:
        for neighbour in near:
            if neighbour.similarity >= NEAR and neighbour.intent in labels:
                votes[neighbour.intent] += neighbour.similarity
    if votes:
        best, weight = votes.most_common(1)[0]
        if weight > sum(votes.values()) / 2:
            return best
    return _confident_model(turns, labels)


def _faq_was_close(turns: Sequence) -> bool:
    close = sum(1 for t in turns if t.kind == "clarify"
                or any(score >= FAQ_CLOSE for _, _, score in t.faq_candidates))
    return close > len(turns) / 2


def _confident_model(turns: Sequence, labels: set[str]) -> str | None:
    sure = Counter(t.intent for t in turns if t.intent in labels and (t.confidence or 0.0) >= CONFIDENT)
    if not sure:
        return None
    best, count = sure.most_common(1)[0]
    return best if count > len(turns) / 2 else None
