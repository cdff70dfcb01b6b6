"""WeChat's API client against the fake server: token cache and refresh, retries, sending."""
import logging
import threading

import pytest
from sqlalchemy import select

from chatbot.channels.wechat.api_client import Retry, WeChatApi
from chatbot.channels.wechat.errors import WeChatApiError
from chatbot.channels.wechat.outbound import split_text
from chatbot.channels.wechat.setup import build_api
from chatbot.channels.wechat.token_store import MemoryTokenStore, RedisTokenStore
from chatbot.storage.models import AuditLog


@pytest.fixture
def api(settings):
    client = build_api(settings)
    yield client
    client.close()


def texts(fake):
    return [m["text"]["content"] for m in fake.custom_messages]


def test_token_is_fetched_once_and_cached(api, fake_wechat):
    api.send_text("o-1", "第一条")
    api.send_text("o-1", "第二条")
    assert fake_wechat.tokens_issued == ["TOKEN-1"]
    assert texts(fake_wechat) == ["第一条", "第二条"]


def test_token_is_refreshed_shortly_before_it_expires(settings, fake_wechat):
    now = [1000.0]
    api = WeChatApi.from_settings(settings, MemoryTokenStore(clock=lambda: now[0]))
    try:
        api.send_text("o-1", "a")
        now[0] += 7200 - 301  # still valid for 5 minutes and 1 second
        api.send_text("o-1", "b")
        assert len(fake_wechat.tokens_issued) == 1
        now[0] += 2  # inside the refresh margin: fetch a new one before WeChat expires it
        api.send_text("o-1", "c")
        assert len(fake_wechat.tokens_issued) == 2
    finally:
        api.close()


def test_expired_token_is_refreshed_once_and_the_call_retried(api, fake_wechat):
    api.send_text("o-1", "before")
    fake_wechat.expire_tokens()  # WeChat answers 42001 to the cached token
    api.send_text("o-1", "after")
    assert fake_wechat.tokens_issued == ["TOKEN-1", "TOKEN-2"]
    assert texts(fake_wechat) == ["before", "after"]


def test_invalid_credential_40001_triggers_one_refresh(api, fake_wechat):
    api.send_text("o-1", "warm-up")
    fake_wechat.reject_token_once = True
    api.send_text("o-1", "again")
    assert len(fake_wechat.tokens_issued) == 2 and texts(fake_wechat) == ["warm-up", "again"]


def test_a_token_rejected_twice_is_not_refreshed_forever(api, fake_wechat):
    fake_wechat.errcodes_next = [40001, 40001]
    with pytest.raises(WeChatApiError) as caught:
        api.send_text("o-1", "x")
    assert caught.value.errcode == 40001 and len(fake_wechat.tokens_issued) == 2


def test_server_errors_are_retried_with_backoff(settings, fake_wechat):
    pauses = []
    api = WeChatApi.from_settings(settings, MemoryTokenStore(), sleep=pauses.append)
    try:
        fake_wechat.http_errors_next = [500, 502]  # the token request fails twice
        api.access_token()
        fake_wechat.http_errors_next = [503]
        fake_wechat.errcodes_next = [-1]  # 系统繁忙, retried too
        api.send_text("o-1", "eventually")
        assert texts(fake_wechat) == ["eventually"]
        assert pauses == [0.01, 0.02, 0.01, 0.02]  # doubling from CHATBOT_WECHAT_API_BACKOFF_SECONDS
    finally:
        api.close()


def test_unreachable_api_fails_after_its_attempts(settings):
    pauses = []
    api = WeChatApi("http://127.0.0.1:9", "wx1", "s", MemoryTokenStore(), timeout=1,
                    retry=Retry(3, 0.01), sleep=pauses.append)
    try:
        with pytest.raises(WeChatApiError, match="暂时不可用"):
            api.send_text("o-1", "x")
        assert pauses == [0.01, 0.02]
    finally:
        api.close()


def test_wrong_secret_is_a_clear_error(settings, fake_wechat):
    api = build_api(settings.model_copy(update={"wechat_secret": "wrong"}))
    try:
        with pytest.raises(WeChatApiError) as caught:
            api.send_text("o-1", "x")
        assert caught.value.errcode == 40125 and fake_wechat.custom_messages == []
    finally:
        api.close()


def test_concurrent_callers_share_one_token_fetch(api, fake_wechat):
    threads = [threading.Thread(target=api.send_text, args=("o-1", f"m{i}")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake_wechat.tokens_issued) == 1 and len(fake_wechat.custom_messages) == 8


def test_secrets_stay_out_of_the_logs(api, fake_wechat, caplog):
    with caplog.at_level(logging.DEBUG):
        api.send_text("o-1", "x")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in logged
    assert "test-app-secret" not in logged and "TOKEN-1" not in logged


# --- outbound: agent replies and late answers ----------------------------------------------------

def test_agent_replies_reach_wechat_through_the_outbound_registry(client, services, fake_wechat):
    assert services.outbound.deliver("wechat", "o-agent", "您好，我是人工客服 小王，卡号 6222021234567890123 已为您核实") is True
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "o-agent" and "**** 0123" in message["text"]["content"]
    assert "6222021234567890123" not in message["text"]["content"]
    fake_wechat.expire_tokens()
    services.outbound.deliver("wechat", "o-agent", "还有什么可以帮您？")
    assert len(fake_wechat.tokens_issued) == 2 and len(fake_wechat.custom_messages) == 2


def test_outside_the_48_hour_window_is_raised_and_recorded(client, services, fake_wechat):
    fake_wechat.closed_windows.add("o-away")
    with pytest.raises(WeChatApiError) as caught:
        services.outbound.deliver("wechat", "o-away", "人工客服回复")
    assert caught.value.errcode == 45015
    with services.database.read() as db:
        row = db.scalars(select(AuditLog).where(AuditLog.target == "o-away")).one()
    assert row.action == "wechat.delivery_failed"
    assert row.detail == {"text": "人工客服回复", "reason": "超出 48 小时客服消息窗口"}


def test_long_texts_are_sent_in_parts(api, fake_wechat):
    from chatbot.channels.wechat.outbound import WeChatOutbound

    WeChatOutbound(api).deliver("o-1", "\n".join(f"第{i}行" + "字" * 100 for i in range(30)))
    parts = texts(fake_wechat)
    assert len(parts) > 1 and all(len(p.encode()) <= 2000 for p in parts)
    assert "\n".join(parts).count("第") == 30


def test_split_text_cuts_overlong_lines():
    parts = split_text("字" * 1000, limit=300)
    assert "".join(parts) == "字" * 1000 and all(len(p.encode()) <= 300 for p in parts)
    assert split_text("a\nb", limit=300) == ["a\nb"]


# --- Redis: one token for all workers --------------------------------------------------------------

def test_workers_share_the_token_through_redis(settings, fake_wechat, redis_client):
    workers = [WeChatApi.from_settings(settings, RedisTokenStore(redis_client, settings.wechat_appid))
               for _ in range(2)]
    try:
        workers[0].send_text("o-1", "from worker 1")
        workers[1].send_text("o-1", "from worker 2")
        assert fake_wechat.tokens_issued == ["TOKEN-1"]
        fake_wechat.expire_tokens()
        threads = [threading.Thread(target=w.send_text, args=("o-1", f"{n}-{i}"))
                   for n, w in enumerate(workers) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # One refresh for all eight callers: nobody retired a token another worker had just fetched.
        assert fake_wechat.tokens_issued == ["TOKEN-1", "TOKEN-2"]
        assert len(fake_wechat.custom_messages) == 10
        assert redis_client.get("chatbot:wechat:access_token:" + settings.wechat_appid) == b"TOKEN-2"
    finally:
        for w in workers:
            w.close()
