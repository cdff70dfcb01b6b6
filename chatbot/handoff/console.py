"""Reads for the agent console: the queue, my sessions, one session's view.

Who may look: any agent sees the waiting queue and a queued session (to decide whether
to accept it); an active or finished session only its (last) agent; admins everything.
Opening a session's view is audited (customer data was shown), once per agent and session
every ten minutes so that live refreshes do not flood the log.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from chatbot.clock import Clock
from chatbot.errors import Forbidden, NotFound
from chatbot.handoff import queue
from chatbot.handoff.context import session_view
from chatbot.security.masking import mask_value
from chatbot.security.staff_auth import Staff
from chatbot.storage import agent_views, conversations, handoffs
from chatbot.storage import presence as presence_store
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database
from chatbot.storage.models import ChatSession, Handoff

VIEW_AUDIT_EVERY = timedelta(minutes=10)


class Console:
    def __init__(self, database: Database, clock: Clock, default_capacity: int = 3) -> None:
        self.db = database
        self.clock = clock
        self.default_capacity = default_capacity

    def queue(self, agent: Staff) -> dict:
        """Waiting sessions in service order, the agent's own sessions and everyone's load."""
        now = self.clock.now()
        with self.db.read() as db:
            waiting = handoffs.queued(db)
            mine = handoffs.active_for_agent(db, agent.id)
            staff = queue.staffing(db, now)
            live = [_item(db, t, now, place, staff.wait_minutes(place)) for place, t in enumerate(waiting, start=1)]
            # Messages left outside service hours: after the live waits, oldest first.
            left = [{**_item(db, t, now), "message": _message(note)} for t, note in handoffs.queued_messages(db)]
            body = {
                "queue": live + left,
                "mine": [_item(db, t, now) for t in mine],
                "capacity": handoffs.agent_capacity(db, agent.id, self.default_capacity),
                "agents": self._agents(db, now),
                "agents_online": staff.online,
                "me": {**agent.to_dict(), "status": presence_store.status_of(db, agent.id)},
            }
        return mask_value(body)

    def view(self, agent: Staff, session_id: int) -> dict:
        """One session as the console shows it; Forbidden for another agent's session."""
        now = self.clock.now()
        with self.db.read() as db:
            session = db.get(ChatSession, session_id)
            if session is None:
                raise NotFound("会话不存在", "session_not_found")
            ticket = handoffs.latest_ticket(db, session.id)
            _check_can_view(agent, ticket)
            owner = staff_store.by_id(db, ticket.agent_id) if ticket and ticket.agent_id else None
            can_write = bool(ticket and ticket.status == "active" and ticket.agent_id == agent.id)
            body = session_view(db, session, ticket, owner, can_write)
            last = staff_store.last_audit_at(db, agent.username, "handoff.view", f"session:{session_id}")
        if last is None or now - last >= VIEW_AUDIT_EVERY:
            with self.db.write() as db:
                staff_store.audit(db, agent.username, "handoff.view", f"session:{session_id}", {}, now)
        return body

    def search(self, agent: Staff, query) -> dict:
        """Past conversations by words, customer, days, channel, ending, reason, rating, agent
        (chatbot/handoff/history.py): an agent's own, an admin's all."""
        from chatbot.handoff import history  # history names customers as this module does

        return history.search(self.db, self.clock, agent, query)

    def agents(self) -> list[dict]:
        with self.db.read() as db:
            return self._agents(db, self.clock.now())

    def _agents(self, db: Session, now: datetime) -> list[dict]:
        """Every agent with their load and presence: `status` online / busy / away (chosen on the
        console) or offline (no console open lately); `online` means taking customers."""
        statuses = queue.agent_statuses(db, now)
        return [{"username": a.username, "display_name": a.display_name, "load": handoffs.agent_load(db, a.id),
                 "capacity": handoffs.agent_capacity(db, a.id, self.default_capacity),
                 "status": statuses.get(a.id, "offline"), "online": statuses.get(a.id) == "online"}
                for a in staff_store.active_agents(db)]


def _check_can_view(agent: Staff, ticket: Handoff | None) -> None:
    if agent.role == "admin":
        return
    if ticket is not None and (ticket.status == "queued" or ticket.agent_id == agent.id):
        return
    raise Forbidden("该会话不在排队中，也不由您负责", "not_owner")


def _message(note) -> dict:
    """A message left outside service hours: asked for (awaiting) or left, and when agents are back."""
    return {"status": note.status, "left_at": note.left_at.isoformat() if note.left_at else None,
            "reply_from": note.reply_from.isoformat()}


def _item(db: Session, ticket: Handoff, now: datetime, position: int | None = None,
          wait_minutes: int | None = None) -> dict:
    """One row of the queue or of "my sessions"."""
    recent = agent_views.transcript(db, ticket.session_id, limit=20)
    last_user = next((m for m in reversed(recent) if m.sender == "user"), None)
    customer_id = conversations.bound_customer_id(db, ticket.channel, ticket.user_id)
    customer = agent_views.customer(db, customer_id) if customer_id else None
    return {
        "session_id": ticket.session_id, "ticket_id": ticket.id, "channel": ticket.channel,
        "reason": ticket.reason, "priority": ticket.priority, "status": ticket.status,
        "position": position, "estimated_wait_minutes": wait_minutes, "message": None,
        "queued_at": ticket.created_at.isoformat(),
        "waiting_seconds": _seconds(now, ticket.created_at),
        "accepted_at": ticket.accepted_at.isoformat() if ticket.accepted_at else None,
        "serving_seconds": _seconds(now, ticket.accepted_at) if ticket.accepted_at else None,
        "bound": customer_id is not None,
        "customer": masked_name(customer.name) if customer else None,  # the queue is every agent's: 张*
        "customer_messages": agent_views.customer_message_count(db, ticket.session_id),  # unread badges
        "last_message": last_user.text if last_user else None,
        "last_message_id": recent[-1].id if recent else None,
    }


def _seconds(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


def masked_name(name: str) -> str:
    """张伟 -> 张*, 欧阳娜娜 -> 欧***: the surname's first character, the rest hidden."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else "客户"
