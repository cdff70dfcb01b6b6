"""An FAQ entry's close neighbours, for the "相关问题" line under its answer.

The neighbours are the entries the FAQ search ranks next for the entry's own question: what a
customer with that question tends to ask next (挂失 -> 挂失要收费吗 / 怎么补卡). Worked out
once per entry and FAQ index (an admin's edit installs a new index and starts afresh).
"""
from __future__ import annotations

import threading
import weakref

from knowledge.faq.retrieve import FaqRetriever

COUNT = 3
_known: weakref.WeakKeyDictionary[FaqRetriever, dict[str, tuple[str, ...]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def related_questions(retriever: FaqRetriever, entry_id: str, count: int = COUNT) -> tuple[str, ...]:
    with _lock:
        known = _known.setdefault(retriever, {})
        if entry_id in known:
            return known[entry_id]
    entry = next((e for e in retriever.entries if e.id == entry_id), None)
    if entry is None:
        return ()
    hits = retriever.search(entry.question, count + 1)
    questions = tuple(hit.entry.question for hit in hits if hit.entry.id != entry_id)[:count]
    with _lock:
        _known.setdefault(retriever, {})[entry_id] = questions
    return questions
