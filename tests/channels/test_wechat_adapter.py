"""`WeChatChannel` with stand-ins for the engine and the sender: failures and long answers."""
import pytest

from chatbot.channels.wechat import replies
from chatbot.channels.wechat.adapter import WeChatChannel, WeChatConfig
from chatbot.channels.wechat.dedupe import MemoryDedupe
from chatbot.channels.wechat.security import sign
from chatbot.messages import Reply, ReplyItem

TOKEN = "t0ken"


class StubEngine:
    def __init__(self, text=None, error=None):
        self.text, self.error, self.calls = text, error, 0

    def handle(self, channel, user_id, text, message_id=None):
        self.calls += 1
        if self.error:
            raise self.error
        return Reply(1, (ReplyItem(self.text),))


class Outbox:
    def __init__(self):
        self.sent = []

    def deliver(self, user_id, text):
        self.sent.append((user_id, text))


@pytest.fixture
def make_channel(clock):
    channels = []

    def build(engine, outbound=None, events=None):
        record = (lambda openid, action, detail: events.append((openid, action, detail))) if events is not None else None
        channel = WeChatChannel(WeChatConfig(TOKEN, reply_timeout=2.0), engine, MemoryDedupe(),
                                outbound=outbound, record_event=record, clock=clock)
        channels.append(channel)
        return channel

    yield build
    for channel in channels:
        channel.close()


def _call(channel, clock, msg_id=1):
    ts = str(int(clock.now().timestamp()))
    query = {"signature": sign(TOKEN, ts, "n1"), "timestamp": ts, "nonce": "n1"}
    xml = (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>{ts}</CreateTime>"
           f"<MsgType>text</MsgType><Content>你好</Content><MsgId>{msg_id}</MsgId></xml>")
    return channel.handle(query, xml.encode())


def test_engine_failure_is_answered_politely_once(make_channel, clock):
    engine = StubEngine(error=RuntimeError("boom"))
    channel = make_channel(engine)
    first, retry = _call(channel, clock), _call(channel, clock)
    assert replies.SORRY in first.body and first.body == retry.body
    assert engine.calls == 1


def test_answers_too_long_for_a_passive_reply_are_pushed(make_channel, clock):
    outbox = Outbox()
    long_text = "很长的回答。" * 200
    channel = make_channel(StubEngine(long_text), outbound=outbox)
    assert _call(channel, clock).body == "success"
    channel.close()  # waits for the push
    assert outbox.sent == [("o-1", long_text)]


def test_late_answer_without_a_sender_is_recorded_not_dropped(make_channel, clock):
    events = []
    channel = make_channel(StubEngine("回" * 1000), events=events)
    assert _call(channel, clock).body == "success"
    channel.close()
    [(openid, action, detail)] = events
    assert (openid, action) == ("o-1", "wechat.delivery_failed") and detail["text"] == "回" * 1000


def test_empty_replies_are_success(make_channel, clock):
    channel = make_channel(StubEngine(""))
    assert _call(channel, clock).body == "success"
