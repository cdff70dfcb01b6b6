"""`chatbot logs export`: the turns worth labelling, grouped, in a file an analyst edits.

One row per turn, sorted by group and then time so a group reads as one block; the
columns are DESIGN.md's ("Export columns"), `label`, `faq_question` and `faq_answer`
left empty for the analyst. Texts stay masked exactly as the turn log stores them.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput
from training.logs.grouping import TurnGroup, group_turns
from training.logs.select import UNSCORED, LoggedTurn, select_turns
from training.logs.table_file import check_suffix, write_table

SEPARATOR = " | "
LIMIT = 20_000  # turns per export, the newest: grouping more takes long and no one labels them all


@dataclass(frozen=True)
class ExportResult:
    rows: int  # turns written
    groups: int
    path: Path
    capped: bool = False  # more turns matched than `limit`: only the newest `limit` were written
    limit: int = LIMIT


def export_turns(db: Session, out: Path, *, since: datetime | None, until: datetime | None,
                 kinds: Collection[str] | None, uncertain_below: float | None,
                 known_intents: Collection[str], training: Sequence | None,
                 progress: Callable[[int, int], None] = lambda done, total: None,
                 faq_questions: Mapping[str, str] | None = None, limit: int | None = None) -> ExportResult:
    """Select (training.logs.select), group, write `out` (.xlsx or .csv, atomically).

    At most `limit` (LIMIT) turns, the newest; `capped` in the result says whether more
    matched. `progress(done, total)` is told as rows are written; `faq_questions` (FAQ id ->
    question) names the entries a clarification offered, which the log keeps as ids only.
    """
    out = Path(out)
    limit = LIMIT if limit is None else limit
    check_writable(out)
    turns = select_turns(db, since=since, until=until, kinds=kinds, uncertain_below=uncertain_below,
                         limit=limit + 1)  # one more than wanted: whether the cap was hit
    capped = len(turns) > limit
    turns = turns[:limit]
    groups = group_turns(turns, known_intents, training)
    total = len(turns)
    progress(0, total)
    try:
        written = write_table(out, _rows(groups, faq_questions or {}),
                              lambda done: progress(done, total))
    except OSError as exc:
        raise InvalidInput(f"无法写入 {out}：{exc.strerror or exc}", "unwritable_path") from exc
    return ExportResult(written, len(groups), out, capped, limit)


def check_writable(out: Path) -> None:
    """Refuse, before any work, a file that could not be written: suffix, directory, rights."""
    check_suffix(out)
    if out.is_dir():
        raise InvalidInput(f"无法写入 {out}：这是一个目录", "unwritable_path")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"无法写入 {out}：{exc.strerror or exc}", "unwritable_path") from exc
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InvalidInput(f"无法写入 {out}：没有写权限", "unwritable_path")


def _rows(groups: Sequence[TurnGroup], faq_questions: Mapping[str, str]):
    for group in groups:
        for turn in sorted(group.turns, key=lambda t: (t.at, t.turn_id)):
            yield row_of(turn, group, faq_questions)


def row_of(turn: LoggedTurn, group: TurnGroup, faq_questions: Mapping[str, str] | None = None) -> dict[str, str]:
    """The export row of one turn (columns of training.logs.table_file.COLUMNS)."""
    return {
        "turn_id": str(turn.turn_id),
        "at": turn.at.astimezone(BANK_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "channel": turn.channel,
        "text": turn.text,
        "intent": turn.intent or "",
        "confidence": "" if turn.confidence is None else f"{turn.confidence:.2f}",
        "top3": format_top3(turn.top3),
        "faq_candidates": format_candidates(turn.faq_candidates, faq_questions or {}),
        "kind": turn.kind,
        "group": str(group.id),
        "suggested": group.suggested or "",
        "label": "", "faq_question": "", "faq_answer": "",
    }


def format_top3(top3) -> str:
    """`card.repay 0.41 | faq 0.22 | card.bill 0.10`"""
    return SEPARATOR.join(f"{name} {confidence:.2f}" for name, confidence in top3)


def format_candidates(candidates, faq_questions: Mapping[str, str]) -> str:
    """`credit-012 信用卡怎么还款？ 0.63 | ...` (no score for a clarification's options)."""
    cells = []
    for faq_id, question, score in candidates:
        parts = [faq_id, question or faq_questions.get(faq_id, "")]
        if score != UNSCORED:
            parts.append(f"{score:.2f}")
        cells.append(" ".join(p for p in parts if p))
    return SEPARATOR.join(cells)
