"""The agent's side of a handoff: accept, reply, transfer, release, close, finish a step.

Every operation is one write transaction under the conversation's lock (the same lock a
customer's turn takes, so an agent action and a customer message never interleave), is
written to the audit log in that transaction, and publishes its events and pushes its
customer messages (WeChat) only after the commit. Only the owning agent writes into a
session; capacity is checked under a per-agent lock so two accepts cannot both pass.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.channels.outbound import OutboundRegistry
from chatbot.clock import Clock
from chatbot.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from chatbot.handoff import queue, texts
from chatbot.handoff.context import shown_slots
from chatbot.handoff.events import Event, EventBus
from chatbot.handoff.notices import message_data, message_event, mode_event, note_data, note_event, typing_event
from chatbot.security.masking import mask_text, mask_value
from chatbot.security.staff_auth import Staff
from chatbot.storage import conversations, handoffs, notes
from chatbot.storage import presence as presence_store
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database
from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.storage.models import ChatSession, Handoff

log = logging.getLogger(__name__)

MAX_AGENT_TEXT = 1000
SLOT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


@dataclass
class Change:
    """What one operation produced: the response body, events, messages to push."""

    body: dict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    pushes: list[tuple[str, str, str]] = field(default_factory=list)  # channel, user id, text
    audit: dict = field(default_factory=dict)


Operation = Callable[[Session, ChatSession, Handoff | None, datetime, Change], None]


class HandoffDesk:
    def __init__(self, database: Database, bus: EventBus, clock: Clock, outbound: OutboundRegistry,
                 default_capacity: int = 3, slot_editor=None) -> None:
        self.db = database
        self.bus = bus
        self.clock = clock
        self.outbound = outbound
        self.default_capacity = default_capacity
        # chatbot.dialogue.agent_edits.SlotEditor: agents' slot edits, checked like customer input
        self.slot_editor = slot_editor

    # --- operations ------------------------------------------------------------------------
    def accept(self, agent: Staff, session_id: int) -> dict:
        """Take a queued session (capacity permitting); the customer is told who serves them."""

        def op(db, session, ticket, now, change):
            if ticket is None or ticket.status != "queued":
                taken = ticket is not None and ticket.status == "active"
                raise Conflict("该会话已被其他客服接入" if taken else "该会话不在排队中",
                               "already_accepted" if taken else "not_queued")
            self._check_capacity(db, agent.id)
            note = handoffs.message_of(db, ticket.id)
            if note is not None:  # a message left outside hours: the customer talks in this session again
                handoffs.resume_session(db, session)
            ticket.status, ticket.agent_id, ticket.accepted_at = "active", agent.id, now
            session.mode = "agent"
            self._notice(db, session, texts.accepted(agent.display_name, message=note is not None), now, change,
                         agent.id)
            # An agent less to take the others changes every estimate, not only places.
            change.events += [mode_event(session, agent.display_name), *queue.position_events(db, now)]

        return self._run(agent, session_id, "handoff.accept", op)

    def send(self, agent: Staff, session_id: int, text: str) -> dict:
        """The owning agent's message to the customer (masked like every outgoing text)."""
        text = _agent_text(text)

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            message = self._notice(db, session, text, now, change, agent.id, sender="agent")
            change.body["message"] = {**message_data(message), "agent": agent.display_name}
            change.audit["chars"] = len(text)

        return self._run(agent, session_id, "handoff.message", op)

    def note(self, agent: Staff, session_id: int, text: str) -> dict:
        """A private note on the session: agents read it, the customer never does (it is not a
        transcript line and goes to no customer's stream). Owner only, masked like a message."""
        text = _agent_text(text)

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            note = notes.add_note(db, session.id, ticket.id, agent.id, "note", text, now)
            change.body["note"] = note_data(note, agent.display_name)
            change.events.append(note_event(session, change.body["note"], [agent.id]))
            change.audit["chars"] = len(text)

        return self._run(agent, session_id, "handoff.note", op)

    def typing(self, agent: Staff, session_id: int) -> None:
        """Tell the customer the agent is writing (the page shows 客服小王正在输入…). Owner only;
        nothing is stored: an event that is missed costs nothing."""
        with self.db.read() as db:
            session = db.get(ChatSession, session_id)
            if session is None:
                raise NotFound("会话不存在", "unknown_session")
            _require_owner(handoffs.open_ticket(db, session.id), agent)
        self.bus.publish(typing_event(session, agent.display_name))

    def transfer(self, agent: Staff, session_id: int, to_username: str, note: str | None = None) -> dict:
        """Hand the session to another agent with free capacity; they own it at once. A note
        (for agents only) tells them what it is about."""
        note_text = _agent_text(note) if note and note.strip() else None

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            target = staff_store.by_username(db, to_username)
            if target is None or not target.active or target.role not in ("agent", "admin"):
                raise NotFound(f"没有客服账号 {to_username}", "unknown_agent")
            if target.id == agent.id:
                raise InvalidInput("不能转接给自己", "same_agent")
            if presence_store.status_of(db, target.id) == "away":
                raise Conflict(f"客服{target.display_name}当前状态为“离开”，请转接给其他客服", "agent_away")
            self._check_capacity(db, target.id)
            ticket.agent_id, ticket.transfers = target.id, ticket.transfers + 1
            self._notice(db, session, texts.transferred(target.display_name), now, change, target.id)
            change.events.append(mode_event(session, target.display_name, transferred=True))
            change.audit["to"] = target.username
            if note_text:
                kept = notes.add_note(db, session.id, ticket.id, agent.id, "transfer", note_text, now, target.id)
                data = note_data(kept, agent.display_name, target.display_name)
                change.events.append(note_event(session, data, [target.id]))
                change.audit["note_chars"] = len(note_text)

        return self._run(agent, session_id, "handoff.transfer", op)

    def release(self, agent: Staff, session_id: int) -> dict:
        """Back to the bot with the dialogue state intact: a stalled flow resumes where it was.

        After an agent's slot edit the customer reads the flow's full read-back (or its next
        question) and confirms again before any code is sent.
        """

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            ticket.status, ticket.ended_at = "released", now
            session.mode = "bot"
            resuming = bool((session.state or {}).get("active_flow"))
            read_back = self.slot_editor.resume(db, session, now) if self.slot_editor else None
            text = texts.released_after_edit(read_back) if read_back else texts.released(resuming)
            self._notice(db, session, text, now, change, None)
            change.events.append(mode_event(session, None, released=True))

        return self._run(agent, session_id, "handoff.release", op)

    def close(self, agent: Staff, session_id: int) -> dict:
        """End the service, start the dialogue afresh and ask the customer for a 1–5 rating."""

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            ticket.status, ticket.ended_at, ticket.rating_pending = "closed", now, True
            session.mode, session.state = "bot", {}
            self._notice(db, session, texts.closed(agent.display_name), now, change, None)
            change.events.append(mode_event(session, None, closed=True, rating_requested=True))

        return self._run(agent, session_id, "handoff.close", op)

    def set_slots(self, agent: Staff, session_id: int, values: dict, resolve_failed_step: bool) -> dict:
        """Change what a stalled flow collected, checked exactly like the customer's answers.

        Only the flow's own slots, each value read by the flow's extractor and validator
        (InvalidInput naming the problem, nothing changed). An accepted edit retires the
        flow's outstanding codes and undoes its confirmation: on release the customer reads
        the full read-back again and confirms before a new code is sent. With
        `resolve_failed_step` the failed step is cleared.
        """
        _check_slots(values)
        if self.slot_editor is None:
            raise ServiceUnavailable("槽位修改未启用", "slot_edits_unavailable")

        def op(db, session, ticket, now, change):
            _require_owner(ticket, agent)
            state = self.slot_editor.edit(db, session, values, now, resolve_failed_step)
            change.body["state"] = mask_value({
                "active_flow": state.get("active_flow"), "step": state.get("step"),
                "slots": shown_slots(state.get("slots") or {}),
                "missing_slots": state.get("missing_slots"), "failed_step": state.get("failed_step")})
            change.audit.update(slots=mask_value(values), resolved=resolve_failed_step)

        return self._run(agent, session_id, "handoff.set_slots", op)

    # --- plumbing ---------------------------------------------------------------------------
    def _run(self, agent: Staff, session_id: int, action: str, op: Operation) -> dict:
        now = self.clock.now()
        change = Change()
        with self.db.write() as db:
            session = _locked_session(db, session_id)
            op(db, session, handoffs.open_ticket(db, session.id), now, change)
            session.last_active_at = now
            staff_store.audit(db, agent.username, action, f"session:{session_id}", change.audit, now)
            change.body.update(session_id=session.id, mode=session.mode)
        self.bus.publish_all(change.events)
        change.body["pushed"] = self._push(change.pushes)
        return change.body

    def _notice(self, db: Session, session: ChatSession, text: str, now: datetime, change: Change,
                agent_id: int | None, sender: str = "bot"):
        """A transcript line for the customer outside a reply: stored, announced, pushed."""
        author = agent_id if sender == "agent" else None
        message = conversations.add_message(db, session, sender, text, now, agent_id=author)
        db.flush()
        writer = staff_store.by_id(db, author).display_name if author is not None else None
        change.events.append(message_event(session, message, agent_id, writer))
        change.pushes.append((session.channel, session.user_id, text))
        return message

    def _check_capacity(self, db: Session, staff_id: int) -> None:
        handoffs.lock_agent(db, staff_id)
        capacity = handoffs.agent_capacity(db, staff_id, self.default_capacity)
        if handoffs.agent_load(db, staff_id) >= capacity:
            raise Conflict(f"已达到同时服务上限（{capacity} 个会话），请先结束或转出一个会话", "over_capacity")

    def _push(self, pushes: list[tuple[str, str, str]]) -> bool | None:
        """Deliver through push channels (WeChat); None when every channel reads the transcript."""
        outcome = None
        for channel, user_id, text in pushes:
            try:
                pushed = self.outbound.deliver(channel, user_id, text)
            except Exception:  # the message is stored; the customer sees it on their next visit
                log.exception("outbound delivery to %s failed", channel)
                return False
            outcome = True if pushed else outcome
        return outcome


def _locked_session(db: Session, session_id: int) -> ChatSession:
    session = db.get(ChatSession, session_id)
    if session is None:
        raise NotFound("会话不存在", "session_not_found")
    lock_conversation_in_transaction(db, session.channel, session.user_id)
    db.refresh(session)  # what the previous lock holder committed
    return session


def _agent_text(text: str | None) -> str:
    """What an agent wrote, trimmed and masked (no full card, ID or phone number is kept)."""
    text = mask_text((text or "").strip())
    if not text or len(text) > MAX_AGENT_TEXT:
        raise InvalidInput(f"内容须为 1–{MAX_AGENT_TEXT} 个字", "invalid_text")
    return text


def _require_owner(ticket: Handoff | None, agent: Staff) -> None:
    if ticket is None or ticket.status != "active":
        raise Conflict("该会话当前不在人工服务中", "not_active")
    if ticket.agent_id != agent.id:
        raise Forbidden("该会话由其他客服负责，您不能操作", "not_owner")


def _check_slots(values: dict) -> None:
    if not values or len(values) > 20:
        raise InvalidInput("请提供 1–20 个槽位", "invalid_slots")
    for name, value in values.items():
        if not SLOT_NAME.match(name) or name.startswith("_"):
            raise InvalidInput(f"槽位名无效：{name}", "invalid_slots")
        if not isinstance(value, (str, int, float, bool)) or (isinstance(value, str) and len(value) > 200):
            raise InvalidInput(f"槽位 {name} 的值须为不超过 200 字的文字、数字或真假值", "invalid_slots")
