"""The handoff desk against a real database, with a scripted policy so the tests say
exactly when a person is requested (the real policy's triggers are tested in tests/dialogue).
"""
from __future__ import annotations

import json
import queue
import socket
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from chatbot.channels.outbound import OutboundRegistry
from chatbot.dialogue.agent_edits import SlotEditor
from chatbot.dialogue.state import DialogueState
from chatbot.dialogue.turn import HandoffRequest, PolicyResult
from chatbot.engine import Engine
from chatbot.handoff.desk import HandoffDesk
from chatbot.handoff.events import LocalBus
from chatbot.security.staff_auth import Staff
from chatbot.storage.models import StaffUser


class ScriptedPolicy:
    """`转人工` / `投诉` ask for a person; `开始转账` stalls a transfer at the OTP step and
    asks for one; anything else is echoed. Counts its calls (the bot must stay out)."""

    def __init__(self) -> None:
        self.calls = 0

    def respond(self, ctx) -> PolicyResult:
        self.calls += 1
        text, state = ctx.parse.text, ctx.state
        if "投诉" in text:
            return PolicyResult(["非常抱歉给您带来不便，正在为您安排人工客服。"], state, "handoff",
                                handoff=HandoffRequest("complaint", 10))
        if "转人工" in text:
            return PolicyResult([], state, "handoff", handoff=HandoffRequest("human_request"))
        if text.startswith("开始转账"):
            _stall_transfer(state)
            return PolicyResult(["看起来办理遇到了困难，正在为您转接人工客服。"], state, "flow_failed",
                                handoff=HandoffRequest("flow_failed", 5))
        return PolicyResult([f"机器人：{text}"], state, "answered")


def _stall_transfer(state: DialogueState) -> None:
    state.active_flow, state.step = "transfer.create", "otp"
    state.slots = {"payee": {"name": "李娜", "account_no": "6222021000708888", "in_book": True},
                   "amount": "2500.00", "from_tail": "1234", "_risk": []}
    state.missing_slots, state.failed_step = ["otp"], "otp"


class Recorder:
    """Collects every event of a bus (all audiences)."""

    def __init__(self, bus, keys=("agents",)) -> None:
        self.events = []
        self.subscription = bus.subscribe(set(keys), self.events.append)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def record(bus):
    """`record(keys)` -> a Recorder of the events for those audience keys."""
    return lambda keys=("agents",): Recorder(bus, keys)


@pytest.fixture
def bus() -> LocalBus:
    return LocalBus()


@pytest.fixture
def policy() -> ScriptedPolicy:
    return ScriptedPolicy()


@pytest.fixture
def engine(database, parser, clock, policy, bus) -> Engine:
    return Engine(database, parser, policy, clock=clock, events=bus)


@pytest.fixture
def desk(database, clock, bus, parser) -> HandoffDesk:
    return HandoffDesk(database, bus, clock, OutboundRegistry(), default_capacity=3,
                       slot_editor=SlotEditor(parser, "test-secret"))


@pytest.fixture
def staff(database):
    """`staff("agent1")` -> the Staff of a seeded login."""

    def load(username: str) -> Staff:
        with database.read() as db:
            row = db.scalars(select(StaffUser).where(StaffUser.username == username)).one()
            return Staff(row.id, row.username, row.display_name, row.role)

    return load


# --- live servers and event streams ------------------------------------------------------------

class EventReader:
    """Reads an event stream over a plain socket in a thread (closing it is a real disconnect);
    `next(type, **fields)` waits for the next matching event."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        parsed = httpx.URL(url)
        self.events: queue.Queue = queue.Queue()
        self.sock = socket.create_connection((parsed.host, parsed.port), timeout=10)
        lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.hello = self.next("ready")

    def _run(self):
        buffer, kind = b"", None
        try:
            while chunk := self.sock.recv(4096):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:  # chunk-size lines of the HTTP framing are skipped
                    line = raw.rstrip(b"\r").decode()
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.put({"type": kind, **json.loads(line[5:])})
        except OSError:  # closed by the test
            pass

    def next(self, kind: str, timeout: float = 5.0, **match) -> dict:
        """The next event of type `kind` whose fields equal `match` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def close(self):
        if self.sock.fileno() == -1:
            return
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def event_reader():
    """`event_reader(url, headers)` -> an EventReader, closed after the test."""
    readers = []

    def open_reader(url: str, headers: dict | None = None) -> EventReader:
        readers.append(EventReader(url, headers))
        return readers[-1]

    yield open_reader
    for reader in readers:
        reader.close()


@pytest.fixture
def bearer():
    """`bearer(base_url, "agent1")` -> the Authorization header of a sandbox staff login."""

    def login(base: str, username: str) -> dict:
        response = httpx.post(f"{base}/v1/auth/login",
                              json={"username": username, "password": f"{username}-sandbox"}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return login


@pytest.fixture
def web_user():
    """`web_user(base_url, user_id)` -> the Authorization header of a web chat user, earned
    with a first message (as the chat page does) before its event stream is opened."""

    def claim(base: str, user_id: str) -> dict:
        response = httpx.post(f"{base}/v1/chat", json={"user_id": user_id, "text": "你好"}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['user_token']}"}

    return claim
