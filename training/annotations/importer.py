"""`chatbot annotate import FILE`: an analyst's labelled export into the overlay and the FAQ.

The whole file is checked first: one bad row refuses the import with one line naming the
row's line and the problem, and nothing changes. Rows without a label are skipped.

Then, in this order:
1. the FAQ edit: every new entry and every phrasing added to an existing entry in ONE
   rewrite of the FAQ file, live at once, under the FAQ's edit lock and on the file as it is
   then (faq_entries.apply_requests; another worker's edit meanwhile is kept);
2. one transaction with the labels (their faq_id naming those entries) and the audit record.
If the transaction fails, the FAQ edit is taken back (faq_entries.put_back, as the /admin
page does). So a label never names a FAQ entry that does not exist. Should the process die
between 1 and 2, the entries are there without their labels; importing the same file again
completes it (a row whose question and answer are an existing entry's adds to that entry
instead of creating another).

An analyst's faq_question is masked like the text; a faq_answer holding an ID, card or phone
number is refused (faq_entries.checked_fields).
"""
from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from chatbot.errors import InvalidInput, ServiceUnavailable
from chatbot.security.masking import mask_customer_text
from chatbot.storage import audit
from chatbot.storage.db import Database
from knowledge.faq.editor import FaqEditor
from knowledge.faq.store import MAX_PHRASING_LENGTH, MAX_SIMILAR, FaqEntry, load_faq
from training.annotations.faq_entries import (
    MAX_ANSWER,
    MAX_QUESTION,
    FaqChanges,
    FaqLabelError,
    FaqRequest,
    apply_requests,
    checked_fields,
    match_existing,
    put_back,
    used_in_database,
)
from training.annotations.keys import FAQ_LABEL, IGNORE_LABEL, SPECIAL_LABELS, comparable, text_key
from training.annotations.store import MAX_LABEL, LabelOutcome, has_annotations, label_texts, training_keys
from training.datasets import load_intents
from training.logs.table_file import TableRow, read_table

ACTION = "annotations.import"
USED_COLUMNS = ("turn_id", "text", "label", "faq_question", "faq_answer")
NO_CHANGES = FaqChanges({})


@dataclass(frozen=True)
class LabelRow:
    line: int
    text: str             # masked
    key: str              # text_key(text)
    label: str
    turn_id: int | None
    faq_question: str     # the group's question ("" unless label is faq)
    faq_answer: str       # "" when not given


@dataclass
class Plan:
    """A checked file: the labels to store (one per text) and what the FAQ must learn."""

    rows: list[LabelRow] = field(default_factory=list)
    faq: list[FaqRequest] = field(default_factory=list)
    skipped_empty: int = 0
    duplicates: int = 0   # rows repeating an earlier row's text and label


@dataclass(frozen=True)
class ImportSummary:
    file: str
    labels: LabelOutcome
    skipped_empty: int
    duplicates: int
    faq_created: int
    faq_extended: int
    faq_ids: tuple[str, ...]
    faq_left_out: int = 0   # phrasings not added to an entry that has MAX_SIMILAR (or too long)

    def line(self) -> str:
        """The one line `chatbot annotate import` prints."""
        o = self.labels
        text = (f"已导入 {self.file}：新增 {o.added}，更新 {o.updated}，未变 {o.unchanged}，"
                f"已在训练数据中 {o.in_training}，跳过未标注 {self.skipped_empty}，新建 FAQ {self.faq_created} 条")
        if self.faq_extended:
            text += f"，补充已有 FAQ 问法 {self.faq_extended} 条"
        if self.faq_left_out:
            text += (f"，{self.faq_left_out} 句未加入 FAQ 问法（每条 FAQ 最多 {MAX_SIMILAR} 个问法、每个问法不超过 "
                     f"{MAX_PHRASING_LENGTH} 字；标注照常保存）")
        if self.duplicates:
            text += f"，文件内重复 {self.duplicates} 行"
        return text


class _Bad(Exception):
    """What is wrong with one row (the line is added by `_Problems`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Problems:
    """Problems found while checking; the one of the first line is reported."""

    def __init__(self, name: str) -> None:
        self.name, self.found = name, []

    def add(self, line: int, problem: str) -> None:
        self.found.append((line, problem))

    def raise_first(self) -> None:
        if self.found:
            line, problem = min(self.found, key=lambda found: found[0])
            more = f"（另有 {len(self.found) - 1} 处问题）" if len(self.found) > 1 else ""
            raise InvalidInput(f"{self.name} 第 {line} 行：{problem}；未导入任何内容{more}", "bad_annotation_file")


def check_rows(name: str, rows: Sequence[TableRow], *, intents: set[str], training: dict[str, str],
               faq_entries: Callable[[], Sequence[FaqEntry]], max_text_length: int = 500) -> Plan:
    """Check every row; raise InvalidInput naming the first bad line, else the plan.

    `training`: text_key -> intent of data/intents.yaml; `faq_entries`: the FAQ's entries
    (called only when a row is labelled faq)."""
    problems, plan = _Problems(name), Plan()
    seen: dict[str, LabelRow] = {}
    faq_rows: list[LabelRow] = []  # repeated rows too: their answers must agree as well
    for row in rows:
        if not row.values.get("label", "").strip():
            plan.skipped_empty += 1
            continue
        try:
            checked = _check_row(row, intents, training, max_text_length)
        except _Bad as problem:
            problems.add(row.line, problem.message)
            continue
        if checked.label == FAQ_LABEL:
            faq_rows.append(checked)
        earlier = seen.get(checked.key)
        if earlier is None:
            seen[checked.key] = checked
            plan.rows.append(checked)
        elif (earlier.label, comparable(earlier.faq_question)) == (checked.label, comparable(checked.faq_question)):
            plan.duplicates += 1
        else:
            problems.add(row.line, f"与第 {earlier.line} 行是同一句话，标注却不同（{_shown(earlier)} / {_shown(checked)}）")
    plan.faq = _faq_requests(faq_rows, faq_entries, problems) if faq_rows else []
    problems.raise_first()
    return plan


def _shown(row: LabelRow) -> str:
    return f"faq「{row.faq_question}」" if row.label == FAQ_LABEL else row.label


def _check_row(row: TableRow, intents: set[str], training: dict[str, str], max_text_length: int) -> LabelRow:
    values = {name: row.values.get(name, "") for name in USED_COLUMNS}
    for name, value in values.items():
        bad = _bad_character(value)
        if bad is not None:
            raise _Bad(f"{name} 列含有无效字符 U+{ord(bad):04X}（空字符、控制字符或孤立代理项）")
    text, label = values["text"].strip(), values["label"].strip()
    question, answer = values["faq_question"].strip(), values["faq_answer"].strip()
    _check_lengths(text, label, question, answer, max_text_length)
    label = _known_label(label, intents)
    if label != FAQ_LABEL and (question or answer):
        raise _Bad(f"标注为 {label}，却填了 faq_question / faq_answer（只有 faq 标注用得上，请清空或改标 faq）")
    if label == FAQ_LABEL and not question:
        raise _Bad("faq 标注需要 faq_question（新 FAQ 的问题，或已有 FAQ 的问题 / id）")
    if label == FAQ_LABEL:
        try:
            question, answer = checked_fields(question, answer)
        except FaqLabelError as problem:
            raise _Bad(problem.message) from None
        answer = answer or ""
    masked = mask_customer_text(text)
    if not comparable(masked):
        raise _Bad("text 只有表情或符号，没有可标注的文字")
    key = text_key(masked)
    if key in training and training[key] != label and label != IGNORE_LABEL:  # as label_texts
        raise _Bad(f"“{masked}”在 data/intents.yaml 中是 {training[key]} 的例句，不能标为 {label}"
                            "（要改请先改训练文件）")
    return LabelRow(row.line, masked, key, label, _turn_id(values["turn_id"]), question, answer)


def _bad_character(value: str) -> str | None:
    for char in value:
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _check_lengths(text: str, label: str, question: str, answer: str, max_text_length: int) -> None:
    if not text:
        raise _Bad("text 为空（要标注的是这一列的话）")
    for name, value, limit in (("text", text, max_text_length), ("label", label, MAX_LABEL),
                               ("faq_question", question, MAX_QUESTION), ("faq_answer", answer, MAX_ANSWER)):
        if len(value) > limit:
            raise _Bad(f"{name} 过长（{len(value)} 字，最多 {limit} 字）")


def _known_label(label: str, intents: set[str]) -> str:
    folded = label.lower()
    if folded in intents or folded in SPECIAL_LABELS:
        return folded
    choices = sorted(intents | set(SPECIAL_LABELS))
    close = difflib.get_close_matches(folded, choices, n=3, cutoff=0.5)
    hint = f"，是不是 {' / '.join(close)}？" if close else "：应为 data/intents.yaml 中的意图名、faq 或 ignore"
    raise _Bad(f"未知的标注 {label}{hint}")


def _turn_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise _Bad(f"turn_id 应为对话记录编号（正整数），而不是 {value[:20]}")
    return int(value)


def _faq_requests(faq_rows: Sequence[LabelRow], faq_entries: Callable[[], Sequence[FaqEntry]],
                  problems: _Problems) -> list[FaqRequest]:
    """One request per FAQ question (rows grouped by it), its answer agreed by every row."""
    groups: dict[str, list[LabelRow]] = {}
    for row in faq_rows:
        groups.setdefault(comparable(row.faq_question), []).append(row)
    entries = faq_entries()
    requests = []
    for members in groups.values():
        given = [(row.line, row.faq_answer) for row in members if row.faq_answer]
        differing = [line for line, answer in given if answer != given[0][1]]
        if differing:
            problems.add(differing[0], f"同一 FAQ 问题「{members[0].faq_question}」的 faq_answer 与第 {given[0][0]} 行不同")
            continue
        answer = given[0][1] if given else None
        try:
            match_existing(entries, members[0].faq_question, answer)
        except FaqLabelError as problem:
            problems.add(given[0][0] if given else members[0].line, problem.message)
            continue
        phrasings = tuple(dict.fromkeys(row.text for row in members))
        requests.append(FaqRequest(members[0].faq_question, answer, phrasings))
    return requests


def import_labels(path: Path, database: Database, *, intents_path: Path, faq_path: Path,
                  make_editor: Callable[[], FaqEditor], by: str, now: datetime,
                  max_text_length: int = 500, progress: Callable[[str], None] = lambda _: None) -> ImportSummary:
    """Check `path` whole, then edit the FAQ and store the labels (see the module docstring)."""
    path = Path(path)
    with database.read() as db:
        if not has_annotations(db):
            raise ServiceUnavailable("数据库尚无标注表：请先运行 `chatbot db upgrade`", "schema_outdated")
        used = used_in_database(db)  # learned numbers the labels name are never given again
    training = training_keys(intents_path)
    intents = {example.intent for example in load_intents(intents_path)}
    plan = check_rows(path.name, read_table(path), intents=intents, training=training,
                      faq_entries=lambda: load_faq(faq_path), max_text_length=max_text_length)
    editor = make_editor() if plan.faq else None
    if editor is not None:
        progress(f"更新 FAQ（{len(plan.faq)} 个问题）")
    changes = apply_requests(editor, plan.faq, used=used) if editor is not None else NO_CHANGES
    try:
        with database.write() as db:
            outcome = _store(db, plan, changes, training, by, now)
            summary = ImportSummary(path.name, outcome, plan.skipped_empty, plan.duplicates, changes.created,
                                    changes.extended, tuple(sorted(set(changes.ids.values()))), changes.left_out)
            audit.record(db, by, ACTION, path.name, now, file=path.name, added=outcome.added,
                         updated=outcome.updated, unchanged=outcome.unchanged, in_training=outcome.in_training,
                         skipped_empty=plan.skipped_empty, faq_created=changes.created,
                         faq_extended=changes.extended, faq_ids=list(summary.faq_ids),
                         faq_left_out=changes.left_out)
    except BaseException as failure:
        if editor is not None:
            put_back(editor, changes, failure, again="请再次导入同一文件以补全")
        raise
    return summary


def _store(db, plan: Plan, changes: FaqChanges, training: dict[str, str], by: str, now: datetime) -> LabelOutcome:
    """The labels, one `label_texts` call per (label, FAQ entry), summed."""
    buckets: dict[tuple[str, str | None], list[tuple[str, int | None]]] = {}
    entry_of = {comparable(question): entry_id for question, entry_id in changes.ids.items()}
    for row in plan.rows:
        faq_id = entry_of[comparable(row.faq_question)] if row.label == FAQ_LABEL else None
        buckets.setdefault((row.label, faq_id), []).append((row.text, row.turn_id))
    totals = [0, 0, 0, 0]
    for (label, faq_id), items in buckets.items():
        outcome = label_texts(db, items, label, by=by, source="import", now=now, faq_id=faq_id,
                              training_keys=training)
        totals = [a + b for a, b in zip(totals, (outcome.added, outcome.updated, outcome.unchanged,
                                                 outcome.in_training))]
    return LabelOutcome(*totals)
