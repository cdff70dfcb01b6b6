"""Sliding-window rate limits shared by every worker: SQL by default, Redis when configured.

A limit counts events of one kind for one subject (a phone, a customer, a client address)
within a window. Subjects are keyed with an HMAC of the service secret, so no phone number
or address is stored in the clear. `SqlRateLimiter` counts rows of `rate_events` inside the
caller's transaction (a turn that rolls back counts nothing); `RedisRateLimiter` keeps a
sorted set per key, for deployments with several hosts and a busy database.

    limiter.retry_after(db, CODES_PER_PHONE, phone, now)  -> None, or seconds until allowed
    limiter.record(db, CODES_PER_PHONE, phone, now)        -> counts one event
    limiter.take(db, CODES_PER_PHONE, phone, now)          -> both: None when taken
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chatbot.storage.db import NeedsWriteTransaction
from chatbot.storage.models import RateEvent

_KEY_LABEL = b"chatbot.rate-limit.v1"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` events named `name` per subject within `window`."""

    name: str
    count: int
    window: timedelta


class RateLimiter(ABC):
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def key(self, limit: Limit, subject: str) -> str:
        digest = hmac.new(self._key, f"{limit.name}\x00{subject}".encode(), hashlib.sha256).hexdigest()
        return f"{limit.name[:40]}:{digest[:40]}"

    @abstractmethod
    def retry_after(self, db: Session | None, limit: Limit, subject: str, now: datetime) -> int | None:
        """None while under the limit, else whole seconds until the oldest counted event leaves."""

    @abstractmethod
    def record(self, db: Session | None, limit: Limit, subject: str, now: datetime) -> None:
        """Count one event now."""

    def take(self, db: Session | None, limit: Limit, subject: str, now: datetime) -> int | None:
        """Count one event if under the limit; otherwise the seconds to wait (nothing counted)."""
        wait = self.retry_after(db, limit, subject, now)
        if wait is None:
            self.record(db, limit, subject, now)
        return wait


class LookOnlyLimiter(RateLimiter):
    """The limiter of a turn answered in a read-only session: it may look, but counting is
    a write, so it raises `NeedsWriteTransaction` and the turn is redone in a write
    transaction (counting here as well would count the event twice)."""

    def __init__(self, inner: RateLimiter) -> None:
        self._inner = inner

    def key(self, limit: Limit, subject: str) -> str:
        return self._inner.key(limit, subject)

    def retry_after(self, db: Session | None, limit: Limit, subject: str, now: datetime) -> int | None:
        return self._inner.retry_after(db, limit, subject, now)

    def record(self, db: Session | None, limit: Limit, subject: str, now: datetime) -> None:
        raise NeedsWriteTransaction("rate limit")


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


class SqlRateLimiter(RateLimiter):
    """Counts rows of `rate_events` in the caller's transaction."""

    def retry_after(self, db: Session, limit: Limit, subject: str, now: datetime) -> int | None:
        key, since = self.key(limit, subject), now - limit.window
        count, oldest = db.execute(
            select(func.count(), func.min(RateEvent.created_at))
            .where(RateEvent.key == key, RateEvent.created_at > since)
        ).one()
        if count < limit.count:
            return None
        return _seconds(oldest + limit.window - now)

    def record(self, db: Session, limit: Limit, subject: str, now: datetime) -> None:
        db.add(RateEvent(key=self.key(limit, subject), created_at=now))
        db.flush()

    @staticmethod
    def purge(db: Session, before: datetime) -> int:
        """Forget events older than every window (housekeeping)."""
        return db.execute(delete(RateEvent).where(RateEvent.created_at < before)).rowcount


class RedisRateLimiter(RateLimiter):
    """A sorted set of event times per key; keys expire with their window.

    While Redis cannot be reached the limits are counted in the database instead (the
    `SqlRateLimiter` every deployment without Redis uses, shared by all workers): a code is
    never sent uncounted, and customers can still bind and confirm. Events counted in Redis
    before the outage are not seen by the database count (and the other way round once Redis
    is back), so around a switch a subject may get up to twice its limit, never more. The
    switch is logged once each way.
    """

    def __init__(self, secret_key: str, url: str) -> None:
        super().__init__(secret_key)
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors = redis.RedisError
        self.fallback = SqlRateLimiter(secret_key)
        self.degraded = False

    def retry_after(self, db, limit: Limit, subject: str, now: datetime) -> int | None:
        try:
            wait = self._redis_retry_after(limit, subject, now)
        except self._errors as exc:
            return self._fall_back(exc).retry_after(db, limit, subject, now)
        self._recovered()
        return wait

    def record(self, db, limit: Limit, subject: str, now: datetime) -> None:
        try:
            self._redis_record(limit, subject, now)
        except self._errors as exc:
            self._fall_back(exc).record(db, limit, subject, now)
            return
        self._recovered()

    def _redis_retry_after(self, limit: Limit, subject: str, now: datetime) -> int | None:
        key, stamp = "chatbot:rl:" + self.key(limit, subject), now.timestamp()
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(key, 0, stamp - limit.window.total_seconds())
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.zcard(key)
        _, oldest, count = pipe.execute()
        if count < limit.count:
            return None
        return _seconds(timedelta(seconds=oldest[0][1] + limit.window.total_seconds() - stamp))

    def _redis_record(self, limit: Limit, subject: str, now: datetime) -> None:
        key = "chatbot:rl:" + self.key(limit, subject)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {uuid.uuid4().hex: now.timestamp()})
        pipe.expire(key, _seconds(limit.window) + 1)
        pipe.execute()

    def _fall_back(self, exc: Exception) -> SqlRateLimiter:
        if not self.degraded:
            self.degraded = True
            log.warning("Redis unavailable for rate limits (%s); counting them in the database until it is back", exc)
        return self.fallback

    def _recovered(self) -> None:
        if self.degraded:
            self.degraded = False
            log.warning("Redis reachable again: rate limits are counted in Redis")


def make_rate_limiter(secret_key: str, redis_url: str | None) -> RateLimiter:
    """Redis when `CHATBOT_REDIS_URL` is set, else the shared database."""
    return RedisRateLimiter(secret_key, redis_url) if redis_url else SqlRateLimiter(secret_key)
