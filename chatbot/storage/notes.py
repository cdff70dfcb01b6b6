"""Agents' notes on a session (private notes, transfer notes): stored beside the transcript,
never in it, so nothing that reads the customer's history can return one."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.storage.models import AgentNote


def add_note(db: Session, session_id: int, ticket_id: int | None, staff_id: int, kind: str, text: str,
             now: datetime, to_staff_id: int | None = None) -> AgentNote:
    note = AgentNote(session_id=session_id, ticket_id=ticket_id, staff_id=staff_id, to_staff_id=to_staff_id,
                     kind=kind, text=text, created_at=now)
    db.add(note)
    db.flush()
    return note


def notes_of(db: Session, session_id: int, limit: int = 200) -> Sequence[AgentNote]:
    """The latest `limit` notes of a session, oldest first."""
    rows = db.scalars(select(AgentNote).where(AgentNote.session_id == session_id)
                      .order_by(AgentNote.id.desc()).limit(limit)).all()
    return list(reversed(rows))
