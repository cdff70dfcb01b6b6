"""Agent presence rows: when each agent's console stream was last alive, when they last acted,
and the status they chose (online / busy / away: only online agents take customers).

One row per agent, upserted (`INSERT … ON CONFLICT`), so two workers touching the same agent
never collide. Every worker reads the same rows: presence does not live in one process.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from chatbot.storage.models import AgentPresence, StaffUser

COLUMNS = ("stream_seen_at", "acted_at")


def touch(db: Session, staff_id: int, column: str, now: datetime) -> None:
    """Set `stream_seen_at` or `acted_at` of one agent to `now` (creating the row)."""
    if column not in COLUMNS:
        raise ValueError(column)
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AgentPresence).values(staff_id=staff_id, **{column: now})
    db.execute(statement.on_conflict_do_update(index_elements=["staff_id"], set_={column: now}))


STATUSES = ("online", "busy", "away")


def connected(db: Session, stream_since: datetime, acted_since: datetime) -> dict[int, str]:
    """Active agents (and admins) whose stream was alive or who acted since the given times,
    with the status each chose (online, busy, away)."""
    rows = db.execute(
        select(AgentPresence.staff_id, AgentPresence.status).join(StaffUser, StaffUser.id == AgentPresence.staff_id)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(("agent", "admin")),
               or_(AgentPresence.stream_seen_at >= stream_since, AgentPresence.acted_at >= acted_since))
    ).all()
    return {staff_id: status or "online" for staff_id, status in rows}


def online_ids(db: Session, stream_since: datetime, acted_since: datetime) -> set[int]:
    """The connected agents who take customers: status online (busy and away ones do not)."""
    return {i for i, status in connected(db, stream_since, acted_since).items() if status == "online"}


def set_status(db: Session, staff_id: int, status: str, now: datetime) -> None:
    """What the agent chose on their console; choosing is also an action (`acted_at`)."""
    if status not in STATUSES:
        raise ValueError(status)
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AgentPresence).values(staff_id=staff_id, status=status, acted_at=now)
    db.execute(statement.on_conflict_do_update(index_elements=["staff_id"], set_={"status": status, "acted_at": now}))


def status_of(db: Session, staff_id: int) -> str:
    """The status an agent chose last (online when they never chose)."""
    return db.scalar(select(AgentPresence.status).where(AgentPresence.staff_id == staff_id)) or "online"
