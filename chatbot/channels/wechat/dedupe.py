"""The 5-second rule: one run per WeChat message; retries are answered from that run.

WeChat waits 5 seconds for a reply and sends the same message again, up to 3 times. Every
request (first or retry) claims the message's key; only the one that wins runs it. Then every
request waits for the answer until its own deadline. The states of a key:

    pending   claimed, the run is working
    done      the answer is ready: whoever asks replies with it passively
    late      a request stopped waiting and answered `success`: the run must push the answer
    pushed    the run finished after that and pushed the answer; later retries say `success`

`MemoryDedupe` serves one process; `RedisDedupe` shares the keys between workers and hosts
(each transition is one Lua script, so two workers never both push or both run).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

import redis

log = logging.getLogger(__name__)

State = Literal["pending", "done", "late", "pushed"]
KEEP_SECONDS = 600  # WeChat's retries end ~15 s after the first try; the turn log guards beyond


@dataclass(frozen=True)
class Outcome:
    state: State
    answer: str | None = None


class Dedupe(Protocol):
    def claim(self, key: str) -> bool:
        """True for the first request of this message: it must run it."""

    def wait(self, key: str, timeout: float) -> Outcome:
        """The key's state once it is no longer pending, or `pending` at the deadline."""

    def give_up(self, key: str) -> str | None:
        """Stop waiting: pending -> late (returns None), or the answer if it is already done."""

    def finish(self, key: str, answer: str) -> bool:
        """Store the run's answer; True when someone gave up waiting and it must be pushed."""


class MemoryDedupe:
    """Keys of one process, guarded by a condition variable."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._cond = threading.Condition()
        self._entries: dict[str, tuple[State, str | None, float]] = {}

    def claim(self, key: str) -> bool:
        with self._cond:
            self._forget_expired()
            if key in self._entries:
                return False
            self._entries[key] = ("pending", None, time.monotonic() + self.keep_seconds)
            return True

    def wait(self, key: str, timeout: float) -> Outcome:
        with self._cond:
            self._cond.wait_for(lambda: self._state(key) != "pending", timeout)
            state, answer, _ = self._entries.get(key, ("late", None, 0.0))
            return Outcome(state, answer if state == "done" else None)

    def give_up(self, key: str) -> str | None:
        with self._cond:
            state, answer, expires = self._entries.get(key, ("late", None, 0.0))
            if state == "pending":
                self._entries[key] = ("late", None, expires)
            return answer if state == "done" else None

    def finish(self, key: str, answer: str) -> bool:
        with self._cond:
            state = self._state(key)
            new: State = "pushed" if state == "late" else "done"
            self._entries[key] = (new, answer, time.monotonic() + self.keep_seconds)
            self._cond.notify_all()
            return new == "pushed"

    def _state(self, key: str) -> State | None:
        entry = self._entries.get(key)
        return entry[0] if entry else None

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, _, expires) in self._entries.items() if expires < now]:
            del self._entries[key]


_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', 'pending')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""
_GIVE_UP = """
local s = redis.call('HGET', KEYS[1], 's')
if s == 'pending' then redis.call('HSET', KEYS[1], 's', 'late') return false end
if s == 'done' then return redis.call('HGET', KEYS[1], 'a') end
return false
"""
_FINISH = """
local s = redis.call('HGET', KEYS[1], 's')
local new = 'done'
if s == 'late' then new = 'pushed' end
redis.call('HSET', KEYS[1], 's', new, 'a', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if new == 'pushed' then return 1 end
return 0
"""


class RedisDedupe:
    """Keys shared by all workers through Redis; falls back to this process if Redis fails.

    The fallback keeps customers answered while Redis is down; the engine's turn log (one row
    per channel, user and message id) still prevents a message from being processed twice.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "chatbot:wechat:msg:",
                 keep_seconds: int = KEEP_SECONDS, poll_seconds: float = 0.02) -> None:
        self.client = client
        self.prefix = prefix
        self.keep_seconds = keep_seconds
        self.poll_seconds = poll_seconds
        self._claim = client.register_script(_CLAIM)
        self._give_up = client.register_script(_GIVE_UP)
        self._finish = client.register_script(_FINISH)
        self._local = MemoryDedupe(keep_seconds)

    def claim(self, key: str) -> bool:
        try:
            return bool(self._claim(keys=[self.prefix + key], args=[self.keep_seconds]))
        except redis.RedisError as exc:
            log.error("Redis unavailable for WeChat dedupe (%s); deduplicating in this worker only", exc)
            return self._local.claim(key)

    def wait(self, key: str, timeout: float) -> Outcome:
        deadline = time.monotonic() + timeout
        try:
            while True:
                state, answer = self.client.hmget(self.prefix + key, "s", "a")
                state = state.decode() if state else "late"  # gone: nothing left to wait for
                if state != "pending" or time.monotonic() >= deadline:
                    return Outcome(state, answer.decode() if state == "done" and answer is not None else None)
                time.sleep(min(self.poll_seconds, max(deadline - time.monotonic(), 0)))
        except redis.RedisError:
            return self._local.wait(key, max(deadline - time.monotonic(), 0))

    def give_up(self, key: str) -> str | None:
        try:
            answer = self._give_up(keys=[self.prefix + key])
        except redis.RedisError:
            return self._local.give_up(key)
        return answer.decode() if answer is not None else None

    def finish(self, key: str, answer: str) -> bool:
        try:
            return bool(self._finish(keys=[self.prefix + key], args=[answer, self.keep_seconds]))
        except redis.RedisError as exc:
            log.error("Redis unavailable while storing a WeChat answer (%s)", exc)
            return self._local.finish(key, answer)
