"""Engine spine: sessions, turn log, idempotent message ids, serialized conversations."""
import threading
import time

import pytest
from sqlalchemy import func, select

import chatbot.dialogue.flows  # noqa: F401 (registers the flows)
from chatbot.dialogue.policy import DialoguePolicy
from chatbot.dialogue.turn import PolicyResult
from chatbot.engine import Engine
from chatbot.errors import InvalidInput
from chatbot.storage.db import Database
from chatbot.storage.models import ChatMessage, TurnLog


@pytest.fixture
def engine(database, clock, parser):
    return Engine(database, parser, DialoguePolicy("test-secret", "http://testserver"), clock=clock)


def _count(database, model, **where):
    with database.read() as db:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.scalar(query)


def test_greeting_is_answered_and_logged(engine, database):
    reply = engine.handle("web", "u1", "你好")
    assert "您好" in reply.text
    assert reply.state.mode == "bot" and reply.state.intent == "greet"
    with database.read() as db:
        turn = db.scalars(select(TurnLog)).one()
        assert (turn.intent, turn.outcome, turn.session_id) == ("greet", "answered", reply.session_id)
        senders = list(db.scalars(select(ChatMessage.sender).order_by(ChatMessage.id)))
    assert senders == ["user", "bot"]


def test_out_of_scope_is_declined_politely(engine):
    reply = engine.handle("web", "u2", "今天天气怎么样")
    assert reply.state.intent == "out_of_scope"
    assert "回答不了" in reply.text and "转账" in reply.text


def test_repeated_message_id_is_answered_once(engine, database):
    first = engine.handle("web", "u3", "你好", message_id="m-1")
    again = engine.handle("web", "u3", "你好", message_id="m-1")
    assert again.replayed and again.to_dict() == first.to_dict()
    assert _count(database, TurnLog, user_id="u3") == 1
    assert _count(database, ChatMessage, user_id="u3") == 2
    engine.handle("web", "u3", "你好", message_id="m-2")
    assert _count(database, TurnLog, user_id="u3") == 2


def test_same_message_id_of_another_user_is_a_new_message(engine, database):
    engine.handle("web", "u4", "你好", message_id="same")
    engine.handle("web", "u5", "你好", message_id="same")
    assert _count(database, TurnLog) == 2


def test_sensitive_numbers_are_masked_in_messages_and_turn_log(engine, database):
    engine.handle("web", "u6", "我的身份证110105199003071239 手机13800138000")
    with database.read() as db:
        stored = " ".join(db.scalars(select(ChatMessage.text))) + " ".join(db.scalars(select(TurnLog.text)))
        entities = str(db.scalars(select(TurnLog.entities)).all())
    for secret in ("110105199003071239", "13800138000"):
        assert secret not in stored and secret not in entities
    assert "1101**********1239" in stored


@pytest.mark.parametrize(("channel", "user", "text", "code"), [
    ("web", "u7", "", "empty_text"),
    ("web", "u7", "   ", "empty_text"),
    ("web", "u7", "长" * 501, "text_too_long"),
    ("fax", "u7", "你好", "invalid_channel"),
    ("web", "", "你好", "invalid_user_id"),
])
def test_bad_input_is_refused_and_stores_nothing(engine, database, channel, user, text, code):
    with pytest.raises(InvalidInput) as info:
        engine.handle(channel, user, text)
    assert info.value.code == code
    assert _count(database, ChatMessage) == 0


def test_idle_session_expires_and_a_new_one_starts(engine, clock):
    first = engine.handle("web", "u8", "你好")
    clock.advance(minutes=31)
    assert engine.handle("web", "u8", "你好").session_id != first.session_id


class _SlowPolicy:
    """Records how many turns of the same conversation run at the same time."""

    def __init__(self):
        self.inner = DialoguePolicy("test-secret", "http://testserver")
        self.active = 0
        self.peak = 0
        self.guard = threading.Lock()

    def respond(self, ctx) -> PolicyResult:
        with self.guard:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.05)
        with self.guard:
            self.active -= 1
        return self.inner.respond(ctx)


def _fire(engines, user, count):
    threads = [threading.Thread(target=engines[i % len(engines)].handle, args=("web", user, "你好"))
               for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_messages_of_one_conversation_are_serialized(backend, database_url, clock, parser):
    policy = _SlowPolicy()
    database = Database(database_url)
    engine = Engine(database, parser, policy, clock=clock)
    _fire([engine], "same-user", 6)
    assert policy.peak == 1
    assert _count(database, TurnLog, user_id="same-user") == 6
    database.dispose()


# Two engines (two processes) answering one conversation at once: tests/test_engine_turns.py
# (their policies may overlap; their turns are applied one after another).


def test_different_conversations_run_in_parallel_on_postgresql(postgres_url, clock, parser):
    policy = _SlowPolicy()
    database = Database(postgres_url)
    engine = Engine(database, parser, policy, clock=clock)
    threads = [threading.Thread(target=engine.handle, args=("web", f"user-{i}", "你好")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert policy.peak > 1
    database.dispose()
