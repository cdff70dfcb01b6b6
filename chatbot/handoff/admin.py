"""Admin operations around the desk: canned replies, agent capacity, the audit log."""
from __future__ import annotations

from chatbot.clock import Clock
from chatbot.errors import InvalidInput, NotFound
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
    title, text = (title or "").strip(), (text or "").strip()
    if not 0 < len(title) <= MAX_TITLE or not 0 < len(text) <= MAX_TEXT:
        raise InvalidInput(f"标题须为 1–{MAX_TITLE} 字，内容须为 1–{MAX_TEXT} 字", "invalid_canned_reply")
    return title, text


class DeskAdmin:
    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def canned_replies(self) -> list[dict]:
        with self.db.read() as db:
            return [canned_dict(r) for r in staff_store.canned_replies(db)]

    def add_canned(self, admin: Staff, title: str, text: str) -> dict:
        title, text = _clean(title, text)
        now = self.clock.now()
        with self.db.write() as db:
            reply = staff_store.add_canned_reply(db, title, text, admin.username, now)
            staff_store.audit(db, admin.username, "canned.create", f"canned:{reply.id}", {"title": title}, now)
            return canned_dict(reply)

    def update_canned(self, admin: Staff, reply_id: int, title: str, text: str) -> dict:
        title, text = _clean(title, text)
        now = self.clock.now()
        with self.db.write() as db:
            reply = self._get(db, reply_id)
            reply.title, reply.text, reply.updated_at = title, text, now
            staff_store.audit(db, admin.username, "canned.update", f"canned:{reply_id}", {"title": title}, now)
            return canned_dict(reply)

    def delete_canned(self, admin: Staff, reply_id: int) -> None:
        now = self.clock.now()
        with self.db.write() as db:
            reply = self._get(db, reply_id)
            staff_store.audit(db, admin.username, "canned.delete", f"canned:{reply_id}", {"title": reply.title}, now)
            staff_store.delete_canned_reply(db, reply)

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
