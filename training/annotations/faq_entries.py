"""FAQ entries from analysts' labels: a new entry for a new question, or customers'
phrasings added to the `similar` of the entry a label names.

New entries get ids `learned-0001`, `learned-0002`, ... (whoever reads the FAQ file sees where
they came from; the editors' own numbering per category is left alone) and the category of
the existing entry closest to their question. The customers' phrasings (masked) become
`similar` phrasings, so retrieval finds the entry for them.

A label row names an existing entry when its FAQ question is that entry's id or its question
(compared like annotation keys: punctuation, spaces, width and case do not count). A row
whose answer is empty, or equals the entry's, adds its phrasing to that entry; another answer
is refused: answers are edited on the admin page, not from a spreadsheet.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import Conflict, InvalidInput
from knowledge.desk import KnowledgeDesk
from knowledge.faq.editor import FaqEditor
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import FaqEntry, FaqEntryError, validate_entry
from training.annotations.keys import comparable

LEARNED_PREFIX = "learned-"
FALLBACK_CATEGORY = "服务"
MAX_QUESTION = 200   # as the admin page's FAQ form (api/routes/faq.py)
MAX_ANSWER = 2000
_LEARNED_ID = re.compile(re.escape(LEARNED_PREFIX) + r"(\d+)")


class FaqLabelError(InvalidInput):
    """A FAQ label that cannot be applied; the importer adds the line number."""

    default_code = "bad_annotation"


def match_existing(entries: Iterable[FaqEntry], question: str, answer: str | None) -> FaqEntry | None:
    """The entry `question` names (by id or question), or None for a new question.

    Raises FaqLabelError when a named entry is given another answer, or when no entry is
    named but there is no answer to create one with."""
    wanted = comparable(question)
    for entry in entries:
        if entry.id == question.strip() or comparable(entry.question) == wanted:
            if answer and answer.strip() != entry.answer:
                raise FaqLabelError(f"FAQ「{entry.question}」已存在（{entry.id}），但 faq_answer 与现有答案不同："
                                    "要归入该条目请清空 faq_answer，改答案请到管理后台")
            return entry
    if not answer or not answer.strip():
        raise FaqLabelError(f"faq 标注缺少 faq_answer：「{question}」不是已有 FAQ 的问题或 id，新建条目需要答案")
    return None


def next_id(entries: Iterable[FaqEntry]) -> str:
    """The next free `learned-NNNN` id."""
    numbers = [int(m.group(1)) for e in entries if (m := _LEARNED_ID.fullmatch(e.id))]
    return f"{LEARNED_PREFIX}{max(numbers, default=0) + 1:04d}"


def category_for(retriever: FaqRetriever, question: str) -> str:
    """The category of the existing entry closest to `question` (a sensible shelf for it)."""
    hits = retriever.search(question, top_k=1) if retriever.entries else []
    return hits[0].entry.category if hits else FALLBACK_CATEGORY


def learned_entry(retriever: FaqRetriever, entry_id: str, question: str, answer: str,
                  similar: Sequence[str]) -> FaqEntry:
    """A validated new entry; phrasings that only repeat the question are left out."""
    question, answer = question.strip(), answer.strip()
    if len(question) > MAX_QUESTION or len(answer) > MAX_ANSWER:
        raise FaqLabelError(f"FAQ 问题不超过 {MAX_QUESTION} 字，答案不超过 {MAX_ANSWER} 字")
    phrasings = [p for p in similar if comparable(p) != comparable(question)]
    raw = {"id": entry_id, "question": question, "similar": _distinct(phrasings), "answer": answer,
           "category": category_for(retriever, question)}
    try:
        return validate_entry(raw)
    except FaqEntryError as error:
        raise FaqLabelError(f"FAQ 条目无效：{error.message}") from error


def with_phrasings(entry: FaqEntry, phrasings: Iterable[str]) -> FaqEntry | None:
    """`entry` with the phrasings it does not have yet; None when it has them all."""
    known = {comparable(p) for p in entry.phrasings}
    fresh = [p for p in _distinct(phrasings) if comparable(p) not in known]
    if not fresh:
        return None
    return validate_entry({**entry.to_dict(), "similar": [*entry.similar, *fresh]})


def _distinct(texts: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for text in texts:
        if text.strip():
            seen.setdefault(comparable(text), text.strip())
    return list(seen.values())


def new_faq_entry(editor: FaqEditor, question: str, answer: str, similar: Sequence[str]) -> FaqEntry:
    """Create one learned entry (live at once: the editor swaps the index and rewrites the file)."""
    retriever = editor.desk.retriever
    entry = learned_entry(retriever, next_id(retriever.entries), question, answer, similar)
    return editor.create(entry.to_dict())


@dataclass(frozen=True)
class FaqRequest:
    """What one FAQ question of an import asks: a new entry, or phrasings for the entry it names."""

    question: str
    answer: str | None
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class FaqChanges:
    ids: dict[str, str]                   # request question -> entry id
    created: int
    extended: int                         # existing entries that got new phrasings
    before: tuple[FaqEntry, ...] | None   # the entries before the edit; None: nothing was edited


class BatchFaqEditor(FaqEditor):
    """Applies all FAQ requests of an import in ONE edit of the file (one index build, seconds
    for the whole FAQ, instead of one per request; and all or nothing), and can put the
    entries back. It refuses when the file changed since the desk was loaded (another
    process's edit would be lost)."""

    def __init__(self, desk: KnowledgeDesk, path: Path, stamp: int | None = None) -> None:
        """`stamp`: the file's mtime (ns) taken before the desk read it (default: now)."""
        super().__init__(desk, path)
        self._stamp = stamp if stamp is not None else self.path.stat().st_mtime_ns

    def apply(self, requests: Sequence[FaqRequest]) -> FaqChanges:
        with self._lock:
            before = tuple(self.desk.retriever.entries)
            entries, ids, created, extended = list(before), {}, 0, set()
            for request in requests:
                existing = match_existing(entries, request.question, request.answer)
                if existing is None:
                    entry = learned_entry(self.desk.retriever, next_id(entries), request.question,
                                          request.answer or "", request.phrasings)
                    entries.append(entry)
                    created += 1
                else:
                    entry = with_phrasings(existing, request.phrasings) or existing
                    if entry is not existing:
                        entries[entries.index(existing)] = entry
                        extended.add(entry.id)
                ids[request.question] = entry.id
            if not (created or extended):
                return FaqChanges(ids, 0, 0, None)
            self._write(entries)
            return FaqChanges(ids, created, len(extended), before)

    def restore(self, before: Sequence[FaqEntry]) -> None:
        """Put the entries back as they were before `apply` (when what followed it failed)."""
        with self._lock:
            self._write(list(before))

    def _write(self, entries: list[FaqEntry]) -> None:
        if self.path.stat().st_mtime_ns != self._stamp:
            raise Conflict(f"{self.path.name} 刚被其他人修改：请重新运行导入", "faq_changed_meanwhile")
        self._commit(entries)
        self._stamp = self.path.stat().st_mtime_ns
