"""Queries for staff: accounts, login attempts, the audit log and canned replies."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from chatbot.storage import audit as audit_log
from chatbot.storage.models import AuditLog, CannedReply, LoginAttempt, StaffTokenRevocation, StaffUser


def by_username(db: Session, username: str) -> StaffUser | None:
    return db.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def by_id(db: Session, staff_id: int) -> StaffUser | None:
    return db.get(StaffUser, staff_id)


def token_holder(db: Session, staff_id: int, token_id: str) -> tuple[StaffUser | None, bool]:
    """The staff row of a token and whether that token was revoked, in one query (each request)."""
    revoked = select(StaffTokenRevocation.token_id).where(StaffTokenRevocation.token_id == token_id).exists()
    found = db.execute(select(StaffUser, revoked).where(StaffUser.id == staff_id)).first()
    return (found[0], bool(found[1])) if found is not None else (None, False)


def revoke_token(db: Session, staff_id: int, token_id: str, expires_at: datetime, now: datetime) -> None:
    """End one token; revocations of tokens past their expiry are dropped (they end by themselves)."""
    db.execute(delete(StaffTokenRevocation).where(StaffTokenRevocation.expires_at <= now))
    if db.get(StaffTokenRevocation, token_id) is None:
        db.add(StaffTokenRevocation(token_id=token_id, staff_id=staff_id, expires_at=expires_at))


def revoke_all_tokens(db: Session, staff_id: int) -> None:
    """End every token of a staff member issued so far (a new generation)."""
    db.execute(update(StaffUser).where(StaffUser.id == staff_id)
               .values(token_generation=StaffUser.token_generation + 1))


def active_agents(db: Session) -> Sequence[StaffUser]:
    return db.scalars(
        select(StaffUser).where(StaffUser.role == "agent", StaffUser.active.is_(True)).order_by(StaffUser.username)
    ).all()


# --- login attempts ---------------------------------------------------------------------------

def record_login(db: Session, username: str, client_ip: str, succeeded: bool, now: datetime) -> None:
    db.add(LoginAttempt(username=username[:64], client_ip=client_ip[:64], succeeded=succeeded, created_at=now))


def failures_since(db: Session, since: datetime, *, username: str | None = None,
                   client_ip: str | None = None) -> int:
    """Failed attempts after `since` for one username or one client address."""
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since)
    if username is not None:
        query = query.where(LoginAttempt.username == username)
    if client_ip is not None:
        query = query.where(LoginAttempt.client_ip == client_ip)
    return int(db.scalar(query) or 0)


def pair_failures(db: Session, since: datetime, username: str, client_ip: str) -> tuple[int, datetime | None]:
    """Failures of one username from one address after `since` and after the pair's last
    success, with the time of the latest one."""
    pair = (LoginAttempt.username == username[:64], LoginAttempt.client_ip == client_ip[:64])
    success = db.scalar(select(func.max(LoginAttempt.created_at)).where(LoginAttempt.succeeded.is_(True), *pair))
    if success is not None and success > since:
        since = success
    count, latest = db.execute(select(func.count(), func.max(LoginAttempt.created_at)).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since, *pair)).one()
    return int(count or 0), latest


def oldest_failure_from(db: Session, since: datetime, client_ip: str) -> datetime | None:
    return db.scalar(select(func.min(LoginAttempt.created_at)).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since, LoginAttempt.client_ip == client_ip))


# --- audit log ------------------------------------------------------------------------------

def audit(db: Session, actor: str, action: str, target: str | None, detail: dict | None,
          now: datetime) -> None:
    """Append one audit entry in the caller's transaction (it commits with the action); the
    chain is `chatbot.storage.audit`'s."""
    audit_log.append(db, actor, action, target, detail, now)


def audit_entries(db: Session, *, action: str | None = None, actor: str | None = None,
                  before_id: int | None = None, limit: int = 100) -> Sequence[AuditLog]:
    """Newest first; `before_id` pages backwards."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if before_id:
        query = query.where(AuditLog.id < before_id)
    return db.scalars(query).all()


def last_audit_at(db: Session, actor: str, action: str, target: str) -> datetime | None:
    return db.scalar(select(func.max(AuditLog.created_at)).where(
        AuditLog.actor == actor, AuditLog.action == action, AuditLog.target == target))


# --- canned replies -------------------------------------------------------------------------

def canned_replies(db: Session) -> Sequence[CannedReply]:
    return db.scalars(select(CannedReply).order_by(CannedReply.id)).all()


def add_canned_reply(db: Session, title: str, text: str, author: str, now: datetime) -> CannedReply:
    reply = CannedReply(title=title, text=text, created_by=author, created_at=now, updated_at=now)
    db.add(reply)
    db.flush()
    return reply


def get_canned_reply(db: Session, reply_id: int) -> CannedReply | None:
    return db.get(CannedReply, reply_id)


def delete_canned_reply(db: Session, reply: CannedReply) -> None:
    db.delete(reply)
