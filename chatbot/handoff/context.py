"""What the agent console shows about one session, assembled and masked in one place.

    transcript       the session's messages (stored masked)
    understanding    per recent turn: intent, confidence, entities (masked), outcome
    customer         only for a bound customer: masked ID and phone, accounts summary
    recent_flows     the customer's recent business flows and how they ended
    earlier_sessions other sessions of the same user or customer
    stalled_flow     the active flow's filled slots, missing slots and failed step

The whole view passes through `mask_value` before it leaves, so no full ID, card or phone
number reaches a console even if one slipped into a slot or a flow's state.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from chatbot.money import format_amount
from chatbot.security.masking import mask_card, mask_id_number, mask_phone, mask_value
from chatbot.storage import agent_views, conversations
from chatbot.storage.models import ChatSession, Handoff, StaffUser, TurnLog

STATE_KEYS = ("active_flow", "step", "slots", "missing_slots", "failed_step")


def session_view(db: Session, session: ChatSession, ticket: Handoff | None,
                 owner: StaffUser | None, can_write: bool) -> dict:
    """The full console view of a session (masked)."""
    customer_id = conversations.bound_customer_id(db, session.channel, session.user_id)
    view = {
        # No channel user id: on the web it is the customer's credential's anchor, not for agents.
        "session": {"id": session.id, "channel": session.channel,
                    "mode": session.mode, "created_at": session.created_at.isoformat()},
        "handoff": ticket_view(ticket, owner),
        "can_write": can_write,
        "transcript": [_line(m) for m in agent_views.transcript(db, session.id)],
        "understanding": [_understood(t) for t in agent_views.session_turns(db, session.id, 10)],
        "customer": customer_view(db, customer_id) if customer_id else None,
        "recent_flows": recent_flows(agent_views.user_turns(db, session.channel, session.user_id)),
        "earlier_sessions": earlier_sessions(db, session, customer_id),
        "stalled_flow": stalled_flow(session.state or {}),
    }
    return mask_value(view)


def ticket_view(ticket: Handoff | None, owner: StaffUser | None) -> dict | None:
    if ticket is None:
        return None
    return {
        "id": ticket.id, "status": ticket.status, "reason": ticket.reason, "priority": ticket.priority,
        "queued_at": ticket.created_at.isoformat(),
        "accepted_at": ticket.accepted_at.isoformat() if ticket.accepted_at else None,
        "agent": {"username": owner.username, "display_name": owner.display_name} if owner else None,
        "rating": ticket.rating,
    }


def customer_view(db: Session, customer_id: int) -> dict | None:
    """Who the bound customer is and what they hold, with numbers masked."""
    customer = agent_views.customer(db, customer_id)
    if customer is None:
        return None
    accounts = [{
        "kind": account.kind, "name": account.name,
        "card": mask_card(card.card_no) if card else None,
        "balance": format_amount(account.balance),
        "credit_limit": format_amount(account.credit_limit) if account.credit_limit is not None else None,
        "status": account.status, "card_status": card.status if card else None,
    } for account, card in agent_views.customer_accounts(db, customer_id)]
    return {"name": customer.name, "id_number": mask_id_number(customer.id_number),
            "phone": mask_phone(customer.phone), "accounts": accounts}


def recent_flows(turns: list[TurnLog], limit: int = 5) -> list[dict]:
    """Runs of consecutive turns inside one flow, newest first, with how the last turn ended."""
    runs: list[dict] = []
    for turn in turns:  # newest first
        flow = (turn.state or {}).get("active_flow")
        if not flow:
            continue
        if runs and runs[-1]["flow"] == flow and runs[-1]["session_id"] == turn.session_id:
            runs[-1].update(started_at=turn.created_at.isoformat(), turns=runs[-1]["turns"] + 1)
            continue
        if len(runs) == limit:
            break
        runs.append({"flow": flow, "session_id": turn.session_id, "last_outcome": turn.outcome,
                     "started_at": turn.created_at.isoformat(), "last_at": turn.created_at.isoformat(),
                     "turns": 1})
    return runs


def earlier_sessions(db: Session, session: ChatSession, customer_id: int | None) -> list[dict]:
    others = agent_views.earlier_sessions(db, session.channel, session.user_id, customer_id, session.id)
    ids = [s.id for s in others]
    counts = agent_views.message_counts(db, ids)
    tickets: dict[int, list[Handoff]] = {}
    for ticket in agent_views.tickets_of_sessions(db, ids):
        tickets.setdefault(ticket.session_id, []).append(ticket)
    return [{
        "id": s.id, "channel": s.channel, "created_at": s.created_at.isoformat(),
        "last_active_at": s.last_active_at.isoformat(), "messages": counts.get(s.id, 0),
        "handoffs": [{"reason": t.reason, "status": t.status, "rating": t.rating} for t in tickets.get(s.id, [])],
    } for s in others]


def stalled_flow(state: dict) -> dict | None:
    """Where the active flow stands; `stalled` when a step failed (the policy records it)."""
    if not state.get("active_flow"):
        return None
    view = {key: state.get(key) for key in STATE_KEYS}
    slots = view["slots"] or {}
    # Underscored slots are the flow's own bookkeeping; scam wording seen is worth showing.
    view["slots"] = shown_slots(slots)
    view["risk_flags"] = list(slots.get("_risk") or [])
    view["missing_slots"] = list(view["missing_slots"] or [])
    view["stalled"] = bool(state.get("failed_step"))
    return view


def shown_slots(slots: dict) -> dict:
    """A flow's slots as staff may see them: bookkeeping left out, sealed numbers masked."""
    return {k: _shown(v) for k, v in slots.items() if not k.startswith("_")}


def _shown(value):
    if isinstance(value, dict):
        if "sealed" in value:  # chatbot.dialogue.forms.sealed_value: only its masked form
            return value.get("masked") or "（已加密）"
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def _line(message) -> dict:
    return {"id": message.id, "sender": message.sender, "text": message.text, "at": message.created_at.isoformat()}


def _understood(turn: TurnLog) -> dict:
    return {"at": turn.created_at.isoformat(), "text": turn.text, "intent": turn.intent,
            "confidence": round(turn.confidence, 3) if turn.confidence is not None else None,
            "entities": turn.entities, "outcome": turn.outcome}
