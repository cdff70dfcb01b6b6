"""Turns said the same way, together: an analyst labels a group instead of each line.

1. Exact duplicates (the same `comparable()` text: case, width, punctuation and spaces
   aside) are one phrasing; everything below works on distinct phrasings.
2. Each phrasing is a TF-IDF vector of its character unigrams and bigrams (Chinese has no
   spaces, and customers' words are short), the IDF fitted on the phrasings and the
   training examples together so that frequent banking words weigh little.
3. Average-linkage agglomerative clustering on cosine distance (scipy's, which is what
   scikit-learn's AgglomerativeClustering runs, here fed condensed distances so no square
   matrix is ever built), cut at DISTANCE.

DISTANCE was measured on 3,000 realistic phrasings (data/intents.yaml examples, the FAQ's
training phrasings, a third of them retyped with 请问/啊/？/a doubled character), scoring
how pure the groups are against the intent or FAQ entry each came from:
average 0.5 -> 98.1 % of phrasings carry their group's majority label, 1,918 groups for
2,871 distinct phrasings; 0.6 -> 95.2 %, 1,736; 0.7 -> 88.0 %. Complete linkage, character
1-3 grams, word (jieba) + character features and single linkage were no better for the
same purity (single linkage chains: 0.6 -> 21 % pair precision).

Memory: clustering n phrasings takes n(n-1)/2 float64 distances (4,000: 64 MB), which scipy
copies once. More than BLOCK distinct phrasings are cut into blocks of BLOCK, ordered by
the model's intent and then by text, each clustered on its own: phrasings of different
model intents that fall in different blocks are then not grouped.
Measured (tests/training/test_logs_export.py builds such turns; this machine, shared): 5,000
turns in 1.7 s, 20,000 in 4.8 s, with at most 2 x 64 MB of distances at a time (BLOCK 4,000)
and about 200 MB allocated at the peak in all.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from training.annotations.keys import comparable
from training.logs.select import LoggedTurn
from training.logs.suggest import nearest_examples, suggest_label

DISTANCE = 0.5  # average cosine distance under which phrasings are one group (measured above)
BLOCK = 4000  # distinct phrasings clustered at once (bounds memory, see the module docstring)
_ROWS = 512  # rows of the distance matrix computed at once


@dataclass
class TurnGroup:
    id: int  # 1, 2, ... biggest group first
    turns: list[LoggedTurn]
    suggested: str | None  # see suggest.py


def group_turns(turns: Sequence[LoggedTurn], known_intents: Collection[str],
                training: Sequence | None = None) -> list[TurnGroup]:
    """Near-duplicates and similar phrasings in one group each, biggest first; `training`
    (training.datasets.Example) helps weigh words and suggest a label."""
    if not turns:
        return []
    keys = [comparable(t.text) for t in turns]
    phrasings = list(dict.fromkeys(keys))  # distinct, in the turns' order (newest first)
    examples = list(training or ())
    example_texts = [comparable(e.text) for e in examples]
    vectorizer = text_vectorizer().fit(phrasings + example_texts)
    vectors = vectorizer.transform(phrasings)
    intents: dict[str, str] = {}
    for key, turn in zip(keys, turns):
        intents.setdefault(key, turn.intent or "")
    labels = cluster(vectors, [intents[p] for p in phrasings])
    near = [()] * len(phrasings)
    if examples:
        near = nearest_examples(vectors, vectorizer.transform(example_texts), [e.intent for e in examples])
    return _groups(turns, keys, dict(zip(phrasings, labels)), dict(zip(phrasings, near)), known_intents)


def text_vectorizer():
    """Character 1-2 grams, sublinear term frequency, L2-normalized rows."""
    # Imported here: serving workers import this module (the /admin routes) but must not pay
    # scikit-learn's and scipy's import at start-up (docs/architecture.md, cold start).
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)


def cluster(vectors, block_keys: Sequence[str], distance: float = DISTANCE, block: int | None = None) -> np.ndarray:
    """A cluster number for each row of `vectors`; rows are cut into blocks of `block`
    (default BLOCK; in the order of `block_keys`, then row) when there are more."""
    block = block or BLOCK
    rows = vectors.shape[0]
    order = np.arange(rows) if rows <= block else np.array(
        sorted(range(rows), key=lambda i: (block_keys[i], i)))
    labels = np.empty(rows, dtype=np.int64)
    offset = 0
    for start in range(0, rows, block):
        chunk = order[start:start + block]
        found = _cluster_block(vectors[chunk], distance)
        labels[chunk] = found + offset
        offset += int(found.max()) + 1
    return labels


def _cluster_block(vectors, distance: float) -> np.ndarray:
    rows = vectors.shape[0]
    if rows == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(condensed_distances(vectors), method="average")
    return fcluster(tree, distance, criterion="distance").astype(np.int64) - 1


def condensed_distances(vectors) -> np.ndarray:
    """Cosine distances of L2-normalized rows, upper triangle only (scipy's condensed form),
    computed _ROWS rows at a time: never the square matrix."""
    rows = vectors.shape[0]
    out = np.empty(rows * (rows - 1) // 2, dtype=np.float64)
    position = 0
    transposed = vectors.T.tocsc()
    for start in range(0, rows - 1, _ROWS):
        stop = min(start + _ROWS, rows - 1)
        similarity = (vectors[start:stop] @ transposed[:, start:]).toarray()
        for row in range(start, stop):
            tail = similarity[row - start, row - start + 1:]
            out[position:position + tail.size] = 1.0 - tail
            position += tail.size
    np.clip(out, 0.0, 1.0, out=out)  # rounding; TF-IDF vectors are never opposed
    return out


def _groups(turns, keys, label_of: dict, near_of: dict, known_intents) -> list[TurnGroup]:
    members: dict[int, list[int]] = {}
    for position, key in enumerate(keys):
        members.setdefault(int(label_of[key]), []).append(position)
    # Biggest first; among equals, the one with the newest turn (turns come newest first).
    ordered = sorted(members.values(), key=lambda m: (-len(m), m[0]))
    groups = []
    for number, positions in enumerate(ordered, start=1):
        members_ = [turns[p] for p in positions]
        neighbours = [near_of[keys[p]] for p in positions]
        groups.append(TurnGroup(number, members_, suggest_label(members_, neighbours, known_intents)))
    return groups
