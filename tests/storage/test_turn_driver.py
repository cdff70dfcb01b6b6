"""The turn's read and store on the driver's connection (chatbot/storage/turn_driver.py).

What the driver writes must be exactly what the ORM writes and reads back (JSON columns,
UTC datetimes, transcript order), a store against a session that moved on must write
nothing at all, and a lost connection is a 503 that the next turn recovers from.
"""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import select, text

from chatbot.errors import ServiceUnavailable
from chatbot.storage.db import Database
from chatbot.storage import conversations, turns
from chatbot.storage.models import ChannelBinding, ChatMessage, ChatSession, Customer, TurnLog


def _open_conversation(database, clock, user_id: str, *, bound: bool) -> None:
    with database.write() as db:
        conversations.open_session(db, "web", user_id, clock.now(), timedelta(minutes=30))
        if bound:
            customer_id = db.scalars(select(Customer.id).order_by(Customer.id)).first()
            db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer_id,
                                  bound_at=clock.now() - timedelta(minutes=5), last_used_at=None))


def _read(database, user_id: str, message_id: str | None = None) -> turns.Conversation:
    with database.driver_connection() as connection:
        return database.turns.read(connection, "web", user_id, message_id)


def _answered(conversation: turns.Conversation, user_id: str, message_id: str) -> turns.AnsweredTurn:
    return turns.AnsweredTurn(
        conversation, "web", user_id, {"active_flow": None, "slots": {"金额": "100.00"}},
        "余额多少", ["您的余额如下：", "活期 **** 1234：8,000.00 元", "还有什么可以帮您？"],
        dict(channel="web", user_id=user_id, message_id=message_id, text_digest="d" * 64, text="余额多少",
             intent="account.balance", confidence=0.97, entities=[{"type": "account", "value": "活期"}],
             outcome="answered", steps=[{"action": "balance"}],
             replies=["您的余额如下：", {"type": "card", "text": "活期", "rows": [{"label": "余额", "value": "8,000.00"}]}],
             state={"mode": "bot", "intent": "account.balance", "active_flow": None},
             ranking=[{"name": "account.balance", "confidence": 0.97}]))


def test_a_stored_turn_reads_back_through_the_orm_as_written(backend, database, clock):
    _open_conversation(database, clock, "drv1", bound=True)
    conversation = _read(database, "drv1")
    assert conversation.session is not None and conversation.binding is not None
    assert conversation.session.last_active_at.tzinfo is not None
    now = clock.now() + timedelta(seconds=3)
    with database.driver_connection(writing=True) as connection:
        assert database.turns.store(connection, _answered(conversation, "drv1", "m-1"), now, 4.5,
                                     now + timedelta(milliseconds=7))

    with database.read() as db:
        session = db.scalars(select(ChatSession).where(ChatSession.user_id == "drv1")).one()
        assert session.version == conversation.session.version + 1
        assert session.state == {"active_flow": None, "slots": {"金额": "100.00"}}
        assert session.last_active_at == now and session.customer_id == conversation.customer_id
        lines = db.scalars(select(ChatMessage).where(ChatMessage.user_id == "drv1").order_by(ChatMessage.id)).all()
        assert [(line.sender, line.text) for line in lines] == [
            ("user", "余额多少"), ("bot", "您的余额如下："), ("bot", "活期 **** 1234：8,000.00 元"),
            ("bot", "还有什么可以帮您？")]
        assert all(line.created_at == now and line.session_id == session.id for line in lines)
        row = db.scalars(select(TurnLog).where(TurnLog.user_id == "drv1")).one()
        assert row.created_at == now + timedelta(milliseconds=7) and row.created_at.tzinfo is not None
        assert row.replies[1]["rows"] == [{"label": "余额", "value": "8,000.00"}]
        assert row.entities == [{"type": "account", "value": "活期"}] and row.steps == [{"action": "balance"}]
        assert row.ranking == [{"name": "account.balance", "confidence": 0.97}]
        assert (row.latency_ms, row.confidence, row.message_id) == (4.5, 0.97, "m-1")
        binding = db.scalars(select(ChannelBinding).where(ChannelBinding.user_id == "drv1")).one()
        assert binding.last_used_at == now

    again = _read(database, "drv1", "m-1")  # the retry of m-1 finds its stored answer
    assert again.earlier is not None and again.earlier.replies[0] == "您的余额如下："
    assert again.earlier.state["intent"] == "account.balance"
    assert again.session.last_active_at.astimezone(timezone.utc) == now


def test_a_store_against_a_session_that_moved_on_writes_nothing(backend, database, clock):
    _open_conversation(database, clock, "drv2", bound=False)
    conversation = _read(database, "drv2")
    with database.write() as db:  # another worker's turn under the lock meanwhile
        db.scalars(select(ChatSession).where(ChatSession.user_id == "drv2")).one().state = {"moved": True}
    with database.driver_connection(writing=True) as connection:
        assert not database.turns.store(connection, _answered(conversation, "drv2", "m-2"), clock.now(), 1.0,
                                         clock.now())
    with database.read() as db:
        assert db.scalars(select(ChatSession.state).where(ChatSession.user_id == "drv2")).one() == {"moved": True}
        assert db.scalars(select(ChatMessage).where(ChatMessage.user_id == "drv2")).all() == []
        assert db.scalars(select(TurnLog).where(TurnLog.user_id == "drv2")).all() == []


def test_a_user_with_nothing_yet_reads_as_an_empty_conversation(backend, database):
    conversation = _read(database, "never-seen", "m-0")
    assert (conversation.session, conversation.binding, conversation.earlier) == (None, None, None)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_restarted_server_costs_one_503_not_one_per_pooled_connection(backend, database_url, database, clock):
    """Found in review: only the failing connection was replaced, so after a restart every
    other pooled connection failed its next turn too."""
    _open_conversation(database, clock, "drv3", bound=False)
    lent = [database.engine.raw_connection() for _ in range(4)]  # four connections in the pool
    pids = [pooled.dbapi_connection.info.backend_pid for pooled in lent]
    for pooled in lent:
        pooled.close()
    other = Database(database_url)  # the server ends them all (a restart, a failover)
    with other.write() as db:
        for pid in pids:
            db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    with pytest.raises(ServiceUnavailable):
        _read(database, "drv3")
    for _ in range(4):  # every later turn gets a live connection
        assert _read(database, "drv3").session is not None


def test_a_statement_missing_a_value_raises_instead_of_binding_a_placeholder():
    from sqlalchemy.dialects import sqlite

    from chatbot.storage.turn_driver import DriverStatement

    add_message = DriverStatement(turns.ADD_MESSAGES, sqlite.dialect(),
                                  column_keys=["session_id", "channel", "user_id", "sender", "text", "created_at"])
    values = {"session_id": 1, "channel": "web", "user_id": "u", "sender": "user", "text": "你好"}
    with pytest.raises(KeyError, match="created_at"):
        add_message.parameters(values)
    move = DriverStatement(turns.MOVE_SESSION_ON, sqlite.dialect())  # its literal ('bot', 'open') kept
    assert "bot" in move.parameters({"read_id": 1, "read_version": 0, "new_state": {}, "now": None,
                                     "new_customer_id": None})
