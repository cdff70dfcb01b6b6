"""CHATBOT_REDIS_URL pointing at a port where nothing listens: the service degrades to one
process (events delivered in this worker, WeChat dedupe and access token per worker, code
limits counted in the database) with a logged warning, and every request still answers 2xx."""
from __future__ import annotations

import logging

import pytest

from chatbot.nlu import model_watch
from chatbot.settings import Settings
from tests.channels.conftest import TOKEN, WeChatSender

BOUND = ("110105199003071239", "13800138000")  # 张伟 of the demo bank


@pytest.fixture
def redis_down_url(free_port) -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # bound once and closed: refused at once


@pytest.fixture
def down(database_url, model_dir, redis_down_url, clock, intent_model, knowledge_desk, caplog):
    from api.app import create_app
    from chatbot.service import build_services
    from tests.conftest import web_client_class

    caplog.set_level(logging.WARNING)
    settings = Settings(env="sandbox", database_url=database_url, model_dir=model_dir, redis_url=redis_down_url,
                        wechat_token=TOKEN, notify_interval_seconds=0, news_push_interval_seconds=0)
    services = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    with web_client_class()(create_app(services=services)) as client:
        yield client, services
    services.close()


def say(client, user, text) -> dict:
    response = client.post("/v1/chat", json={"user_id": user, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def text_of(reply) -> str:
    return " ".join(r["text"] if isinstance(r, dict) else r for r in reply["replies"])


def test_chat_agents_wechat_and_promotion_answer_without_redis(down, clock, caplog):
    client, services = down
    assert "您好" in text_of(say(client, "w-redis", "你好"))
    # A code is sent: the limits count in the database instead of Redis.
    say(client, "w-redis", "查一下余额")
    say(client, "w-redis", "张伟")
    assert "验证码" in text_of(say(client, "w-redis", BOUND[0]))
    codes = client.get("/v1/sandbox/sms", params={"phone": BOUND[1]}).json()["messages"]
    assert len(codes) == 1

    queued = say(client, "w-queue", "转人工")
    assert queued["state"]["mode"] == "queued"
    login = client.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"})
    assert login.status_code == 200, login.text
    agent = {"Authorization": f"Bearer {login.json()['token']}"}
    session_id = queued["session_id"]
    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    sent = client.post(f"/v1/agent/sessions/{session_id}/messages", headers=agent, json={"text": "您好，我是客服"})
    assert sent.status_code == 200, sent.text
    history = client.get("/v1/chat/history", params={"user_id": "w-queue"}).json()["messages"]
    assert history[-1]["text"] == "您好，我是客服"

    wx = WeChatSender(client, clock)
    for attempt in range(2):  # WeChat's retry of the same message is answered from the first run
        reply = wx.reply(wx.post(wx.text("o-redis", "你好", 4242)))
        assert "您好" in reply["Content"]

    # A promotion's announcement (POST /v1/admin/models/{v}/promote, `chatbot models promote`):
    # delivered in this worker, no error; the others notice the pointer file when they poll.
    model_watch.announce(services.handoff.events, "v-test")
    assert model_watch.announce_via_redis(services.settings.redis_url, "v-test") is False

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("Redis" in w for w in warnings)


def test_code_limits_are_counted_in_the_database_while_redis_is_down(database, redis_down_url, clock, caplog):
    from datetime import timedelta

    from chatbot.security.rate_limit import Limit, RedisRateLimiter

    limiter, limit = RedisRateLimiter("k" * 32, redis_down_url), Limit("codes_per_phone", 2, timedelta(hours=1))
    with database.write() as db:
        assert [limiter.take(db, limit, "13800138000", clock.now()) for _ in range(3)][:2] == [None, None]
    with database.write() as db:
        assert limiter.take(db, limit, "13800138000", clock.now()) > 0  # refused: never unlimited
    assert limiter.degraded
    assert sum("counting them in the database" in r.getMessage() for r in caplog.records) == 1
