"""The 5-second rule: retries of one message are answered once; slow answers are pushed."""
import threading
import time

import pytest
from sqlalchemy import select

from chatbot.storage.models import AuditLog, TurnLog

SAFE_MODES = [pytest.param(False, id="plaintext"), pytest.param(True, id="safe")]


def turn_count(services, openid):
    with services.database.read() as db:
        return len(db.scalars(select(TurnLog.id).where(TurnLog.user_id == openid)).all())


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_three_retries_of_one_msgid_are_answered_from_the_first_run(wechat_app, services, safe):
    wx, engine = wechat_app()
    xml = wx.text("o-retry", "你好", 3001)
    replies = [wx.reply(wx.post(xml, safe=safe), safe=safe) for _ in range(4)]  # first try + 3 retries
    assert len({r["Content"] for r in replies}) == 1 and "您好" in replies[0]["Content"]
    assert engine.calls == 1
    assert turn_count(services, "o-retry") == 1


def test_retries_arriving_while_the_first_run_works_wait_for_it(wechat_app, services):
    wx, engine = wechat_app(engine_delay=0.4, wechat_reply_timeout_seconds=3.0)
    xml = wx.text("o-busy", "谢谢", 3002)
    responses = [None] * 4

    def post(i):
        time.sleep(i * 0.05)
        responses[i] = wx.post(xml)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    contents = {wx.reply(r)["Content"] for r in responses}
    assert len(contents) == 1 and "不客气" in contents.pop()
    assert engine.calls == 1 and turn_count(services, "o-busy") == 1


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_slow_answer_is_success_now_and_a_customer_service_message_later(
        wechat_app, services, fake_wechat, safe):
    wx, engine = wechat_app(engine_delay=1.0, wechat_reply_timeout_seconds=0.2)
    xml = wx.text("o-slow", "你好", 3003)
    started = time.monotonic()
    first = wx.post(xml, safe=safe)
    assert first.text == "success" and time.monotonic() - started < 0.9  # before the engine is done
    retry = wx.post(xml, safe=safe)  # WeChat's retry while the answer is still on its way
    assert retry.text == "success"
    assert fake_wechat.wait_for(lambda f: len(f.custom_messages) == 1)
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "o-slow" and message["msgtype"] == "text"
    assert "您好" in message["text"]["content"]
    assert wx.post(xml, safe=safe).text == "success"  # a last retry after the push
    time.sleep(0.2)
    assert len(fake_wechat.custom_messages) == 1
    assert engine.calls == 1 and turn_count(services, "o-slow") == 1


def test_repeated_events_are_handled_once(wechat_app, services):
    wx, _ = wechat_app()
    xml = wx.event("o-sub", "subscribe")
    replies = [wx.reply(wx.post(xml))["Content"] for _ in range(3)]
    assert len(set(replies)) == 1 and "欢迎关注" in replies[0]
    with services.database.read() as db:
        actions = db.scalars(select(AuditLog.action).where(AuditLog.target == "o-sub")).all()
    assert actions == ["wechat.subscribe"]


def test_same_create_time_from_two_users_are_two_events(wechat_app, services):
    wx, _ = wechat_app()
    for openid in ("o-a", "o-b"):
        assert "欢迎" in wx.reply(wx.post(wx.event(openid, "subscribe")))["Content"]
    with services.database.read() as db:
        assert len(db.scalars(select(AuditLog.id).where(AuditLog.action == "wechat.subscribe")).all()) == 2


def test_two_workers_sharing_redis_run_a_message_once(wechat_app, services, redis_url, redis_client):
    """Two apps (as two workers would be) on one Redis: one run, the same answer for both."""
    wx1, engine = wechat_app(engine_delay=0.3, redis_url=redis_url)
    wx2, _ = wechat_app(engine_delay=0.3, redis_url=redis_url)
    services.engine = engine  # both apps were built on counting wrappers; count the second's calls too
    # The two apps share the module-level routers, whose routes FastAPI builds lazily on first
    # match; two threads doing that at once make pydantic warn (an error here). Separate worker
    # processes never share them: build them once first (a 404 walks every route).
    for wx in (wx1, wx2):
        assert wx.client.get("/no-such-route-warm-up").status_code == 404
    xml = wx1.text("o-redis", "你好", 3004)
    responses = {}
    threads = [threading.Thread(target=lambda w=w, n=n: responses.__setitem__(n, w.post(xml)))
               for n, w in (("a", wx1), ("b", wx2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    contents = {wx1.reply(r)["Content"] for r in responses.values()}
    assert len(contents) == 1 and "您好" in contents.pop()
    assert turn_count(services, "o-redis") == 1
    assert redis_client.keys("chatbot:wechat:msg:*") == [b"chatbot:wechat:msg:msg:o-redis:3004"]
