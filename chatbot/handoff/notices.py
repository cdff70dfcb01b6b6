"""Builders for the events a handoff change produces (who hears what)."""
from __future__ import annotations

from chatbot.handoff.events import AGENTS, Event, agent_key, customer_key
from chatbot.storage.models import AgentNote, ChatMessage, ChatSession


def message_data(message: ChatMessage, writer: str | None = None) -> dict:
    """A transcript line as the history endpoint shows it (text is stored masked); an agent's
    line names its writer (`agent`: 小王) when known."""
    data = {"id": message.id, "sender": message.sender, "text": message.text, "at": message.created_at.isoformat()}
    if message.sender == "agent" and writer:
        data["agent"] = writer
    return data


def message_event(session: ChatSession, message: ChatMessage, agent_id: int | None,
                  writer: str | None = None) -> Event:
    """A new transcript line: to the customer's page and to the owning agent's console."""
    audience = [customer_key(session.channel, session.user_id)]
    if agent_id is not None:
        audience.append(agent_key(agent_id))
    return Event("message", tuple(audience), session.id, message_data(message, writer))


def mode_event(session: ChatSession, agent_name: str | None = None, **extra) -> Event:
    """The session changed hands (queued, accepted, transferred, released, closed, cancelled).

    Every console hears it (queue and "my sessions" lists change); so does the customer.
    """
    data = {"mode": session.mode, "agent": agent_name, **extra}
    return Event("mode", (AGENTS, customer_key(session.channel, session.user_id)), session.id, data)


def note_data(note: AgentNote, writer: str | None, to: str | None = None) -> dict:
    """An agents-only note as the console shows it (`kind`: note | transfer)."""
    return {"id": note.id, "kind": note.kind, "text": note.text, "at": note.created_at.isoformat(),
            "agent": writer, "to": to}


def note_event(session: ChatSession, data: dict, agent_ids: list[int]) -> Event:
    """A new note: to the named agents' consoles only. Never a customer's audience."""
    return Event("note", tuple(agent_key(i) for i in agent_ids), session.id, data)


def typing_event(session: ChatSession, writer: str) -> Event:
    """The serving agent is writing a reply: to the customer's page only (shown for a few seconds)."""
    return Event("typing", (customer_key(session.channel, session.user_id),), session.id, {"agent": writer})
