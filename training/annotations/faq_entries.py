"""FAQ entries from analysts' labels: a new entry for a new question, or customers'
phrasings added to the `similar` of the entry a label names. Both the /admin page
(api/routes/annotations.py) and `chatbot annotate import` (importer.py) go through
`apply_requests` and, when their labels cannot be saved, `put_back`.

New entries get ids `learned-0001`, `learned-0002`, ... (whoever reads the FAQ file sees where
they came from; the editors' own numbering per category is left alone) and the category of
the existing entry closest to their question. A number once given is never given again,
even when its entry was deleted or put back: the next one is above every learned number in
the file, in `.<faq file name>.learned` beside it (the highest number given, written under
the FAQ's edit lock) and among the labels' `faq_id`s in the database. (Labels, turn logs and
audit records keep naming an id after its entry is gone.)

The customers' phrasings (masked) become `similar` phrasings, so retrieval finds the entry
for them: at most `MAX_SIMILAR` per entry, each at most `MAX_PHRASING_LENGTH` characters (the
admin API's limits, so a learned entry stays editable there). Phrasings beyond the cap are
not added (the entry keeps those it has) and are counted in `FaqChanges.left_out`.

A label row names an existing entry when its FAQ question is that entry's id or its question
(compared like annotation keys: punctuation, spaces, width and case do not count). A row
whose answer is empty, or equals the entry's, adds its phrasing to that entry; another answer
is refused: answers are edited on the admin page, not from a spreadsheet.

An analyst's question is masked like customers' texts; an answer with an ID, card or phone
number in it (what `mask_text` would change) is refused: a published answer must not carry a
personal number (hotlines such as 95588, amounts and dates are not masked, so they pass).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from chatbot.artifact_files import write_whole
from chatbot.errors import ChatbotError, InvalidInput
from chatbot.security.masking import mask_customer_text, mask_text
from chatbot.storage.models import Annotation
from knowledge.faq.editor import FaqEditor
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import MAX_PHRASING_LENGTH, MAX_SIMILAR, FaqEntry, FaqEntryError, validate_entry
from training.annotations.keys import comparable

log = logging.getLogger(__name__)

LEARNED_PREFIX = "learned-"
FALLBACK_CATEGORY = "服务"
MAX_QUESTION = 200   # as the admin page's FAQ form (api/routes/faq.py)
MAX_ANSWER = 2000
_LEARNED_ID = re.compile(re.escape(LEARNED_PREFIX) + r"(\d+)")


class FaqLabelError(InvalidInput):
    """A FAQ label that cannot be applied; the importer adds the line number."""

    default_code = "bad_annotation"


# --- an analyst's question and answer -------------------------------------------------------------

def checked_fields(question: str, answer: str | None) -> tuple[str, str | None]:
    """The question masked (as customers' texts are), the answer as given; raises
    FaqLabelError (code `personal_number_in_answer`) when the answer holds an ID, card or
    phone number."""
    question = mask_customer_text(question.strip())
    answer = answer.strip() if answer else answer
    if answer and mask_text(answer) != answer:
        raise FaqLabelError("faq_answer 含有身份证号、银行卡号或手机号：公开的 FAQ 答案不能含个人号码"
                            "（客服热线、金额、日期不受影响），请删去后再提交", "personal_number_in_answer")
    return question, answer or None


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


# --- learned ids ------------------------------------------------------------------------------------

def learned_number(entry_id: str | None) -> int:
    """N of `learned-N`; 0 for any other id."""
    match = _LEARNED_ID.fullmatch(entry_id or "")
    return int(match.group(1)) if match else 0


def next_id(entries: Iterable[FaqEntry], used: int = 0) -> str:
    """The next learned id: above every learned id in `entries` and above `used` (the highest
    number ever given, see `counter_path` and `used_in_database`)."""
    numbers = [learned_number(e.id) for e in entries]
    return f"{LEARNED_PREFIX}{max(numbers + [used]) + 1:04d}"


def counter_path(faq_path: Path) -> Path:
    """Where the highest learned number ever given is kept, beside the FAQ file."""
    faq_path = Path(faq_path)
    return faq_path.with_name(f".{faq_path.name}.learned")


def used_in_database(db) -> int:
    """The highest learned number an analyst's label names (`annotations.faq_id`)."""
    names = db.scalars(select(Annotation.faq_id).where(Annotation.faq_id.like(f"{LEARNED_PREFIX}%")).distinct())
    return max((learned_number(name) for name in names), default=0)


def _given(faq_path: Path) -> int:
    path = counter_path(faq_path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as error:
        log.warning("cannot read %s (%s): learned ids continue from the FAQ file and the labels", path, error)
        return 0
    if not text.isdigit():
        log.warning("%s holds %r, not a number: learned ids continue from the FAQ file and the labels", path, text)
        return 0
    return int(text)


def _record_given(faq_path: Path, number: int) -> None:
    write_whole(counter_path(faq_path), lambda handle: handle.write(f"{number}\n".encode("ascii")))


# --- entries ----------------------------------------------------------------------------------------

def category_for(retriever: FaqRetriever, question: str) -> str:
    """The category of the existing entry closest to `question` (a sensible shelf for it)."""
    hits = retriever.search(question, top_k=1) if retriever.entries else []
    return hits[0].entry.category if hits else FALLBACK_CATEGORY


def _fitting(known: Iterable[str], phrasings: Iterable[str], room: int) -> tuple[list[str], int]:
    """The phrasings not `known` yet (compared as keys), at most `room` of them, none longer than
    MAX_PHRASING_LENGTH; and how many of the new ones were left out."""
    seen = {comparable(p) for p in known}
    fresh = []
    for text in phrasings:
        text = text.strip()
        if text and comparable(text) not in seen:
            seen.add(comparable(text))
            fresh.append(text)
    fitting = [text for text in fresh if len(text) <= MAX_PHRASING_LENGTH][:max(room, 0)]
    return fitting, len(fresh) - len(fitting)


def _learned(retriever: FaqRetriever, entry_id: str, question: str, answer: str,
             similar: Sequence[str]) -> tuple[FaqEntry, int]:
    question, answer = question.strip(), answer.strip()
    if len(question) > MAX_QUESTION or len(answer) > MAX_ANSWER:
        raise FaqLabelError(f"FAQ 问题不超过 {MAX_QUESTION} 字，答案不超过 {MAX_ANSWER} 字")
    phrasings, left_out = _fitting([question], similar, MAX_SIMILAR)
    raw = {"id": entry_id, "question": question, "similar": phrasings, "answer": answer,
           "category": category_for(retriever, question)}
    try:
        return validate_entry(raw), left_out
    except FaqEntryError as error:
        raise FaqLabelError(f"FAQ 条目无效：{error.message}") from error


def learned_entry(retriever: FaqRetriever, entry_id: str, question: str, answer: str,
                  similar: Sequence[str]) -> FaqEntry:
    """A validated new entry; phrasings that only repeat the question are left out, and those
    beyond the limits (see the module docstring)."""
    return _learned(retriever, entry_id, question, answer, similar)[0]


def _extended(entry: FaqEntry, phrasings: Iterable[str]) -> tuple[FaqEntry, tuple[str, ...], int]:
    """`entry` with the phrasings it does not have yet (as many as fit), those added, and how
    many were left out."""
    fresh, left_out = _fitting(entry.phrasings, phrasings, MAX_SIMILAR - len(entry.similar))
    if not fresh:
        return entry, (), left_out
    return validate_entry({**entry.to_dict(), "similar": [*entry.similar, *fresh]}), tuple(fresh), left_out


def new_faq_entry(editor: FaqEditor, question: str, answer: str, similar: Sequence[str], *,
                  used: int = 0) -> FaqEntry:
    """Create one learned entry (live at once: the editor swaps the index and rewrites the file)."""

    def change(entries: list[FaqEntry]):
        given = max(_given(editor.path), used)
        entry = learned_entry(editor.desk.retriever, next_id(entries, given), question, answer, similar)
        _record_given(editor.path, learned_number(entry.id))
        return entries + [entry], entry

    return editor.edit(change)


# --- what labels ask of the FAQ, applied and put back ---------------------------------------------

@dataclass(frozen=True)
class FaqRequest:
    """What one FAQ question of an import asks: a new entry, or phrasings for the entry it names."""

    question: str
    answer: str | None
    phrasings: tuple[str, ...]


@dataclass(frozen=True)
class FaqChanges:
    ids: dict[str, str]                                   # request question -> entry id
    new_ids: tuple[str, ...] = ()                         # entries created
    added: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entry id -> phrasings added to it
    left_out: int = 0                                     # phrasings not added (over the limits)

    @property
    def created(self) -> int:
        return len(self.new_ids)

    @property
    def extended(self) -> int:
        """Existing entries that got new phrasings."""
        return len(self.added)

    @property
    def changed(self) -> bool:
        return bool(self.new_ids or self.added)


def apply_requests(editor: FaqEditor, requests: Sequence[FaqRequest], *, used: int = 0) -> FaqChanges:
    """All requests in ONE edit of the file (one index build, seconds for the whole FAQ, instead
    of one per request; and all or nothing), on the file's entries as they are under the edit
    lock. `used`: the highest learned number the labels in the database name."""

    def change(entries: list[FaqEntry]):
        given = max(_given(editor.path), used)
        ids, new_ids, added, left_out = {}, [], {}, 0
        for request in requests:
            existing = match_existing(entries, request.question, request.answer)
            if existing is None:
                entry, left = _learned(editor.desk.retriever, next_id(entries, given), request.question,
                                       request.answer or "", request.phrasings)
                given = learned_number(entry.id)
                entries.append(entry)
                new_ids.append(entry.id)
            else:
                entry, fresh, left = _extended(existing, request.phrasings)
                if fresh:
                    entries[entries.index(existing)] = entry
                    added[entry.id] = added.get(entry.id, ()) + fresh
            left_out += left
            ids[request.question] = entry.id
        changes = FaqChanges(ids, tuple(new_ids), added, left_out)
        if not changes.changed:
            return None, changes
        if new_ids:
            _record_given(editor.path, given)  # before the file: a number is never given twice
        return entries, changes

    return editor.edit(change)


def undo(editor: FaqEditor, changes: FaqChanges) -> None:
    """Take back what `apply_requests` did (its entries removed, its phrasings taken off),
    leaving whatever others changed meanwhile. The new entries' numbers stay given."""
    if not changes.changed:
        return

    def change(entries: list[FaqEntry]):
        kept, touched = [], False
        for entry in entries:
            if entry.id in changes.new_ids:
                touched = True
                continue
            ours = set(changes.added.get(entry.id, ()))
            if ours & set(entry.similar):
                entry = validate_entry({**entry.to_dict(), "similar": [p for p in entry.similar if p not in ours]})
                touched = True
            kept.append(entry)
        return (kept if touched else None), None

    editor.edit(change)


def put_back(editor: FaqEditor, changes: FaqChanges, failure: BaseException, *, again: str) -> None:
    """After the labels of `changes` could not be saved (`failure`): undo the FAQ edit, so no
    entry is live without its labels and audit record. When even that fails, raise one error
    saying both (`again`: what the analyst should do)."""
    try:
        undo(editor, changes)
    except (ChatbotError, OSError) as error:
        ids = ", ".join(sorted({*changes.new_ids, *changes.added}))
        problem = error.message if isinstance(error, ChatbotError) else str(error)
        raise ChatbotError(f"标注未能保存（{_reason(failure)}），而 FAQ 已改动（{ids}）且无法复原（{problem}）：{again}",
                           "annotation_faq_partial") from failure


def _reason(failure: BaseException) -> str:
    return failure.message if isinstance(failure, ChatbotError) else type(failure).__name__


class BatchFaqEditor(FaqEditor):
    """The FAQ editor of `chatbot annotate import`: `apply_requests` and `undo` as methods."""

    def apply(self, requests: Sequence[FaqRequest], *, used: int = 0) -> FaqChanges:
        return apply_requests(self, requests, used=used)

    def restore(self, changes: FaqChanges) -> None:
        """Take back what `apply` did (when what followed it failed)."""
        undo(self, changes)
