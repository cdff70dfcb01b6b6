"""Handoff metrics over a time window, as JSON (admin API) and Prometheus text (/metrics).

    queue_length       customers waiting now (and the longest current wait)
    wait               queued -> accepted, for tickets accepted in the window
    first_response     accepted -> the agent's first message
    handle             accepted -> released or closed
    resolution         closed tickets whose customer did not ask for a person again within
                       a day; tickets closed less than a day ago are still "pending"
    ratings per agent  count, average and the 1–5 distribution
    wechat_outbox      WeChat messages waiting for a retry (and the oldest one's age), given up

Computed from the database on each call, so every worker reports the same numbers. The
window is "tickets created in the last N hours"; Prometheus gets gauges, not counters.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from chatbot.clock import Clock
from chatbot.storage import handoffs, wechat_outbox
from chatbot.storage.db import Database
from chatbot.storage.models import Handoff

RESOLUTION_HORIZON = timedelta(days=1)


def _stats(values: list[float]) -> dict:
    if not values:
        return {"count": 0, "avg": None, "p50": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"count": len(values), "avg": round(statistics.fmean(values), 1),
            "p50": round(statistics.median(values), 1), "p90": round(p90, 1), "max": round(ordered[-1], 1)}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def resolution(tickets: list[Handoff], now: datetime) -> dict:
    """Closed tickets split into resolved / came back / pending (younger than a day)."""
    by_user: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for t in tickets:
        by_user[(t.channel, t.user_id)].append(t.created_at)
    counts = {"resolved": 0, "came_back": 0, "pending": 0}
    for t in (t for t in tickets if t.status == "closed" and t.ended_at):
        horizon = t.ended_at + RESOLUTION_HORIZON
        if any(t.ended_at < at <= horizon for at in by_user[(t.channel, t.user_id)]):
            counts["came_back"] += 1
        else:
            counts["resolved" if now >= horizon else "pending"] += 1
    decided = counts["resolved"] + counts["came_back"]
    counts["rate"] = round(counts["resolved"] / decided, 3) if decided else None
    return counts


def ratings(tickets: list[Handoff], names: dict[int, tuple[str, str]]) -> dict:
    per_agent: dict[str, list[int]] = defaultdict(list)
    for t in tickets:
        if t.rating is not None and t.agent_id in names:
            per_agent[names[t.agent_id][0]].append(t.rating)
    ids = {username: staff_id for staff_id, (username, _) in names.items()}
    return {username: {"display_name": next(d for u, d in names.values() if u == username),
                       "staff_id": ids[username], "count": len(values), "average": round(statistics.fmean(values), 2),
                       "distribution": {str(r): values.count(r) for r in range(1, 6)}}
            for username, values in sorted(per_agent.items())}


class HandoffMetrics:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def snapshot(self, hours: int = 24) -> dict:
        now = self.clock.now()
        start = now - timedelta(hours=hours)
        with self.db.read() as db:
            waiting = list(handoffs.queued(db))
            tickets = list(handoffs.tickets_between(db, start, now + timedelta(seconds=1)))
            staff = handoffs.staff_by_id(db, {t.agent_id for t in tickets if t.agent_id})
            outbox = wechat_outbox.counts(db, now)
        names = {i: (s.username, s.display_name) for i, s in staff.items()}
        return {
            "window_hours": hours, "generated_at": now.isoformat(),
            "queue_length": len(waiting),
            "oldest_wait_seconds": max((int((now - t.created_at).total_seconds()) for t in waiting), default=0),
            "tickets": {s: sum(t.status == s for t in tickets)
                        for s in ("queued", "active", "released", "closed", "cancelled", "expired")},
            "wait_seconds": _stats([s for t in tickets if (s := _seconds(t.created_at, t.accepted_at)) is not None]),
            "first_response_seconds": _stats([s for t in tickets
                                              if (s := _seconds(t.accepted_at, t.first_response_at)) is not None]),
            "handle_seconds": _stats([s for t in tickets if t.status in ("closed", "released")
                                      and (s := _seconds(t.accepted_at, t.ended_at)) is not None]),
            "resolution": resolution(tickets, now),
            "ratings": ratings(tickets, names),
            # WeChat deliveries waiting for a retry and given up (chatbot/channels/wechat/outbox.py)
            "wechat_outbox": outbox,
        }
