"""The analysts' annotation API behind the /admin page (role analyst or admin).

- `GET  /v1/admin/annotations/queue`: groups of the turns no analyst has labelled yet.
- `POST /v1/admin/annotations`: label the texts of some turns with an intent, `faq` (a new
  live FAQ entry whose similar phrasings they become) or `ignore`. The FAQ edit comes first
  (training/annotations/faq_entries.py, under the FAQ's edit lock); when the labels and their
  audit records cannot be saved after it, it is taken back, as `chatbot annotate import` does.
- `GET  /v1/admin/annotations`: the overlay (who labelled what, when).
- `GET  /v1/admin/annotations/labels`: the label vocabulary with Chinese titles.
- `GET  /v1/admin/metrics/understanding`: how well the bot understood, per bank day.
"""
from __future__ import annotations

import dataclasses
import difflib
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsReaderDep, ServicesDep
from api.limits import MAX_ID
from chatbot.clock import BANK_TZ
from chatbot.dialogue.replies import TITLES
from chatbot.errors import Conflict, InvalidInput, NotFound
from chatbot.storage import audit
from training.annotations.faq_entries import (
    FaqChanges,
    FaqRequest,
    apply_requests,
    checked_fields,
    put_back,
    used_in_database,
)
from training.annotations.keys import FAQ_LABEL, IGNORE_LABEL, SPECIAL_LABELS
from training.annotations.keys import comparable, text_key
from training.annotations.store import LabelOutcome, label_texts, list_annotations
from training.datasets import Example, load_intents
from training.logs import metrics
from training.logs.grouping import group_turns
from training.logs.select import KINDS, select_turns

router = APIRouter(prefix="/v1/admin", tags=["analysts"])
AnalystDep = MetricsReaderDep  # admin or analyst

QUEUE_CAP = 5000        # turns grouped per queue request (grouping is the costly part)
MAX_TURNS = 500         # turn ids per labelling call, and listed per group
EXAMPLES = 8            # distinct phrasings shown per group
MAX_SPAN_DAYS = 366

# Chinese titles of the intents that start no flow (the flows' titles are in replies.TITLES).
OTHER_TITLES = {
    "human.request": "转人工", "complaint": "投诉", "faq": "业务知识问答", "greet": "问候",
    "goodbye": "告别", "thanks": "致谢", "affirm": "肯定/确认", "deny": "否定", "cancel": "取消",
    "out_of_scope": "超出服务范围",
}
SPECIAL_TITLES = {FAQ_LABEL: "新建或归入 FAQ", IGNORE_LABEL: "忽略（无意义、不训练）"}


@dataclass(frozen=True)
class Catalogue:
    """data/intents.yaml as the page needs it: the intent names, the examples (grouping
    weighs words and suggests labels with them) and their text keys (a label that
    contradicts one is refused)."""

    intents: tuple[str, ...]
    examples: tuple[Example, ...]
    keys: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> Catalogue:
        examples = tuple(load_intents(path))
        keys: dict[str, str] = {}
        for example in examples:  # as training_keys(path), without reading the file again
            keys.setdefault(text_key(example.text), example.intent)
        return cls(tuple(dict.fromkeys(e.intent for e in examples)), examples, keys)


class _CatalogueCache:
    """The catalogue of the newest version of the file (a retrain may add phrasings while
    the service runs); readers keep the one they got, whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Path, int] | None = None
        self._catalogue: Catalogue | None = None

    def get(self, path: Path) -> Catalogue:
        stamp = (path, path.stat().st_mtime_ns)
        with self._lock:
            if stamp != self._stamp or self._catalogue is None:
                self._catalogue, self._stamp = Catalogue.read(path), stamp
            return self._catalogue


_catalogues = _CatalogueCache()


def _intents_path(services) -> Path:
    return Path(services.settings.data_dir) / "intents.yaml"


def catalogue(services) -> Catalogue:
    return _catalogues.get(_intents_path(services))


def _closest(name: str, known) -> str:
    near = difflib.get_close_matches(name, list(known), n=3, cutoff=0.4)
    return "，最接近的是：" + "、".join(near) if near else "，可用的标签见 GET /v1/admin/annotations/labels"


def check_label(label: str, intents, *, special: bool = True) -> None:
    known = (*intents, *SPECIAL_LABELS) if special else tuple(intents)
    if label not in known:
        raise InvalidInput(f"未知的标签“{label}”{_closest(label, known)}", "unknown_label")


# --- the queue -----------------------------------------------------------------------------------

@router.get("/annotations/queue")
async def queue(_staff: AnalystDep, services: ServicesDep,
                since: date | None = Query(default=None, description="起始日期（含），YYYY-MM-DD，银行时区"),
                until: date | None = Query(default=None, description="截止日期（含），YYYY-MM-DD"),
                kind: str | None = Query(default=None, max_length=32, description="、".join(KINDS)),
                uncertain: float | None = Query(default=None, gt=0, le=1,
                                                description="置信度低于此值的语句也列入（kind=uncertain 时必填）"),
                intent: str | None = Query(default=None, max_length=64, description="模型判断的意图"),
                limit: int = Query(default=50, ge=1, le=200, description="返回的组数")) -> dict:
    """Groups of not-yet-labelled turns, biggest first, each with its examples and kinds.
    At most QUEUE_CAP turns (the newest) are grouped; `capped` says when there were more."""
    _check_range(since, until)
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"未知的类别“{kind}”，可用：{'、'.join(KINDS)}", "unknown_kind")
    known = await run_in_threadpool(catalogue, services)
    if intent is not None:
        check_label(intent, known.intents, special=False)

    def build() -> dict:
        with services.database.read() as db:
            turns = select_turns(db, since=_bank_midnight(since), until=_bank_midnight(until, 1),
                                 kinds=(kind,) if kind else None, uncertain_below=uncertain, intent=intent,
                                 include_labelled=False, limit=QUEUE_CAP + 1)
        grouped = turns[:QUEUE_CAP]
        groups = group_turns(grouped, known.intents, known.examples)
        return {"groups": [_group(g) for g in groups[:limit]], "total_groups": len(groups),
                "turns": len(grouped), "capped": len(turns) > QUEUE_CAP, "cap": QUEUE_CAP}

    return await run_in_threadpool(build)


def _check_range(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise InvalidInput("起始日期晚于截止日期", "bad_date_range")
    if since and until and until - since > timedelta(days=MAX_SPAN_DAYS):
        raise InvalidInput(f"日期范围不能超过 {MAX_SPAN_DAYS} 天", "bad_date_range")


def _bank_midnight(day: date | None, plus_days: int = 0) -> datetime | None:
    """The start of a bank day (`until` is inclusive: the start of the day after it)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time(0), tzinfo=BANK_TZ)


def _group(group) -> dict:
    turns = group.turns
    return {
        "group": group.id, "count": len(turns), "suggested": group.suggested,
        "kinds": dict(Counter(t.kind for t in turns).most_common()),
        "intents": dict(Counter(t.intent or "unknown" for t in turns).most_common()),
        "turn_ids": [t.turn_id for t in turns[:MAX_TURNS]],
        "examples": _examples(turns),
    }


def _examples(turns) -> list[dict]:
    """One row per distinct phrasing (newest turn first), with the ids of the group's turns
    said that way: labelling a row labels its text, so all of them."""
    rows: dict[str, dict] = {}
    for turn in turns:
        row = rows.get(key := comparable(turn.text))
        if row is None:
            rows[key] = {**_turn(turn), "turn_ids": [turn.turn_id]}
        elif len(row["turn_ids"]) < MAX_TURNS:
            row["turn_ids"].append(turn.turn_id)
    return list(rows.values())[:EXAMPLES]


def _turn(turn) -> dict:
    return {
        "turn_id": turn.turn_id, "text": turn.text, "at": turn.at.isoformat(), "channel": turn.channel,
        "intent": turn.intent, "confidence": turn.confidence, "kind": turn.kind,
        "faq_candidates": [{"id": faq_id, "question": question, "score": score}
                           for faq_id, question, score in turn.faq_candidates],
    }


# --- labelling -----------------------------------------------------------------------------------

class LabelIn(BaseModel):
    turn_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=MAX_TURNS)
    label: str = Field(min_length=1, max_length=64, description="意图名、faq 或 ignore")
    faq_question: str | None = Field(default=None, max_length=200,
                                     description="label=faq：新 FAQ 的标准问法，或已有 FAQ 的 id / 问题（语句归入该条目）")
    faq_answer: str | None = Field(default=None, max_length=2000, description="label=faq 且新建 FAQ 时：答案")


@router.post("/annotations")
async def label(body: LabelIn, staff: AnalystDep, request: Request, services: ServicesDep) -> dict:
    """Label what customers typed in these turns. `faq` needs `faq_question`: a new question
    (with `faq_answer`) creates a live FAQ entry, an existing entry's id or question adds the
    texts to it; either way the texts become the entry's similar phrasings (those beyond the
    limit per entry are not added: `faq_left_out`)."""
    known = await run_in_threadpool(catalogue, services)
    check_label(body.label, known.intents)
    question, answer = _faq_fields(body)
    texts = await run_in_threadpool(_read_texts, services, body.turn_ids)
    editor, changes = request.app.state.faq_editor, None
    if question is not None:
        _refuse_training_conflicts(texts, body.label, known.keys)  # before the FAQ changes
        changes = await run_in_threadpool(_faq_entry, services, editor, question, answer, list(texts.values()))
    faq_id = changes.ids[question] if changes is not None else None
    created = changes is not None and changes.created > 0

    def write() -> dict:
        now, actor = services.clock.now(), f"staff:{staff.username}"
        with services.database.write() as db:
            outcome = label_texts(db, [(texts[i], i) for i in texts], body.label, by=staff.username,
                                  source="page", now=now, faq_id=faq_id, training_keys=known.keys)
            counts = _counts(outcome)
            if changes is not None and changes.changed:
                audit.record(db, actor, "faq_create" if created else "faq_update", f"faq:{faq_id}", now,
                             source="annotation")
            audit.record(db, actor, "annotation.label", f"label:{body.label}", now,
                         turn_ids=sorted(texts), faq_id=faq_id, **counts)
        return {"label": body.label, "faq_id": faq_id, "faq_created": created,
                "faq_left_out": changes.left_out if changes is not None else 0, "turns": len(texts), **counts}

    def write_or_put_back() -> dict:
        try:
            return write()
        except BaseException as failure:  # no live FAQ answer without its labels and audit
            if changes is not None:
                put_back(editor, changes, failure, again="请刷新页面后重新标注")
            raise

    return await run_in_threadpool(write_or_put_back)


def _faq_fields(body: LabelIn) -> tuple[str | None, str | None]:
    """The FAQ question (masked) and answer of a `faq` label; None, None for another label."""
    question = (body.faq_question or "").strip()
    answer = (body.faq_answer or "").strip() or None
    if body.label != FAQ_LABEL:
        if question or answer:
            raise InvalidInput("只有标签 faq 可以带 faq_question / faq_answer", "faq_fields_unexpected")
        return None, None
    if not question:
        raise InvalidInput("标注为 faq 需要 faq_question：新 FAQ 的标准问法（并填写 faq_answer），"
                           "或已有 FAQ 的 id / 问题", "faq_fields_required")
    return checked_fields(question, answer)  # 422 personal_number_in_answer


def _refuse_training_conflicts(texts: dict[int, str], label: str, keys: dict[str, str]) -> None:
    """What label_texts would refuse (a training example of another intent), checked early."""
    for text in texts.values():
        intent = keys.get(text_key(text))
        if intent is not None and intent != label:
            raise Conflict(f"“{text}”在训练数据 data/intents.yaml 中是 {intent} 的例句，不能标为 {label}",
                           "annotation_conflicts_training")


def _faq_entry(services, editor, question: str, answer: str | None, texts: list[str]) -> FaqChanges:
    """A new live entry, or the named one with the texts added (as an import does)."""
    with services.database.read() as db:
        used = used_in_database(db)  # learned numbers the labels name are never given again
    return apply_requests(editor, [FaqRequest(question, answer, tuple(texts))], used=used)


def _read_texts(services, turn_ids: list[int]) -> dict[int, str]:
    with services.database.read() as db:
        texts = metrics.turn_texts(db, turn_ids)
    missing = sorted(set(turn_ids) - set(texts))
    if missing:
        shown = "、".join(str(i) for i in missing[:10]) + ("等" if len(missing) > 10 else "")
        raise NotFound(f"对话记录不存在：{shown}（共 {len(missing)} 条）", "turns_not_found")
    return texts


def _counts(outcome: LabelOutcome) -> dict:
    return dataclasses.asdict(outcome)  # added, updated, unchanged, in_training


# --- the overlay and the vocabulary ------------------------------------------------------------------

@router.get("/annotations")
async def overlay(_staff: AnalystDep, services: ServicesDep,
                  label: str | None = Query(default=None, max_length=64),
                  limit: int = Query(default=200, ge=1, le=1000)) -> dict:
    """The labels analysts gave, newest first: text, label, FAQ id, by whom, when, from where."""
    if label is not None:
        check_label(label, (await run_in_threadpool(catalogue, services)).intents)

    def load() -> list[dict]:
        with services.database.read() as db:
            return list_annotations(db, limit=limit, label=label)

    return {"annotations": await run_in_threadpool(load)}


@router.get("/annotations/labels")
async def labels(_staff: AnalystDep, services: ServicesDep) -> dict:
    """Every label an analyst may give, with its Chinese title (`faq` takes a FAQ entry, so it
    is among the special labels, not the intents to pick); `intents`: the model's intents."""
    known = await run_in_threadpool(catalogue, services)
    titles = {**TITLES, **OTHER_TITLES}
    intents = [{"name": n, "title": titles.get(n, n)} for n in known.intents]
    labels = [{**i, "special": False} for i in intents if i["name"] not in SPECIAL_LABELS]
    special = [{"name": n, "title": SPECIAL_TITLES[n], "special": True} for n in SPECIAL_LABELS]
    return {"labels": labels + special, "intents": intents, "kinds": list(KINDS)}


# --- metrics ---------------------------------------------------------------------------------------

@router.get("/metrics/understanding")
async def understanding(_staff: AnalystDep, services: ServicesDep,
                        days: int = Query(default=14, ge=1, le=metrics.MAX_DAYS)) -> dict:
    """Per bank day: turns and the shares understood / clarified / not found / not understood /
    handed off; the intent distribution; the biggest unanswered groups."""
    known = await run_in_threadpool(catalogue, services)

    def load() -> dict:
        with services.database.read() as db:
            return metrics.understanding(db, now=services.clock.now(), days=days, known_intents=known.intents,
                                         training=known.examples)

    return await run_in_threadpool(load)
