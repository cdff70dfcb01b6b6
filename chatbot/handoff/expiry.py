"""Queued tickets that waited too long: closed as `expired`, the customer told and back with the bot.

A customer waiting live (not a message left outside service hours) longer than
`CHATBOT_HANDOFF_QUEUE_MINUTES` is not served by waiting longer: the ticket is closed as
`expired`, the session goes back to the bot, and the customer reads that no agent was free,
the hotline, and that they can write their question to the bot or ask for a person again.

Each ticket is expired in its own write transaction under the conversation's lock (the lock
an agent's 接入 takes), after checking again that it is still queued: an agent who accepted
it meanwhile wins, and two workers never both expire it. The line is in the web history
(and a live event); a WeChat follower gets it as a customer-service message through the
outbound registry (the outbox keeps it when WeChat fails for a passing reason). Runs on the
notification job's schedule (chatbot/notify/wiring.py, `chatbot notify run`).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from chatbot.channels.outbound import OutboundRegistry
from chatbot.clock import Clock
from chatbot.handoff import queue, texts
from chatbot.handoff.events import EventBus
from chatbot.handoff.notices import message_event, mode_event
from chatbot.storage import conversations, handoffs
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database
from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.storage.models import ChatSession, Handoff

log = logging.getLogger(__name__)

ACTOR = "system"


class QueueExpiry:
    def __init__(self, database: Database, clock: Clock, minutes: int, *, bus: EventBus | None = None,
                 outbound: OutboundRegistry | None = None) -> None:
        self.database = database
        self.clock = clock
        self.minutes = minutes
        self.bus = bus
        self.outbound = outbound

    def run(self) -> str | None:
        """Expire every live ticket queued longer than the setting; the report line or None."""
        if self.minutes <= 0:
            return None
        cutoff = self.clock.now() - timedelta(minutes=self.minutes)
        with self.database.read() as db:
            due = [t.id for t in handoffs.queued(db) if t.created_at <= cutoff]
        expired = sum(self._expire(ticket_id, cutoff) for ticket_id in due)
        if not expired:
            return None
        log.info("handoff: %d queued ticket(s) expired after %d minutes", expired, self.minutes)
        return f"排队超时结束 {expired} 个"

    def _expire(self, ticket_id: int, cutoff) -> bool:
        now = self.clock.now()
        text = texts.expired(self.minutes)
        with self.database.write() as db:
            ticket = db.get(Handoff, ticket_id)
            session = db.get(ChatSession, ticket.session_id)
            lock_conversation_in_transaction(db, session.channel, session.user_id)
            db.refresh(ticket)
            db.refresh(session)
            if ticket.status != "queued" or ticket.created_at > cutoff or handoffs.message_of(db, ticket.id):
                return False  # taken, cancelled or turned into a message meanwhile
            ticket.status, ticket.ended_at = "expired", now
            session.mode, session.last_active_at = "bot", now
            line = conversations.add_message(db, session, "bot", text, now)
            db.flush()
            events = [mode_event(session, expired=True), message_event(session, line, None),
                      *queue.position_events(db, now, moved=ticket)]
            staff_store.audit(db, ACTOR, "handoff.expire", f"session:{session.id}",
                              {"ticket": ticket.id, "waited_minutes": int((now - ticket.created_at).total_seconds() // 60)},
                              now)
            channel, user_id = session.channel, session.user_id
        self._announce(events, channel, user_id, text)
        return True

    def _announce(self, events, channel: str, user_id: str, text: str) -> None:
        if self.bus is not None:
            try:
                self.bus.publish_all(events)
            except Exception:  # the line is stored; the page reads it on its next poll
                log.exception("handoff: expiry events for %s:%s not published", channel, user_id)
        if self.outbound is not None:
            try:
                self.outbound.deliver(channel, user_id, text)
            except Exception:  # logged and recorded by the sender; the transcript has the line
                log.warning("handoff: expiry notice to %s:%s not pushed", channel, user_id)
