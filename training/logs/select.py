"""Which turns of the turn log are worth an analyst's label, and why (`kind`).

A kind is read from what the bot did (the steps the engine logged), not from the outcome
alone: a knowledge question inside a flow ends "in_flow" yet still logs `faq_not_found`.

    not_understood  a "fallback" step: the intent model could not place it, nor the FAQ
    clarify         a "faq_clarify" step (the FAQ had several plausible entries) or an
                    "intent_clarify" one (two businesses the model could not tell apart)
    faq_not_found   a "faq_not_found" step (with the FAQ's best candidates)
    handoff         a "handoff" or "enqueue" step: the customer went to a person
    low_rating      the turn that queued a handoff the customer later rated 1 or 2
    uncertain       the model's confidence under a threshold the analyst chose

Messages a customer sent while queued for, or talking to, an agent (and the rating answer)
are the desk's, not the bot's: never selected. Texts are as stored, masked.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, false, or_, select
from sqlalchemy.orm import Session

from chatbot.errors import InvalidInput
from chatbot.storage.models import Annotation, AnswerFeedback, Handoff, TurnLog
from training.annotations.keys import text_key

# The order is the precedence: a turn shows as the first kind that applies (a low-rated handoff
# is "low_rating", the more telling of the two).
KINDS = ("not_understood", "clarify", "faq_not_found", "low_rating", "unhelpful", "handoff", "uncertain")
# The outcomes of the handoff desk (chatbot/handoff/intake.py): the bot stayed out of these.
DESK_OUTCOMES = ("queued", "forwarded_to_agent", "message_left", "message_kept", "handoff_cancelled", "rated")
# The step actions that make each kind (the policy's and the knowledge desk's step names).
STEP_ACTIONS = {
    "not_understood": ("fallback",),
    "clarify": ("faq_clarify", "intent_clarify"),
    "faq_not_found": ("faq_not_found",),
    "handoff": ("handoff", "enqueue"),
}
LOW_RATING = 2  # a rating at or under this is a customer let down
# A clarification logs the options it offered, not their scores.
UNSCORED = -1.0
_BATCH = 1000


@dataclass(frozen=True)
class LoggedTurn:
    """One customer message the bot handled, as the export shows it."""

    turn_id: int
    at: datetime
    channel: str
    text: str
    intent: str | None
    confidence: float | None
    top3: tuple[tuple[str, float], ...]  # from ranking (or (intent, confidence) alone for old rows)
    faq_candidates: tuple[tuple[str, str, float], ...]  # (faq id, question, score), best first
    kind: str  # one of KINDS: the first that applies, in KINDS order, among those asked for


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """The kinds asked for, refused with the valid names when one is unknown."""
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInput(f"未知的类型 {', '.join(unknown)}：可选 {', '.join(KINDS)}", "unknown_kind")
    return kinds


def wanted_kinds(kinds: Collection[str] | None, uncertain_below: float | None) -> tuple[str, ...]:
    """`kinds` (None: all but "uncertain"), plus "uncertain" whenever a threshold is given."""
    chosen = set(check_kinds(kinds)) if kinds is not None else set(KINDS) - {"uncertain"}
    if uncertain_below is not None:
        if not 0 < uncertain_below <= 1:
            raise InvalidInput(f"置信度阈值须在 (0, 1] 之内，而不是 {uncertain_below}", "bad_threshold")
        chosen.add("uncertain")
    elif "uncertain" in chosen:
        raise InvalidInput("类型 uncertain 需要置信度阈值（--uncertain）", "bad_threshold")
    return tuple(k for k in KINDS if k in chosen)


def select_turns(db: Session, *, since: datetime | None = None, until: datetime | None = None,
                 kinds: Collection[str] | None = None, uncertain_below: float | None = None,
                 intent: str | None = None, include_labelled: bool = False,
                 limit: int = 20000) -> list[LoggedTurn]:
    """The turns worth labelling, newest first, at most `limit`.

    `since` inclusive, `until` exclusive. A turn whose text an analyst labelled already
    (an Annotation with its text_key) is left out unless `include_labelled`.
    """
    wanted = wanted_kinds(kinds, uncertain_below)
    low_rated = _low_rated_turns(db, since, until) if "low_rating" in wanted else set()
    unhelpful = _unhelpful_turns(db, since, until) if "unhelpful" in wanted else set()
    query = _candidates(wanted, uncertain_below, low_rated | unhelpful, since, until, intent)
    chosen: list[LoggedTurn] = []
    for rows in _batches(db, query):
        turns = [t for t in (_logged(row, wanted, uncertain_below, low_rated, unhelpful) for row in rows) if t]
        if not include_labelled:
            turns = _unlabelled(db, turns)
        chosen += turns[:limit - len(chosen)]
        if len(chosen) >= limit:
            break
    return chosen


def _candidates(wanted, uncertain_below, rated: set[int], since, until, intent):
    """Rows that may be of a wanted kind (a superset: the steps are read exactly in Python)."""
    steps_text = cast(TurnLog.steps, Text)
    markers = [steps_text.like(f'%"{action}"%') for kind in wanted for action in STEP_ACTIONS.get(kind, ())]
    if "uncertain" in wanted:
        markers.append(TurnLog.confidence < uncertain_below)
    if rated:  # turns a customer rated low or found unhelpful
        markers.append(TurnLog.id.in_(sorted(rated)))
    query = (select(TurnLog.id, TurnLog.created_at, TurnLog.channel, TurnLog.text, TurnLog.intent,
                    TurnLog.confidence, TurnLog.steps, TurnLog.ranking)
             .where(TurnLog.outcome.not_in(DESK_OUTCOMES), or_(false(), *markers))
             .order_by(TurnLog.created_at.desc(), TurnLog.id.desc()))
    if since is not None:
        query = query.where(TurnLog.created_at >= since)
    if until is not None:
        query = query.where(TurnLog.created_at < until)
    if intent is not None:
        query = query.where(TurnLog.intent == intent)
    return query


def _batches(db: Session, query) -> Iterator[list]:
    """The query's rows a thousand at a time (the caller may stop early)."""
    result = db.execute(query.execution_options(yield_per=_BATCH))
    try:
        yield from result.partitions(_BATCH)
    finally:
        result.close()


def _logged(row, wanted: tuple[str, ...], uncertain_below: float | None, low_rated: set[int],
            unhelpful: set[int] = frozenset()) -> LoggedTurn | None:
    steps = row.steps if isinstance(row.steps, list) else []
    actions = {step.get("action") for step in steps if isinstance(step, dict)}
    kind = next((k for k in wanted if _applies(k, row, actions, uncertain_below, low_rated, unhelpful)), None)
    if kind is None:
        return None
    return LoggedTurn(row.id, row.created_at, row.channel, row.text, row.intent, row.confidence,
                      _top3(row.ranking, row.intent, row.confidence), faq_candidates(steps), kind)


def _applies(kind: str, row, actions: set, uncertain_below: float | None, low_rated: set[int],
             unhelpful: set[int]) -> bool:
    if kind == "uncertain":
        return row.confidence is not None and row.confidence < uncertain_below
    if kind == "low_rating":
        return row.id in low_rated
    if kind == "unhelpful":
        return row.id in unhelpful
    return not actions.isdisjoint(STEP_ACTIONS[kind])


def _top3(ranking, intent: str | None, confidence: float | None) -> tuple[tuple[str, float], ...]:
    if isinstance(ranking, list) and ranking:
        return tuple((str(r["name"]), float(r["confidence"])) for r in ranking[:3]
                     if isinstance(r, dict) and "name" in r and r.get("confidence") is not None)
    if intent is not None and confidence is not None:
        return ((intent, float(confidence)),)  # logged before migration 0009 kept the ranking
    return ()


def faq_candidates(steps: list) -> tuple[tuple[str, str, float], ...]:
    """The FAQ entries a turn's steps name, best first: the candidates of a miss, the
    options of a clarification (UNSCORED: the log keeps their ids only), an answer given."""
    found: dict[str, tuple[str, str, float]] = {}
    for step in steps:
        if not isinstance(step, dict):
            continue
        action = step.get("action")
        if action == "faq_not_found":
            for c in step.get("candidates") or ():
                if isinstance(c, dict) and c.get("id"):
                    found.setdefault(c["id"], (c["id"], str(c.get("question") or ""), _score(c.get("score"))))
        elif action == "faq_clarify":
            for option in step.get("options") or ():
                found.setdefault(str(option), (str(option), "", UNSCORED))
        elif action == "faq_answer" and step.get("faq_id"):
            found.setdefault(step["faq_id"], (step["faq_id"], "", _score(step.get("score"))))
    return tuple(sorted(found.values(), key=lambda c: -c[2]))


def _score(value) -> float:
    return float(value) if isinstance(value, (int, float)) else UNSCORED


def _unhelpful_turns(db: Session, since: datetime | None, until: datetime | None) -> set[int]:
    """Ids of the knowledge answers a customer marked 👎 (POST /v1/chat/feedback)."""
    query = select(AnswerFeedback.turn_id).where(AnswerFeedback.helpful.is_(False))
    if since is not None:
        query = query.where(AnswerFeedback.created_at >= since)
    if until is not None:
        query = query.where(AnswerFeedback.created_at < until)
    return set(db.scalars(query))


def _low_rated_turns(db: Session, since: datetime | None, until: datetime | None) -> set[int]:
    """Ids of the turns that queued a handoff rated LOW_RATING or less: in the ticket's
    session, the first turn with an "enqueue" step logged at or after the ticket was opened
    (the engine logs a turn when it ends, after the ticket it opened)."""
    query = select(Handoff.session_id, Handoff.created_at).where(Handoff.rating <= LOW_RATING)
    if since is not None:
        query = query.where(Handoff.created_at >= since - timedelta(minutes=1))
    if until is not None:
        query = query.where(Handoff.created_at < until)
    tickets: dict[int, list[datetime]] = {}
    for session_id, opened in db.execute(query):
        tickets.setdefault(session_id, []).append(opened)
    found: set[int] = set()
    sessions = sorted(tickets)
    for start in range(0, len(sessions), 500):
        enqueued = _enqueue_turns(db, sessions[start:start + 500])
        for session_id in sessions[start:start + 500]:
            for opened in tickets[session_id]:
                turn = next((t for t, at in enqueued.get(session_id, ()) if at >= opened), None)
                if turn is not None:
                    found.add(turn)
    return found


def _enqueue_turns(db: Session, session_ids: list[int]) -> dict[int, list[tuple[int, datetime]]]:
    """Per session, its turns that queued the customer for a person, oldest first."""
    query = (select(TurnLog.id, TurnLog.session_id, TurnLog.created_at, TurnLog.steps)
             .where(TurnLog.session_id.in_(session_ids), cast(TurnLog.steps, Text).like('%"enqueue"%'))
             .order_by(TurnLog.created_at, TurnLog.id))
    turns: dict[int, list[tuple[int, datetime]]] = {}
    for row in db.execute(query):
        if any(isinstance(s, dict) and s.get("action") == "enqueue" for s in row.steps or ()):
            turns.setdefault(row.session_id, []).append((row.id, row.created_at))
    return turns


def _unlabelled(db: Session, turns: list[LoggedTurn]) -> list[LoggedTurn]:
    """The turns whose text has no annotation yet (same key as the import writes)."""
    keys = {t.turn_id: text_key(t.text) for t in turns}
    labelled: set[str] = set()
    unique = sorted(set(keys.values()))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        labelled.update(db.scalars(select(Annotation.text_key).where(Annotation.text_key.in_(chunk))))
    return [t for t in turns if keys[t.turn_id] not in labelled]
