"""The shared rate limiter behind code sends and identity checks: SQL, and Redis when configured."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chatbot.dialogue.steps import RESEND_EVERY
from chatbot.security.rate_limit import Limit, RedisRateLimiter, SqlRateLimiter

PER_DAY = Limit("test.day", 3, timedelta(days=1))


@pytest.fixture(params=["sql", "redis"])
def limiter(request):
    if request.param == "sql":
        return SqlRateLimiter("test-secret")
    return RedisRateLimiter("test-secret", request.getfixturevalue("redis_url"))


def test_one_code_a_minute_per_phone_and_kind(database, clock, limiter):
    key = f"13800138000-{id(limiter)}\x00transfer.create"
    with database.write() as db:
        assert limiter.take(db, RESEND_EVERY, key, clock.now()) is None
        assert limiter.take(db, RESEND_EVERY, key, clock.now()) == 60
        clock.advance(seconds=59)
        assert limiter.retry_after(db, RESEND_EVERY, key, clock.now()) == 1
        clock.advance(seconds=1)
        assert limiter.take(db, RESEND_EVERY, key, clock.now()) is None


def test_a_daily_cap_counts_a_sliding_day(database, clock, limiter):
    key = f"phone-{id(limiter)}"
    with database.write() as db:
        for _ in range(3):
            assert limiter.take(db, PER_DAY, key, clock.now()) is None
            clock.advance(hours=1)
        assert limiter.take(db, PER_DAY, key, clock.now()) == 21 * 3600
        assert limiter.take(db, PER_DAY, "another-phone", clock.now()) is None
        clock.advance(hours=21)
        assert limiter.take(db, PER_DAY, key, clock.now()) is None


def test_keys_hold_no_phone_number(limiter):
    assert "13800138000" not in limiter.key(PER_DAY, "13800138000")
