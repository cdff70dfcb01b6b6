"""How well the bot understood customers, for analysts (the /admin page's 指标 tab).

- `daily_understanding`: per bank day (Asia/Shanghai) of the last N days, how many turns the
  bot handled and how they ended: understood, clarified (a FAQ "您是想问" list), not found
  (FAQ), not understood, handed off. Counted by the database (GROUP BY day, outcome): one
  row per day and outcome comes back, never a row per turn.
- `intent_distribution`: turns per intent the model chose over the same window.
- `top_unanswered`: the biggest groups of recent not-found / not-understood turns no analyst
  has labelled yet (at most `UNANSWERED_CAP` turns are grouped).

Turns of a session with a person (queued, with an agent, a rating) are the desk's work, not
the bot's understanding: they are counted as `desk` and left out of the shares.

Also `turn_texts`: the texts of turn-log rows by id (what the page labels).

Kept apart from the desk's `GET /v1/admin/metrics` (a few ms): grouping the unanswered turns
takes about a second on 100,000 logged turns, so it has its own route.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.storage.models import TurnLog
from training.logs.grouping import group_turns
from training.logs.select import DESK_OUTCOMES, select_turns

# How the policy's outcomes (turn_log.outcome) count for analysts. out_of_scope is understood:
# the bot recognized business it does not do and said so.
OUTCOME_CATEGORIES = {
    "understood": ("answered", "completed", "in_flow", "refused", "cancelled", "flow_failed", "out_of_scope"),
    "clarified": ("faq_clarify", "intent_clarify"),
    "not_found": ("faq_not_found",),
    "not_understood": ("not_understood",),
    "handed_off": ("handoff",),
}
CATEGORIES = tuple(OUTCOME_CATEGORIES)
DESK = "desk"  # the handoff desk answered (queued, with an agent, a rating): select.DESK_OUTCOMES
_CATEGORY_OF = {outcome: name for name, outcomes in OUTCOME_CATEGORIES.items() for outcome in outcomes}
_CATEGORY_OF |= dict.fromkeys(DESK_OUTCOMES, DESK)
OTHER_BOT_OUTCOME = "understood"  # an outcome a later flow may add: the bot answered something

UNANSWERED_KINDS = ("not_understood", "faq_not_found")
UNANSWERED_CAP = 2000  # turns grouped for the top unanswered groups
MAX_DAYS = 90


def window_start(now: datetime, days: int) -> datetime:
    """Bank midnight `days - 1` days before today: the first instant of the window."""
    first = now.astimezone(BANK_TZ).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(0), tzinfo=BANK_TZ)


def _bank_day(db: Session, now: datetime):
    """SQL for the bank date of `turn_log.created_at` (stored as UTC)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(BANK_TZ.key, TurnLog.created_at))
    # SQLite keeps UTC text; China has had no daylight saving since 1991, so one offset holds.
    minutes = int(now.astimezone(BANK_TZ).utcoffset().total_seconds() // 60)
    return func.date(TurnLog.created_at, f"{minutes:+d} minutes")


def daily_understanding(db: Session, *, now: datetime, days: int = 14) -> list[dict]:
    """One entry per bank day, oldest first, days without turns included (all zero)."""
    day = _bank_day(db, now).label("day")
    rows = db.execute(
        select(day, TurnLog.outcome, func.count())
        .where(TurnLog.created_at >= window_start(now, days))
        .group_by(day, TurnLog.outcome)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for when, outcome, count in rows:
        bucket = counts.setdefault(str(when), dict.fromkeys((*CATEGORIES, DESK), 0))
        bucket[_CATEGORY_OF.get(outcome, OTHER_BOT_OUTCOME)] += count
    first = window_start(now, days).date()
    return [_day_entry(first + timedelta(days=n), counts.get(str(first + timedelta(days=n))))
            for n in range(days)]


def _day_entry(day: date, counts: dict[str, int] | None) -> dict:
    counts = counts or dict.fromkeys((*CATEGORIES, DESK), 0)
    bot_turns = sum(counts[name] for name in CATEGORIES)
    return {"day": day.isoformat(), "turns": bot_turns + counts[DESK], "bot_turns": bot_turns,
            **counts, "shares": _shares(counts, bot_turns)}


def _shares(counts: dict[str, int], total: int) -> dict[str, float]:
    return {name: round(counts[name] / total, 4) if total else 0.0 for name in CATEGORIES}


def intent_distribution(db: Session, *, since: datetime) -> list[dict]:
    """Turns per intent the model chose since `since`, biggest first (`share` of all turns)."""
    rows = db.execute(
        select(TurnLog.intent, func.count().label("turns"))
        .where(TurnLog.created_at >= since)
        .group_by(TurnLog.intent)
        .order_by(func.count().desc(), TurnLog.intent)
    ).all()
    total = sum(count for _intent, count in rows)
    return [{"intent": intent or "unknown", "turns": count, "share": round(count / total, 4)}
            for intent, count in rows]


def top_unanswered(db: Session, *, since: datetime, known_intents: Collection[str],
                   training: Sequence | None = None, groups: int = 10, cap: int = UNANSWERED_CAP) -> dict:
    """The biggest groups of not-yet-labelled turns the bot could not answer since `since`
    (`training`: the intents file's examples, for suggested labels)."""
    turns = select_turns(db, since=since, kinds=UNANSWERED_KINDS, limit=cap + 1)
    capped = len(turns) > cap
    found = group_turns(turns[:cap], known_intents, training)
    return {"grouped_turns": min(len(turns), cap), "capped": capped, "groups": [
        {"group": g.id, "count": len(g.turns), "suggested": g.suggested,
         "examples": [t.text for t in g.turns[:3]]} for g in found[:groups]]}


def understanding(db: Session, *, now: datetime, days: int, known_intents: Collection[str],
                  training: Sequence | None = None) -> dict:
    """Everything the 指标 tab shows, over the last `days` bank days."""
    since = window_start(now, days)
    daily = daily_understanding(db, now=now, days=days)
    totals = {name: sum(d[name] for d in daily) for name in (*CATEGORIES, DESK)}
    bot_turns = sum(totals[name] for name in CATEGORIES)
    return {
        "days": days, "since": since.date().isoformat(), "generated_at": now.isoformat(),
        "categories": list(CATEGORIES),
        "totals": {"turns": bot_turns + totals[DESK], "bot_turns": bot_turns, **totals,
                   "shares": _shares(totals, bot_turns)},
        "daily": daily,
        "intents": intent_distribution(db, since=since),
        "unanswered": top_unanswered(db, since=since, known_intents=known_intents, training=training),
    }


def turn_texts(db: Session, turn_ids: Iterable[int]) -> dict[int, str]:
    """The (masked) texts of these turn-log rows by id; ids that do not exist are absent."""
    ids = sorted(set(turn_ids))
    if not ids:
        return {}
    return dict(db.execute(select(TurnLog.id, TurnLog.text).where(TurnLog.id.in_(ids))).all())
