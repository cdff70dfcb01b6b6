"""Agents' operations: ownership, capacity, transfer, finishing a step, the audit trail."""
import threading

import pytest
from sqlalchemy import select

from chatbot.channels.outbound import OutboundRegistry
from chatbot.errors import Conflict, Forbidden, InvalidInput, NotFound
from chatbot.handoff.admin import DeskAdmin
from chatbot.handoff.desk import HandoffDesk
from chatbot.handoff.events import LocalBus, customer_key
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog, ChannelBinding, ChatMessage, Customer, Handoff


def _queued(engine, user="cust"):
    return engine.handle("web", user, "转人工").session_id


def test_only_the_owning_agent_writes(engine, desk, staff):
    session_id = _queued(engine)
    owner, other = staff("agent1"), staff("agent2")
    desk.accept(owner, session_id)
    for attempt in (lambda: desk.send(other, session_id, "我来"), lambda: desk.release(other, session_id),
                    lambda: desk.close(other, session_id), lambda: desk.transfer(other, session_id, "agent2"),
                    lambda: desk.set_slots(other, session_id, {"x": 1}, True)):
        with pytest.raises(Forbidden) as info:
            attempt()
        assert info.value.code == "not_owner"
    with pytest.raises(Conflict) as info:
        desk.accept(other, session_id)
    assert info.value.code == "already_accepted"


def test_agent_messages_are_masked_stored_and_sent_to_the_customer(engine, desk, staff, record, database):
    session_id = _queued(engine)
    agent = staff("agent1")
    desk.accept(agent, session_id)
    customer = record({customer_key("web", "cust")})
    body = desk.send(agent, session_id, "您尾号的卡 6222021234567891234 已冻结，手机 13800138000")
    assert "6222021234567891234" not in body["message"]["text"] and "138****8000" in body["message"]["text"]
    assert [e.type for e in customer.events] == ["message"]
    with database.read() as db:
        stored = db.scalars(select(ChatMessage.text).where(ChatMessage.sender == "agent")).one()
        assert db.scalars(select(Handoff.first_response_at)).one() is not None
    assert "**** 1234" in stored and "13800138000" not in stored
    with pytest.raises(InvalidInput):
        desk.send(agent, session_id, "   ")


def test_capacity_limits_concurrent_sessions(engine, database, clock, bus, staff):
    desk = HandoffDesk(database, bus, clock, OutboundRegistry(), default_capacity=1)
    agent = staff("agent1")
    first, second = _queued(engine, "a"), _queued(engine, "b")
    desk.accept(agent, first)
    with pytest.raises(Conflict) as info:
        desk.accept(agent, second)
    assert info.value.code == "over_capacity"
    DeskAdmin(database, clock).set_capacity(staff("admin"), "agent1", 2)
    assert desk.accept(agent, second)["mode"] == "agent"


def test_transfer_moves_ownership(engine, desk, staff, database):
    session_id = _queued(engine)
    one, two = staff("agent1"), staff("agent2")
    desk.accept(one, session_id)
    desk.transfer(one, session_id, "agent2")
    with pytest.raises(Forbidden):
        desk.send(one, session_id, "还是我")
    desk.send(two, session_id, "您好，我是小李")
    with database.read() as db:
        ticket = db.scalars(select(Handoff)).one()
        texts = list(db.scalars(select(ChatMessage.text).where(ChatMessage.sender == "bot")))
    assert (ticket.agent_id, ticket.transfers) == (two.id, 1)
    assert any("客服小李" in t for t in texts)
    with pytest.raises(NotFound):
        desk.transfer(two, session_id, "nobody")
    with pytest.raises(InvalidInput):
        desk.transfer(two, session_id, "agent2")


def test_editing_slots_needs_an_active_flow_its_own_slots_and_sane_values(engine, desk, staff, database):
    plain = _queued(engine, "plain")
    agent = staff("agent1")
    desk.accept(agent, plain)
    with pytest.raises(Conflict) as info:
        desk.set_slots(agent, plain, {"amount": "100"}, True)
    assert info.value.code == "no_active_flow"
    stalled = engine.handle("web", "stalled", "开始转账").session_id
    desk.accept(agent, stalled)
    for bad in ({}, {"_risk": []}, {"bad name": 1}, {"x": "长" * 201}):
        with pytest.raises(InvalidInput):
            desk.set_slots(agent, stalled, bad, True)
    with pytest.raises(InvalidInput) as info:  # not a slot of the transfer flow
        desk.set_slots(agent, stalled, {"otp": "done-by-agent"}, True)
    assert info.value.code == "unknown_slot" and "amount" in info.value.message
    with pytest.raises(Conflict) as info:  # the customer of this conversation is not bound
        desk.set_slots(agent, stalled, {"amount": "100"}, True)
    assert info.value.code == "not_bound"
    with database.write() as db:
        zhang = db.scalars(select(Customer).where(Customer.name == "张伟")).one()
        db.add(ChannelBinding(channel="web", user_id="stalled", customer_id=zhang.id, bound_at=zhang.created_at))
    body = desk.set_slots(agent, stalled, {"amount": "100"}, True)
    assert body["state"]["missing_slots"] == [] and body["state"]["failed_step"] is None
    assert body["state"]["step"] == "collect" and body["state"]["slots"]["amount"] == "100"


def test_released_and_closed_sessions_refuse_further_writes(engine, desk, staff):
    session_id = _queued(engine)
    agent = staff("agent1")
    desk.accept(agent, session_id)
    desk.release(agent, session_id)
    with pytest.raises(Conflict) as info:
        desk.send(agent, session_id, "还在吗")
    assert info.value.code == "not_active"
    with pytest.raises(NotFound):
        desk.accept(agent, 999999)


def test_every_agent_action_is_audited(engine, desk, staff, database):
    session_id = _queued(engine)
    agent = staff("agent1")
    desk.accept(agent, session_id)
    desk.send(agent, session_id, "您好")
    desk.transfer(agent, session_id, "agent2")
    desk.close(staff("agent2"), session_id)
    with database.read() as db:
        rows = [(a.actor, a.action, a.target) for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]
    target = f"session:{session_id}"
    assert rows == [("agent1", "handoff.accept", target), ("agent1", "handoff.message", target),
                    ("agent1", "handoff.transfer", target), ("agent2", "handoff.close", target)]


def test_pushes_go_through_the_outbound_channel(engine, database, clock, staff):
    sent = []

    class FakeWeChat:
        def deliver(self, user_id, text):
            sent.append((user_id, text))

    outbound = OutboundRegistry()
    outbound.register("wechat", FakeWeChat())
    desk = HandoffDesk(database, LocalBus(), clock, outbound)
    session_id = engine.handle("wechat", "openid-1", "转人工").session_id
    agent = staff("agent1")
    desk.accept(agent, session_id)
    assert desk.send(agent, session_id, "您好")["pushed"] is True
    assert sent == [("openid-1", "客服小王已接入，正在为您服务。"), ("openid-1", "您好")]


def test_two_agents_accepting_at_once_on_postgresql_one_wins(postgres_url, parser, clock, policy):
    """Like two workers: separate pools, no shared in-process lock."""
    from chatbot.engine import Engine
    from chatbot.security.staff_auth import Staff
    from chatbot.storage.models import StaffUser

    databases = [Database(postgres_url), Database(postgres_url)]
    try:
        session_id = Engine(databases[0], parser, policy, clock=clock).handle("web", "race", "转人工").session_id
        with databases[0].read() as db:
            agents = [Staff(r.id, r.username, r.display_name, r.role) for r in
                      db.scalars(select(StaffUser).where(StaffUser.role == "agent").order_by(StaffUser.username))]
        desks = [HandoffDesk(d, LocalBus(), clock, OutboundRegistry()) for d in databases]
        outcomes = []

        def accept(i):
            try:
                outcomes.append(desks[i].accept(agents[i], session_id)["mode"])
            except Conflict as exc:
                outcomes.append(exc.code)

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["agent", "already_accepted"]
        with databases[0].read() as db:
            assert len(db.scalars(select(Handoff).where(Handoff.status == "active")).all()) == 1
    finally:
        for d in databases:
            d.dispose()
