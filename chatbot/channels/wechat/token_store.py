"""Where the access token lives between calls, and who may refresh it.

WeChat's `/cgi-bin/token` hands out a new token and retires the previous one, so workers that
each fetched their own would keep invalidating one another. The store is shared (Redis when
configured) and a refresh lock lets exactly one worker fetch; the others wait and read the
token it stored. Like wechatpy's `session=`, the store is passed in: memory or Redis.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis

from chatbot.channels.wechat.errors import WeChatApiError

log = logging.getLogger(__name__)


class TokenStore(Protocol):
    def get(self) -> str | None:
        """The stored token, or None when there is none or it is about to expire."""

    def put(self, token: str, ttl_seconds: float) -> None:
        """Keep `token` for `ttl_seconds` (already shortened by the refresh margin)."""

    def refresh_lock(self, timeout: float) -> AbstractContextManager[None]:
        """Held by the one worker that fetches a new token."""


class MemoryTokenStore:
    """A token for this process only (one worker, tests, Redis outages)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> str | None:
        return self._token if self._token and self._clock() < self._expires else None

    def put(self, token: str, ttl_seconds: float) -> None:
        self._token, self._expires = token, self._clock() + ttl_seconds

    @contextmanager
    def refresh_lock(self, timeout: float) -> Iterator[None]:
        if not self._lock.acquire(timeout=timeout):
            raise WeChatApiError("等待 access_token 刷新超时")
        try:
            yield
        finally:
            self._lock.release()


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTokenStore:
    """One token for all workers; the refresh lock is `SET NX PX` with an owner id."""

    def __init__(self, client: redis.Redis, appid: str, *, lock_seconds: float = 30.0,
                 poll_seconds: float = 0.05) -> None:
        self.client = client
        self.key = f"chatbot:wechat:access_token:{appid}"
        self.lock_key = self.key + ":refresh"
        self.lock_seconds = lock_seconds
        self.poll_seconds = poll_seconds
        self._release = client.register_script(_RELEASE)
        self._local = MemoryTokenStore()

    def get(self) -> str | None:
        try:
            value = self.client.get(self.key)
        except redis.RedisError as exc:
            log.error("Redis unavailable for the WeChat access token (%s); using this worker's copy", exc)
            return self._local.get()
        return value.decode() if value else None

    def put(self, token: str, ttl_seconds: float) -> None:
        self._local.put(token, ttl_seconds)
        try:
            self.client.set(self.key, token, px=max(int(ttl_seconds * 1000), 1))
        except redis.RedisError as exc:
            log.error("Redis unavailable for storing the WeChat access token (%s)", exc)

    @contextmanager
    def refresh_lock(self, timeout: float) -> Iterator[None]:
        owner = uuid.uuid4().hex
        try:
            self._acquire(owner, timeout)
        except redis.RedisError as exc:
            log.error("Redis unavailable for the token refresh lock (%s); locking in this worker", exc)
            with self._local.refresh_lock(timeout):
                yield
            return
        try:
            yield
        finally:
            try:
                self._release(keys=[self.lock_key], args=[owner])
            except redis.RedisError as exc:  # the lock expires by itself
                log.warning("could not release the token refresh lock (%s)", exc)

    def _acquire(self, owner: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.client.set(self.lock_key, owner, nx=True, px=int(self.lock_seconds * 1000)):
            if time.monotonic() >= deadline:
                raise WeChatApiError("等待其他进程刷新 access_token 超时")
            time.sleep(self.poll_seconds)
