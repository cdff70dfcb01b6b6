"""The reply items behind the transcript's bot lines (`GET /v1/chat/history?rich=true`).

The transcript (`chat_messages`) keeps each reply item's text as one bot line; the turn log
keeps the same replies, a rich one as its whole item (docs/rich_replies.md). A bot line and
its item share the session, the text and the turn: the turn is written with or after its
lines, and a later turn after them. So, oldest turn first, a line takes the first item of
its session not yet taken whose text is its own; items of turns that ended before the line
was written belong to lines not in this page and are passed over. Lines without a turn
(agent replies, notifications) and lines older than the turns read stay plain text.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence

from chatbot.storage import agent_views
from chatbot.storage.models import ChatMessage, TurnLog

MAX_TURNS = 200  # the history's page size: no page holds more turns than lines


def attach_items(db, channel: str, user_id: str, rows: Sequence[ChatMessage], lines: list[dict]) -> None:
    """Give each bot line of `lines` (made from `rows`, same order) its rich `item` when it has one."""
    asked = sum(1 for row in rows if row.sender == "user")
    if not any(row.sender == "bot" for row in rows):
        return
    turns = agent_views.user_turns(db, channel, user_id, min(MAX_TURNS, asked + 1))
    match(rows, lines, turns)


def match(rows: Sequence[ChatMessage], lines: list[dict], turns: Iterable[TurnLog]) -> None:
    waiting: dict[int, deque] = defaultdict(deque)
    for turn in sorted(turns, key=lambda t: t.id):
        for logged in turn.replies or ():
            if isinstance(logged, dict) and isinstance(logged.get("text"), str):
                waiting[turn.session_id].append((turn.created_at, logged))
    for row, line in zip(rows, lines):
        queue = waiting.get(row.session_id)
        if row.sender != "bot" or not queue:
            continue
        while queue and queue[0][0] < row.created_at:  # a turn finished before this line was said
            queue.popleft()
        found = next((n for n, (_, item) in enumerate(queue) if item["text"] == row.text), None)
        if found is not None:
            line["item"] = queue[found][1]
            del queue[found]
