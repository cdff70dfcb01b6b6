"""The annotation overlay in the database: analysts' labels for phrasings customers used.

One row per phrasing (`text_key`), the newest label wins. Labels are an intent name, "faq"
or "ignore". "faq" is also the classifier's intent for knowledge questions (data/intents.yaml):
a phrasing labelled faq teaches the model to hand it to the FAQ desk, so it trains like an
intent label; only "ignore" never trains.

A phrasing already in data/intents.yaml with the same label is not stored again (the file
is the curated truth). Labelling it differently from the file is refused as a conflict naming
both: two labels for one phrasing would teach the model both, and the file would win anyway.
"ignore" never conflicts (it trains nothing, it only says "do not show this again"): it is
stored whatever the file says.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.errors import Conflict, InvalidInput
from chatbot.security.masking import mask_customer_text
from chatbot.storage.models import Annotation
from training.annotations.keys import FAQ_LABEL, IGNORE_LABEL, text_key
from training.datasets import Example, load_intents

SOURCES = ("import", "page")
MAX_LABEL = 64  # annotations.label is String(64)
HOLD_OUT_EVERY = 5  # 1 in 5 annotations held out for evaluation, each decided by its own key
_CHUNK = 500  # keys per IN (...) query


@dataclass(frozen=True)
class LabelOutcome:
    added: int
    updated: int
    unchanged: int
    in_training: int  # same text and label already in data/intents.yaml: not stored


def label_texts(db: Session, items: Sequence[tuple[str, int | None]], label: str, *, by: str, source: str,
                now: datetime, faq_id: str | None = None,
                training_keys: Mapping[str, str] | None = None) -> LabelOutcome:
    """Give each (text, turn id) the label `label` in the caller's transaction.

    Texts are masked again (whatever the caller passed) and keyed by `text_key`; a text
    labelled before is updated (new label, who, when) unless nothing changes; a text that
    appears twice in `items` counts once. Raises Conflict when a text is a training example
    of another intent (see the module docstring) or when another writer stored the same
    phrasing at the same moment (try again).
    """
    _check_label(label, source, faq_id)
    wanted = _keyed(items)
    training = {} if label == IGNORE_LABEL else training_keys or {}
    for key, (text, _turn) in wanted.items():
        if key in training and training[key] != label:
            raise Conflict(f"“{text}”在训练数据 data/intents.yaml 中是 {training[key]} 的例句，不能标为 {label}"
                           "（要改请先改训练文件）", "annotation_conflicts_training")
    stored = _existing(db, [key for key in wanted if key not in training])
    added = updated = unchanged = 0
    for key, (text, turn_id) in wanted.items():
        if key in training:
            continue
        row = stored.get(key)
        if row is None:
            db.add(Annotation(text_key=key, text=text, label=label, faq_id=faq_id, turn_id=turn_id,
                              source=source, annotated_by=by, annotated_at=now))
            added += 1
        elif row.label == label and row.faq_id == faq_id:
            unchanged += 1
        else:
            row.label, row.faq_id, row.source, row.annotated_by, row.annotated_at = label, faq_id, source, by, now
            row.text, row.turn_id = text, turn_id if turn_id is not None else row.turn_id
            updated += 1
    _flush(db)
    return LabelOutcome(added, updated, unchanged, sum(1 for key in wanted if key in training))


def _check_label(label: str, source: str, faq_id: str | None) -> None:
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        raise InvalidInput(f"标注必须是 1–{MAX_LABEL} 个字符的意图名、faq 或 ignore", "bad_annotation")
    if source not in SOURCES:
        raise InvalidInput(f"未知的标注来源 {source}（应为 {' / '.join(SOURCES)}）", "bad_annotation")
    if (label == FAQ_LABEL) != bool(faq_id):
        raise InvalidInput("faq 标注必须指明 FAQ 条目，其他标注不能带 FAQ 条目", "bad_annotation")


def _keyed(items: Iterable[tuple[str, int | None]]) -> dict[str, tuple[str, int | None]]:
    """text_key -> (masked text, turn id), first occurrence kept; refuses empty texts."""
    keyed: dict[str, tuple[str, int | None]] = {}
    for text, turn_id in items:
        masked = mask_customer_text(text.strip()) if isinstance(text, str) else ""
        if not masked:
            raise InvalidInput("标注的文本不能为空", "bad_annotation")
        keyed.setdefault(text_key(masked), (masked, turn_id))
    return keyed


def _existing(db: Session, keys: Sequence[str]) -> dict[str, Annotation]:
    rows: dict[str, Annotation] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        rows |= {row.text_key: row for row in db.scalars(select(Annotation).where(Annotation.text_key.in_(chunk)))}
    return rows


def _flush(db: Session) -> None:
    try:
        db.flush()
    except IntegrityError as exc:  # the unique text_key: someone labelled the same phrasing just now
        raise Conflict("同一句话正被同时标注，请重试", "annotation_race") from exc


def overlay_examples(db: Session) -> list[Example]:
    """Every trainable annotation (all but "ignore") as an example, oldest first; each
    carries its `annotation_id` (training records which ones it used)."""
    return [_example(row) for row in _trainable(db)]


def overlay_split(db: Session) -> tuple[list[Example], list[Example]]:
    """(train, held_out), both oldest first. A phrasing is held out when its stored text key,
    read as a number, is a multiple of 5 (`is_held_out`): about 1 in 5 of every label, decided
    by the phrasing alone. Labelling more phrasings, of its intent or any other, never moves
    one across, so a phrasing a version trained on is not measured later (and
    training/compare.py leaves out any held-out annotation a compared version did train on,
    as its metadata lists them)."""
    rows = _trainable(db)
    return ([_example(row) for row in rows if not is_held_out(row.text_key)],
            [_example(row) for row in rows if is_held_out(row.text_key)])


def is_held_out(key: str) -> bool:
    """Whether the annotation with this text key is held out for evaluation (1 in 5)."""
    return int(key, 16) % HOLD_OUT_EVERY == 0


def _trainable(db: Session) -> list[Annotation]:
    return list(db.scalars(select(Annotation).where(Annotation.label != IGNORE_LABEL)
                           .order_by(Annotation.annotated_at, Annotation.id)))


def _example(row: Annotation) -> Example:
    return Example(row.label, row.text, annotation_id=row.id)


def labelled_keys(db: Session) -> set[str]:
    """The keys of every labelled phrasing (also "ignore" and "faq"): not to be shown again."""
    return set(db.scalars(select(Annotation.text_key)))


def list_annotations(db: Session, *, limit: int = 200, label: str | None = None) -> list[dict]:
    """The newest annotations (optionally of one label), newest first, for the /admin page."""
    query = select(Annotation).order_by(Annotation.annotated_at.desc(), Annotation.id.desc())
    if label is not None:
        query = query.where(Annotation.label == label)
    rows = db.scalars(query.limit(max(1, min(int(limit), 1000))))
    return [{"id": row.id, "text": row.text, "label": row.label, "faq_id": row.faq_id, "turn_id": row.turn_id,
             "source": row.source, "annotated_by": row.annotated_by,
             "annotated_at": row.annotated_at.isoformat()} for row in rows]


def training_keys(intents_path: Path) -> dict[str, str]:
    """text_key -> intent of the examples of data/intents.yaml (the first intent, should the
    file list one phrasing under two)."""
    keys: dict[str, str] = {}
    for example in load_intents(intents_path):
        keys.setdefault(text_key(example.text), example.intent)
    return keys


def has_annotations(db: Session) -> bool:
    """Whether the database has the annotations table (migration 0009 or later)."""
    return inspect(db.connection()).has_table(Annotation.__tablename__)
