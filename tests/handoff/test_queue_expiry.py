"""Queued tickets expire after CHATBOT_HANDOFF_QUEUE_MINUTES: closed as `expired`, the customer
told (history, live event, WeChat push through the outbox) and back with the bot."""
from types import SimpleNamespace

from sqlalchemy import select

from chatbot.channels.outbound import OutboundRegistry
from chatbot.channels.wechat.api_client import Retry, WeChatApi
from chatbot.channels.wechat.outbound import WeChatOutbound
from chatbot.channels.wechat.outbox import OutboxPolicy, WeChatOutbox
from chatbot.channels.wechat.token_store import MemoryTokenStore
from chatbot.handoff.events import customer_key
from chatbot.handoff.expiry import QueueExpiry
from chatbot.notify import wiring
from chatbot.storage.models import AuditLog, ChatMessage, ChatSession, Handoff, WeChatOutbox as OutboxRow
from tests.channels.conftest import APPID, SECRET, fake_wechat  # noqa: F401 (fake_wechat: a fixture)


def tickets(database):
    with database.read() as db:
        return {t.user_id: t.status for t in db.scalars(select(Handoff))}


def test_a_ticket_queued_too_long_expires_and_the_customer_is_told(engine, database, clock, bus, record):
    first = engine.handle("web", "cust", "转人工").session_id
    clock.advance(minutes=10)
    engine.handle("web", "later", "转人工")
    clock.advance(minutes=19)
    expiry = QueueExpiry(database, clock, 30, bus=bus, outbound=OutboundRegistry())
    assert expiry.run() is None  # 29 minutes: still waiting
    clock.advance(minutes=1)
    customer, behind = record({customer_key("web", "cust")}), record({customer_key("web", "later")})
    assert expiry.run() == "排队超时结束 1 个"
    assert tickets(database) == {"cust": "expired", "later": "queued"}
    assert customer.types() == ["mode", "message"] and customer.events[0].data["mode"] == "bot"
    notice = customer.events[1].data["text"]
    assert "没有空闲的人工客服" in notice and "955888" in notice and "转人工" in notice
    assert [(e.type, e.data.get("position")) for e in behind.events] == [("position", 1)]
    with database.read() as db:
        session = db.get(ChatSession, first)
        assert session.mode == "bot"
        assert db.scalars(select(ChatMessage.text).where(ChatMessage.session_id == first)
                          .order_by(ChatMessage.id.desc())).first() == notice  # in the web history
        [audit] = db.scalars(select(AuditLog).where(AuditLog.action == "handoff.expire")).all()
    assert audit.detail["waited_minutes"] == 30
    assert expiry.run() is None  # once
    replies = engine.handle("web", "cust", "你好").replies
    assert [str(getattr(r, "text", r)) for r in replies] == ["机器人：你好"]  # the bot answers again


def test_an_accepted_or_cancelled_ticket_does_not_expire(engine, desk, database, clock, staff):
    taken = engine.handle("web", "taken", "转人工").session_id
    engine.handle("web", "gone", "转人工")
    engine.handle("web", "gone", "取消")
    clock.advance(minutes=31)
    desk.accept(staff("agent1"), taken)
    assert QueueExpiry(database, clock, 30).run() is None
    assert tickets(database) == {"taken": "active", "gone": "cancelled"}
    assert QueueExpiry(database, clock, 0).run() is None  # 0: customers wait on


def test_a_wechat_follower_gets_the_notice_through_the_outbox(engine, database, clock, fake_wechat):
    api = WeChatApi(fake_wechat.base_url, APPID, SECRET, MemoryTokenStore(), retry=Retry(1, 0.001))
    outbox = WeChatOutbox(database, clock, OutboxPolicy(backoff_seconds=10))
    outbound = OutboundRegistry()
    outbound.register("wechat", WeChatOutbound(api, outbox=outbox))
    engine.handle("wechat", "o-wait", "转人工")
    clock.advance(minutes=30)
    fake_wechat.http_errors_next = [503] * 10  # WeChat down when the ticket expires
    assert QueueExpiry(database, clock, 30, outbound=outbound).run() == "排队超时结束 1 个"
    fake_wechat.http_errors_next = []
    with database.read() as db:
        [row] = db.scalars(select(OutboxRow)).all()
    assert row.openid == "o-wait" and "955888" in row.payload["text"]
    clock.advance(seconds=10)
    assert outbox.run(api).delivered == 1
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "o-wait" and "没有空闲的人工客服" in message["text"]["content"]
    api.close()


def test_serve_runs_the_expiry_on_the_notification_schedule(database, clock, bus):
    settings = SimpleNamespace(handoff_queue_minutes=30)
    services = SimpleNamespace(settings=settings, database=database, clock=clock, outbound=OutboundRegistry(),
                               handoff=SimpleNamespace(events=bus))
    [job] = wiring.upkeep(services, None)
    assert job() is None
    settings.handoff_queue_minutes = 0
    assert wiring.upkeep(services, None) == []
