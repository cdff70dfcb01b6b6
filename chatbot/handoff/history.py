"""Search over past conversations for the console (历史会话): words, customer, Beijing days,
channel, how it ended, reason, rating, serving agent; newest first, paged.

Who finds what: an agent finds the sessions they served last (the ones the session view lets
them open); an admin every ended ticket. Transcript text is stored masked, so a search for a
full card number finds nothing, by design. The query is bounded by a window of Beijing days
(at most `MAX_DAYS`; the last `DEFAULT_DAYS` when none is given) over the tickets' end time
(chatbot/storage/conversation_search.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from chatbot.clock import BANK_TZ, Clock
from chatbot.errors import InvalidInput
from chatbot.handoff.console import masked_name
from chatbot.security.masking import mask_value
from chatbot.security.staff_auth import Staff
from chatbot.storage import agent_views
from chatbot.storage import conversation_search as store
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database

DEFAULT_DAYS = 30
MAX_DAYS = 92
MAX_WORDS = 5
MAX_WORD_CHARS = 20
MAX_LIMIT = 50
MAX_OFFSET = 1000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Query:
    """What the console asked for, as it came (types already checked by the route)."""

    q: str = ""
    customer: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = None
    status: str | None = None
    reason: str | None = None
    rating: int | None = None
    agent: str | None = None
    limit: int = 20
    offset: int = 0


def search(database: Database, clock: Clock, viewer: Staff, query: Query) -> dict:
    """One page of results, masked, with the words to highlight and the window searched."""
    words = split_words(query.q)
    customer = _text(query.customer, "customer")
    first, last = window(query.date_from, query.date_to, clock.now().astimezone(BANK_TZ).date())
    limit, offset = min(max(query.limit, 1), MAX_LIMIT), min(max(query.offset, 0), MAX_OFFSET)
    with database.read() as db:
        agent_id = _agent_id(db, query.agent)
        filters = store.Filters(
            start=_utc(first), end=_utc(last + timedelta(days=1)), words=words, customer=customer,
            channel=query.channel, status=query.status, reason=query.reason, rating=query.rating,
            agent_id=agent_id, only_agent_id=None if viewer.role == "admin" else viewer.id)
        rows = [] if agent_id == -1 else store.search(db, filters, limit + 1, offset)
        more = len(rows) > limit
        rows = rows[:limit]
        counts = agent_views.message_counts(db, [r.session.id for r in rows])
        results = [_result(db, row, words, counts.get(row.session.id, 0)) for row in rows]
    return mask_value({
        "results": results, "words": list(words), "from": first.isoformat(), "to": last.isoformat(),
        "next_offset": offset + limit if more and offset + limit <= MAX_OFFSET else None,
        "scope": "all" if viewer.role == "admin" else "mine",
    })


def split_words(q: str | None) -> tuple[str, ...]:
    """Up to five words separated by spaces, each at most 20 characters; 422 otherwise."""
    text = _text(q, "q") or ""
    words = tuple(dict.fromkeys(w for w in text.split() if w))
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"搜索词最多 {MAX_WORDS} 个", "invalid_search")
    if any(len(w) > MAX_WORD_CHARS for w in words):
        raise InvalidInput(f"每个搜索词最多 {MAX_WORD_CHARS} 个字", "invalid_search")
    return words


def window(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The Beijing days searched: both ends included, at most MAX_DAYS, by default the last 30."""
    for day in (first, last):
        if day is not None and not 2000 <= day.year <= 2100:
            raise InvalidInput("日期超出范围（2000–2100 年）", "invalid_dates")
    if last is None:
        last = first + timedelta(days=DEFAULT_DAYS - 1) if first else today
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("开始日期晚于结束日期", "invalid_dates")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"日期范围最多 {MAX_DAYS} 天", "invalid_dates")
    return first, last


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if _UNSTORABLE.search(value):
        raise InvalidInput("请求包含无法识别的字符", "invalid_characters")
    return value.strip() or None


def _agent_id(db, username: str | None) -> int | None:
    """The serving agent's id; -1 (nothing can match) for a username nobody has."""
    if not username:
        return None
    row = staff_store.by_username(db, username)
    return row.id if row is not None else -1


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BANK_TZ)


def _result(db, row: store.Row, words: tuple[str, ...], messages: int) -> dict:
    ticket, session = row.ticket, row.session
    line = store.first_match(db, session.id, words)
    return {
        "session_id": session.id, "ticket_id": ticket.id, "channel": ticket.channel,
        "customer": masked_name(row.customer_name) if row.customer_name else None,
        "bound": row.customer_name is not None,
        "reason": ticket.reason, "status": ticket.status, "rating": ticket.rating,
        "agent": row.agent_name, "transfers": ticket.transfers,
        "queued_at": ticket.created_at.isoformat(), "ended_at": ticket.ended_at.isoformat(),
        "messages": messages,
        "match": {"sender": line.sender, "text": line.text, "at": line.created_at.isoformat()} if line else None,
    }
