"""What the agent console shows about one session, assembled and masked in one place.

    transcript       the session's messages (stored masked); an agent's line names its writer
    notes            agents' private and transfer notes (never the customer's to see)
    understanding    per recent turn: intent, confidence, entities (masked), outcome
    customer         only for a bound customer: masked ID and phone, accounts summary
    recent_flows     the customer's recent business and how each ended (or that it is open)
    earlier_sessions other sessions of the same user or customer
    stalled_flow     the active flow's filled slots, missing slots and failed step

The whole view passes through `mask_value` before it leaves, so no full ID, card or phone
number reaches a console even if one slipped into a slot or a flow's state.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from chatbot.dialogue.forms import FLOWS
from chatbot.handoff import labels
from chatbot.money import format_amount
from chatbot.security.masking import mask_card, mask_id_number, mask_phone, mask_value
from chatbot.handoff.notices import note_data
from chatbot.storage import agent_views, conversations, customers, notes
from chatbot.storage.handoffs import staff_by_id
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
        "transcript": transcript(db, session.id),
        "notes": agent_notes(db, session.id),
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
    personal = customers.personal(db, customer)  # decrypted only to be masked here
    return {"name": customer.name, "id_number": mask_id_number(personal.id_number),
            "phone": mask_phone(personal.phone), "accounts": accounts}


def recent_flows(turns: list[TurnLog], limit: int = 5) -> list[dict]:
    """The customer's recent business, newest first: each run of one flow with how it ended.

    `turns` are newest first. A run starts with the turn that started the flow (or the first
    turn found inside it) and ends with the first later turn outside it, whose outcome says
    how: `completed`, `cancelled`, `refused`, `failed`, or `interrupted` (another business,
    a new session, an agent closing it); a run still open is `in_progress`. A one-turn
    business (a balance) starts and ends in the same turn.
    """
    runs: list[dict] = []
    current: dict | None = None
    for turn in reversed(turns):  # oldest first
        after = (turn.state or {}).get("active_flow")
        started = _started_flow(turn)
        if current is not None and (turn.session_id != current["session_id"] or started):
            _end(current, "interrupted")
            current = None
        if current is not None and after != current["flow"]:
            _end(current, _ending(turn, current["flow"]))
            _extend(current, turn)
            current = None
            continue
        flow = started or (after if current is None else None)
        if flow:
            current = _run(turn, flow)
            runs.append(current)
            if after != flow:
                _end(current, _ending(turn, flow))
                current = None
        elif current is not None:
            _extend(current, turn)
    runs = runs[-limit:]
    return list(reversed(runs))


_ENDINGS = {"cancelled": "cancelled", "refused": "refused", "flow_failed": "failed"}


def _started_flow(turn: TurnLog) -> str | None:
    started = [s.get("flow") for s in (turn.steps or []) if isinstance(s, dict) and s.get("action") == "flow_started"]
    return started[-1] if started else None


def _ending(turn: TurnLog, flow: str) -> str:
    """How the turn that left `flow` ended it."""
    if turn.outcome in _ENDINGS:
        return _ENDINGS[turn.outcome]
    names_flow = any(isinstance(s, dict) and s.get("flow") == flow for s in (turn.steps or []))
    if turn.outcome == "completed" or (turn.outcome == "answered" and names_flow):
        return "completed"
    return "interrupted"


def _run(turn: TurnLog, flow: str) -> dict:
    at = turn.created_at.isoformat()
    return {"flow": flow, "session_id": turn.session_id, "status": "in_progress", "last_outcome": turn.outcome,
            "started_at": at, "last_at": at, "turns": 1}


def _extend(run: dict, turn: TurnLog) -> None:
    run.update(last_at=turn.created_at.isoformat(), last_outcome=turn.outcome, turns=run["turns"] + 1)


def _end(run: dict, status: str) -> None:
    run["status"] = status


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
    """Where the active flow stands; `stalled` when a step failed (the policy records it).

    Besides the codes, what an agent reads: the step in words, each filled slot as
    `{name, label, text}` (李娜（账号 **** 8888）, 2,000.00 元), the missing slots and the
    slots an agent may correct, each with its label.
    """
    flow = state.get("active_flow")
    if not flow:
        return None
    view = {key: state.get(key) for key in STATE_KEYS}
    slots = view["slots"] or {}
    # Underscored slots are the flow's own bookkeeping; scam wording seen is worth showing.
    view["slots"] = shown_slots(slots)
    view["risk_flags"] = list(slots.get("_risk") or [])
    view["missing_slots"] = list(view["missing_slots"] or [])
    view["stalled"] = bool(state.get("failed_step"))
    view["step_label"] = labels.step_label(view["step"], flow)
    view["failed_step_label"] = labels.step_label(view["failed_step"], flow) if view["failed_step"] else None
    view["slot_rows"] = [{"name": k, "label": labels.slot_label(k, flow), "text": labels.display(k, v)}
                         for k, v in view["slots"].items()]
    view["missing"] = [{"name": k, "label": labels.slot_label(k, flow)} for k in view["missing_slots"]]
    view["editable"] = [{"name": s.name, "label": s.label} for s in getattr(FLOWS.get(flow), "slots", ())]
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


def transcript(db: Session, session_id: int) -> list[dict]:
    """The session's lines; an agent's line names its writer (`agent`: 小王)."""
    messages = agent_views.transcript(db, session_id)
    writers = staff_by_id(db, {m.agent_id for m in messages if m.agent_id is not None})
    return [_line(m, writers.get(m.agent_id)) for m in messages]


def agent_notes(db: Session, session_id: int) -> list[dict]:
    """Notes agents left on the session (private and transfer notes), oldest first."""
    rows = notes.notes_of(db, session_id)
    staff = staff_by_id(db, {n.staff_id for n in rows} | {n.to_staff_id for n in rows if n.to_staff_id})

    def name(staff_id: int | None) -> str | None:
        return staff[staff_id].display_name if staff_id in staff else None

    return [note_data(n, name(n.staff_id), name(n.to_staff_id)) for n in rows]


def _line(message, writer: StaffUser | None = None) -> dict:
    line = {"id": message.id, "sender": message.sender, "text": message.text, "at": message.created_at.isoformat()}
    if message.sender == "agent":
        line["agent"] = writer.display_name if writer else None
    return line


def _understood(turn: TurnLog) -> dict:
    entities = [{**e, "label": labels.label("entity", e.get("entity")),
                 "text": labels.display(e.get("entity"), e.get("value"))}
                for e in (turn.entities or []) if isinstance(e, dict)]
    return {"at": turn.created_at.isoformat(), "text": turn.text, "intent": turn.intent,
            "confidence": round(turn.confidence, 3) if turn.confidence is not None else None,
            "entities": entities, "outcome": turn.outcome}
