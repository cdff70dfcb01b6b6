"""The lean turn: answered from reads outside the write lock, stored only if nothing moved on.

See chatbot/engine.py and chatbot/storage/turns.py. What must hold whatever the path: one
turn-log row and one transcript line per message and reply, nothing done twice when a turn
is redone under the lock, and a conversation's turns applied one after another even when
two processes answer it at once.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select, update

import chatbot.dialogue.flows  # noqa: F401 (registers the flows)
from chatbot.dialogue.policy import DialoguePolicy
from chatbot.dialogue.turn import PolicyResult
from chatbot.engine import Engine
from chatbot.security.keys import phone_digest
from chatbot.storage import conversations
from chatbot.storage.db import Database, NeedsWriteTransaction
from chatbot.storage.models import ChatMessage, ChatSession, OneTimeCode, RateEvent, SmsMessage, TurnLog
from tests.test_engine import _count

ZHANG_ID = "110105199003071239"


class Recording:
    """The real policy, noting for each call whether it ran in a read-only session."""

    def __init__(self, before=None):
        self.inner = DialoguePolicy("test-secret", "http://testserver")
        self.read_only: list[bool] = []
        self.before = before

    def respond(self, ctx) -> PolicyResult:
        self.read_only.append(ctx.read_only)
        if self.before is not None:
            self.before(ctx)
        return self.inner.respond(ctx)


def test_a_read_only_session_reads_but_refuses_to_write_and_writes_nothing(backend, database, clock):
    with database.read_only() as db:
        assert db.scalar(select(func.count()).select_from(ChatSession)) == 0
        with pytest.raises(NeedsWriteTransaction):
            db.execute(update(RateEvent).values(key="x"))
    with database.read_only() as db:
        db.add(RateEvent(key="k", created_at=clock.now()))
        with pytest.raises(NeedsWriteTransaction):
            db.flush()
    if backend == "postgresql":  # a locking read is a write in disguise
        with database.read_only() as db, pytest.raises(NeedsWriteTransaction):
            db.execute(select(ChatSession).with_for_update())
    assert _count(database, RateEvent) == 0
    with database.write() as db:  # the connection went back to the pool writable
        db.execute(update(ChatSession).values(mode="bot"))


def test_a_question_in_an_open_session_is_answered_from_reads(backend, database, clock, parser):
    policy = Recording()
    engine = Engine(database, parser, policy, clock=clock)
    first = engine.handle("web", "q1", "你好")  # opens the session: under the lock
    again = engine.handle("web", "q1", "谢谢")
    assert policy.read_only == [False, True]
    assert again.session_id == first.session_id and again.state.intent == "thanks"
    assert _count(database, TurnLog, user_id="q1") == 2
    assert _count(database, ChatMessage, user_id="q1") == 4


def test_a_turn_that_must_write_is_redone_under_the_lock_and_does_everything_once(database, clock, parser):
    policy = Recording()
    engine = Engine(database, parser, policy, clock=clock)
    engine.handle("web", "b1", "你好")
    for text in ("绑定账户", "张伟", ZHANG_ID):  # the ID number sends a code: a write
        engine.handle("web", "b1", text)
    assert policy.read_only[-2:] == [True, False]  # tried read-only, then under the lock
    phone = phone_digest("test-secret", "13800138000")  # rows keep a keyed digest, not the number
    assert _count(database, SmsMessage, phone_hash=phone) == 1
    assert _count(database, OneTimeCode, phone_hash=phone) == 1
    assert _count(database, RateEvent) >= 1
    assert _count(database, TurnLog, user_id="b1") == 4


def test_a_change_left_for_the_commit_is_a_write_too(database, clock, parser):
    """A policy that changes a loaded row without flushing (the commit would write it)."""
    engine = Engine(database, parser, Recording(), clock=clock)
    engine.handle("web", "c1", "你好")

    def count_a_visit(ctx):
        session = ctx.db.get(ChatSession, ctx.session_id)
        session.created_at = ctx.now

    policy = Recording(before=count_a_visit)
    engine.policy = policy
    engine.handle("web", "c1", "谢谢")
    assert policy.read_only == [True, False]
    assert _count(database, TurnLog, user_id="c1") == 2


def test_a_session_that_moved_on_meanwhile_is_answered_again_under_the_lock(database, clock, parser):
    engine = Engine(database, parser, Recording(), clock=clock)
    engine.handle("web", "m1", "你好")

    def an_agent_takes_it_meanwhile(ctx):
        if ctx.read_only:  # what another process does between the read and the write
            with database.write() as db:
                db.get(ChatSession, ctx.session_id).state = {"active_flow": None, "not_understood": 2}

    policy = Recording(before=an_agent_takes_it_meanwhile)
    engine.policy = policy
    reply = engine.handle("web", "m1", "谢谢")
    assert policy.read_only == [True, False]
    assert reply.state.intent == "thanks"
    assert _count(database, TurnLog, user_id="m1") == 2
    assert _count(database, ChatMessage, user_id="m1") == 4  # the first answer was never stored


class _Counting:
    """Replies with the number of earlier turns it sees: under serial execution, 1..N once each."""

    def __init__(self):
        self.inner = DialoguePolicy("test-secret", "http://testserver")

    def respond(self, ctx) -> PolicyResult:
        seen = ctx.db.scalar(select(func.count()).select_from(TurnLog).where(TurnLog.user_id == ctx.user_id))
        time.sleep(0.02)  # long enough for the other engine to answer meanwhile
        return PolicyResult([f"第{seen + 1}条"], ctx.state, "answered")


def test_two_engines_apply_a_conversations_turns_one_after_another(backend, database_url, clock, parser):
    """Like two server processes (separate pools, no shared mutex) answering one user at once."""
    databases = [Database(database_url), Database(database_url)]
    engines = [Engine(db, parser, _Counting(), clock=clock) for db in databases]
    engines[0].handle("web", "both", "你好")
    threads = [threading.Thread(target=engines[i % 2].handle, args=("web", "both", f"消息{i}"))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with databases[0].read() as db:
        answers = sorted(db.scalars(select(ChatMessage.text).where(
            ChatMessage.user_id == "both", ChatMessage.sender == "bot")), key=lambda t: int(t[1:-1]))
    assert answers == [f"第{n}条" for n in range(1, 10)]
    for db in databases:
        db.dispose()


def test_sqlite_writers_of_other_processes_queue_on_the_lock_file(database):
    """Writers wait for each other in the kernel (fcntl) rather than in SQLite's busy handler."""
    with subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({database.url.database + '.lock'!r}, 'a+')\n"
        "fcntl.lockf(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(0.5)\n"
    )], stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with database.write() as db:
            db.execute(update(ChatSession).values(mode="bot"))
        waited = time.monotonic() - started
    assert waited >= 0.3


def test_a_store_waits_for_a_turn_under_the_lock_in_another_worker(backend, database_url, clock, parser,
                                                                   monkeypatch):
    """Worker A runs a turn under the lock (it must write) and has read the session; worker
    B answers the same customer from reads meanwhile. B's store must not slip in between
    A's read and A's write (found in review: on PostgreSQL A's write overwrote B's turn)."""
    databases = [Database(database_url), Database(database_url)]
    a_has_read, b_tried = threading.Event(), threading.Event()
    original = conversations.open_session

    def open_session(db, *args):
        session = original(db, *args)
        if threading.current_thread().name == "worker-a":
            a_has_read.set()
            b_tried.wait(2)  # B's store comes now, if it can
        return session

    monkeypatch.setattr(conversations, "open_session", open_session)

    class Noting:
        def __init__(self, name, must_write):
            self.name, self.must_write = name, must_write

        def respond(self, ctx):
            if ctx.read_only and self.must_write:
                raise NeedsWriteTransaction("a code to send")
            ctx.state.slots["turns"] = [*ctx.state.slots.get("turns", []), self.name]
            return PolicyResult([self.name], ctx.state, "answered")

    a = Engine(databases[0], parser, Noting("a", must_write=True), clock=clock)
    b = Engine(databases[1], parser, Noting("b", must_write=False), clock=clock)
    b.handle("web", "raced", "你好")
    worker_a = threading.Thread(target=a.handle, args=("web", "raced", "一"), name="worker-a")
    worker_a.start()
    assert a_has_read.wait(5)
    worker_b = threading.Thread(target=b.handle, args=("web", "raced", "二"))
    worker_b.start()
    worker_b.join(1)
    b_tried.set()
    worker_a.join()
    worker_b.join()
    with databases[0].read() as db:
        state = db.scalars(select(ChatSession.state).where(ChatSession.user_id == "raced")).one()
    assert sorted(state["slots"]["turns"]) == ["a", "b", "b"]
    for database in databases:
        database.dispose()
