"""Operations around the desk: canned replies (any agent; every open console hears of a
change), agent capacity and the audit log (admins)."""
from __future__ import annotations

from chatbot.clock import Clock
from chatbot.errors import InvalidInput, NotFound
from chatbot.handoff.events import AGENTS, Event, EventBus
from chatbot.security.masking import mask_text
from chatbot.security.staff_auth import Staff
from chatbot.storage import handoffs
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog, CannedReply

MAX_TITLE, MAX_TEXT = 64, 1000


def canned_dict(reply: CannedReply) -> dict:
    return {"id": reply.id, "title": reply.title, "text": reply.text, "created_by": reply.created_by,
            "updated_at": reply.updated_at.isoformat()}


def audit_dict(entry: AuditLog) -> dict:
    return {"id": entry.id, "actor": entry.actor, "action": entry.action, "target": entry.target,
            "detail": entry.detail, "at": entry.created_at.isoformat()}


def _clean(title: str, text: str) -> tuple[str, str]:
    title, text = (title or "").strip(), mask_text((text or "").strip())  # no full number kept for reuse
    if not 0 < len(title) <= MAX_TITLE or not 0 < len(text) <= MAX_TEXT:
        raise InvalidInput(f"标题须为 1–{MAX_TITLE} 字，内容须为 1–{MAX_TEXT} 字", "invalid_canned_reply")
    return title, text


class DeskAdmin:
    def __init__(self, database: Database, clock: Clock, bus: EventBus | None = None) -> None:
        self.db = database
        self.clock = clock
        self.bus = bus  # a `canned` event after each change: open consoles reload the list

    def canned_replies(self) -> list[dict]:
        with self.db.read() as db:
            return [canned_dict(r) for r in staff_store.canned_replies(db)]

    def add_canned(self, staff: Staff, title: str, text: str) -> dict:
        """A quick reply for every agent (by an agent or an admin), audited."""
        title, text = _clean(title, text)
        now = self.clock.now()
        with self.db.write() as db:
            reply = staff_store.add_canned_reply(db, title, text, staff.username, now)
            staff_store.audit(db, staff.username, "canned.create", f"canned:{reply.id}", {"title": title}, now)
            body = canned_dict(reply)
        self._changed(body["id"])
        return body

    def update_canned(self, staff: Staff, reply_id: int, title: str, text: str) -> dict:
        title, text = _clean(title, text)
        now = self.clock.now()
        with self.db.write() as db:
            reply = self._get(db, reply_id)
            reply.title, reply.text, reply.updated_at = title, text, now
            staff_store.audit(db, staff.username, "canned.update", f"canned:{reply_id}", {"title": title}, now)
            body = canned_dict(reply)
        self._changed(reply_id)
        return body

    def delete_canned(self, staff: Staff, reply_id: int) -> None:
        now = self.clock.now()
        with self.db.write() as db:
            reply = self._get(db, reply_id)
            staff_store.audit(db, staff.username, "canned.delete", f"canned:{reply_id}", {"title": reply.title}, now)
            staff_store.delete_canned_reply(db, reply)
        self._changed(reply_id)

    def _changed(self, reply_id: int) -> None:
        """After the commit: every open console reloads its quick replies."""
        if self.bus is not None:
            self.bus.publish(Event("canned", (AGENTS,), None, {"id": reply_id}))

    def set_capacity(self, admin: Staff, username: str, capacity: int) -> dict:
        if not 1 <= capacity <= 50:
            raise InvalidInput("同时服务上限须为 1–50", "invalid_capacity")
        now = self.clock.now()
        with self.db.write() as db:
            agent = staff_store.by_username(db, username)
            if agent is None or agent.role not in ("agent", "admin"):
                raise NotFound(f"没有客服账号 {username}", "unknown_agent")
            handoffs.set_agent_capacity(db, agent.id, capacity, now)
            staff_store.audit(db, admin.username, "agent.capacity", f"staff:{username}", {"capacity": capacity}, now)
        return {"username": username, "capacity": capacity}

    def audit(self, *, action: str | None = None, actor: str | None = None,
              before_id: int | None = None, limit: int = 100) -> list[dict]:
        with self.db.read() as db:
            entries = staff_store.audit_entries(db, action=action, actor=actor, before_id=before_id, limit=limit)
            return [audit_dict(e) for e in entries]

    @staticmethod
    def _get(db, reply_id: int) -> CannedReply:
        reply = staff_store.get_canned_reply(db, reply_id)
        if reply is None:
            raise NotFound("没有这条快捷回复", "canned_reply_not_found")
        return reply
