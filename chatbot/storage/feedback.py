"""Customers' 有帮助吗 👍 / 👎 on knowledge answers (docs/rich_replies.md).

The key a customer sends back was written into the answered turn's steps
(`feedback_offered`, chatbot/dialogue/actions.py), so only that conversation's own turns
are searched: a key from another user's answer is simply not found.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.errors import NotFound
from chatbot.storage.models import AnswerFeedback, TurnLog

LOOK_BACK = 200  # the user's latest turns searched for the key


def offered(db: Session, channel: str, user_id: str, key: str) -> tuple[int, dict]:
    """The turn that offered `key` to this user and its `feedback_offered` step; NotFound
    when this user was never given that key. Reads only."""
    turns = db.execute(select(TurnLog.id, TurnLog.steps)
                       .where(TurnLog.channel == channel, TurnLog.user_id == user_id)
                       .order_by(TurnLog.id.desc()).limit(LOOK_BACK))
    for turn_id, steps in turns:
        step = next((step for step in steps or () if isinstance(step, dict)
                     and step.get("action") == "feedback_offered" and step.get("key") == key), None)
        if step is not None:
            return turn_id, step
    raise NotFound("找不到这条回答，无法评价", "feedback_answer_not_found")


def record(db: Session, channel: str, user_id: str, key: str, helpful: bool, now: datetime) -> AnswerFeedback:
    """Store (or change) the feedback on the answer `key` names; NotFound when this user
    was never given that key."""
    turn_id, offered_step = offered(db, channel, user_id, key)
    row = db.scalars(select(AnswerFeedback).where(AnswerFeedback.turn_id == turn_id)).one_or_none()
    if row is None:
        try:
            with db.begin_nested():  # two first taps at once: the second becomes an update
                row = AnswerFeedback(turn_id=turn_id, faq_id=offered_step["faq_id"], helpful=helpful, created_at=now)
                db.add(row)
            return row
        except IntegrityError:
            row = db.scalars(select(AnswerFeedback).where(AnswerFeedback.turn_id == turn_id)).one()
    row.faq_id, row.helpful, row.created_at = offered_step["faq_id"], helpful, now
    db.flush()
    return row
