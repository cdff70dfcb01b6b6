"""Product cards as WeChat news (图文) messages, in both message modes: the passive XML reply
(plaintext and safe mode) and the customer-service message (a late answer, the outbox); a
list of products stays text (WeChat takes one article per message). And the bot's text never
becomes markup in WeChat: `]]>`, tags and entities in a reply arrive inert."""
import time

import pytest
import xmltodict
from sqlalchemy import select

from chatbot.channels.wechat import replies
from chatbot.channels.wechat.adapter import WeChatChannel, WeChatConfig
from chatbot.channels.wechat.api_client import Retry, WeChatApi
from chatbot.channels.wechat.dedupe import MemoryDedupe
from chatbot.channels.wechat.outbound import WeChatOutbound
from chatbot.channels.wechat.outbox import OutboxPolicy, WeChatOutbox
from chatbot.channels.wechat.replies import Answer, Article, ProductLinks
from chatbot.channels.wechat.security import sign
from chatbot.channels.wechat.token_store import MemoryTokenStore
from chatbot.dialogue import rich
from chatbot.messages import Reply, ReplyItem, Rich
from chatbot.storage.db import Database
from chatbot.storage.models import WeChatOutbox as OutboxRow
from tests.channels.conftest import APPID, SECRET

SAFE_MODES = [pytest.param(False, id="plaintext"), pytest.param(True, id="safe")]
DETAIL = "查看理财产品示例天天宝"


def _article(reply: dict) -> dict:
    assert reply["MsgType"] == "news" and reply["ArticleCount"] == "1", reply
    return reply["Articles"]["item"]


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_one_product_card_is_a_news_reply_that_opens_the_product_page(wx, services, safe):
    reply = wx.reply(wx.post(wx.text(f"o-news-{safe}", DETAIL, 95001), safe=safe), safe=safe)
    article = _article(reply)
    assert article["Title"] == "示例天天宝"
    base = services.settings.public_base_url.rstrip("/")
    assert article["Url"].startswith(base + "/static/product.html?code=")
    assert article["PicUrl"] == base + "/static/product-cover.png"
    description = article["Description"]
    assert "风险等级：R1 低风险" in description and "起购金额：1.00 元" in description
    assert "投资须谨慎" in description  # the rest of the reply: the disclaimer is never dropped
    assert "<" not in description and "{" not in description


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_a_list_of_products_stays_a_numbered_text(wx, safe):
    reply = wx.reply(wx.post(wx.text(f"o-news-list-{safe}", "有什么理财产品", 95101), safe=safe), safe=safe)
    assert reply["MsgType"] == "text"
    lines = reply["Content"].splitlines()
    assert lines[0].startswith("在售理财产品") and lines[1].startswith("1. 示例天天宝（R1 低风险）")
    assert "<a " not in reply["Content"] and "/static/" not in reply["Content"]


def test_a_late_product_card_is_pushed_as_a_news_customer_service_message(wechat_app, fake_wechat):
    wx, _ = wechat_app(engine_delay=1.0, wechat_reply_timeout_seconds=0.2)
    assert wx.post(wx.text("o-news-late", DETAIL, 95201)).text == "success"
    assert fake_wechat.wait_for(lambda f: len(f.custom_messages) == 1)
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "o-news-late" and message["msgtype"] == "news"
    [article] = message["news"]["articles"]
    assert set(article) == {"title", "description", "url", "picurl"}
    assert article["title"] == "示例天天宝" and "/static/product.html?code=" in article["url"]
    assert "投资须谨慎" in article["description"]


@pytest.fixture
def api(fake_wechat):
    client = WeChatApi(fake_wechat.base_url, APPID, SECRET, MemoryTokenStore(), retry=Retry(2, 0.001))
    yield client
    client.close()


NEWS = Answer("示例天天宝：\n风险等级：R1 低风险", Article("示例天天宝", "风险等级：R1 低风险\n手机 13800138000",
                                                    "https://bank.example/static/product.html?code=W1"))


@pytest.mark.usefixtures("backend")
def test_a_news_message_that_fails_for_a_passing_reason_waits_in_the_outbox_as_news(
        fake_wechat, api, clock, empty_database_url):
    database = Database(empty_database_url)
    try:
        outbox = WeChatOutbox(database, clock, OutboxPolicy(backoff_seconds=5))
        fake_wechat.http_errors_next = [503] * 10
        assert WeChatOutbound(api, outbox=outbox).deliver_answer("o-news-box", NEWS) == "queued"
        with database.read() as db:
            [row] = db.scalars(select(OutboxRow)).all()
            assert row.kind == "news" and "13800138000" not in row.payload["article"]["description"]
        fake_wechat.http_errors_next = []
        clock.advance(seconds=5)
        assert outbox.run(api).delivered == 1
    finally:
        database.dispose()
    [message] = fake_wechat.custom_messages
    assert message["msgtype"] == "news" and message["news"]["articles"][0]["title"] == "示例天天宝"
    assert "138****8000" in message["news"]["articles"][0]["description"]


def test_a_news_message_wechat_refuses_arrives_as_text(fake_wechat, api):
    fake_wechat.errcodes_next = [45008]  # "article size out of limit"
    WeChatOutbound(api).deliver_answer("o-news-refused", NEWS)
    [message] = fake_wechat.custom_messages
    assert message["msgtype"] == "text" and message["text"]["content"].startswith("示例天天宝")


# --- what decides news or text -----------------------------------------------------------------

LINKS = ProductLinks("https://bank.example/")


def _card(title="示例天天宝", code="W1"):
    return ReplyItem.of(rich.card(f"{title}：\n风险等级：R1 低风险", title, [("风险等级", "R1 低风险")],
                                  product={"kind": "wealth", "code": code, "url": f"/static/product.html?code={code}"}))


def test_news_only_where_it_fits():
    one = replies.answer(Reply(1, (_card(), ReplyItem("投资须谨慎。"))), LINKS)
    assert one.article == Article("示例天天宝", "风险等级：R1 低风险\n投资须谨慎。",
                                  "https://bank.example/static/product.html?code=W1",
                                  "https://bank.example/static/product-cover.png")
    assert one.text == "示例天天宝：\n风险等级：R1 低风险\n投资须谨慎。"  # the text stays whole for fallbacks
    two = replies.answer(Reply(1, (_card(), _card("示例安心30天持有", "W2"))), LINKS)
    assert two.article is None  # one article per message: a list is text
    long = replies.answer(Reply(1, (_card(), ReplyItem("很长的说明。" * 80))), LINKS)
    assert long.article is None  # a description WeChat would cut: text, where nothing is cut
    plain_card = ReplyItem.of(rich.card("余额", "账户余额", [("储蓄卡", "1.00 元")]))
    assert replies.answer(Reply(1, (plain_card,)), LINKS).article is None  # not a product
    assert replies.answer(Reply(1, (_card(),)), None).article is None  # no public address: text
    assert replies.answer(Reply(1, (_card(),)), ProductLinks("")).article is None
    for local in ("http://127.0.0.1:8000", "http://localhost:8000/"):  # the development default
        assert replies.answer(Reply(1, (_card(),)), ProductLinks(local)).article is None


def test_an_answer_survives_the_dedupe_store():
    assert Answer.decode(NEWS.encode()) == NEWS
    assert Answer.decode("纯文本") == Answer("纯文本") and Answer("纯文本").encode() == "纯文本"


# --- inert text --------------------------------------------------------------------------------

HOSTILE = ('收款人：]]><MsgType>news</MsgType><a href="https://evil.example">点我领奖</a>'
           '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; <script>alert(1)</script>')


class StubEngine:
    def __init__(self, *items):
        self.items = items

    def handle(self, channel, user_id, text, message_id=None):
        return Reply(1, self.items)


def _callback(channel, clock, msg_id):
    ts = str(int(clock.now().timestamp()))
    query = {"signature": sign("t0ken", ts, "n1"), "timestamp": ts, "nonce": "n1"}
    xml = (f"<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName><CreateTime>{ts}</CreateTime>"
           f"<MsgType>text</MsgType><Content>你好</Content><MsgId>{msg_id}</MsgId></xml>")
    return channel.handle(query, xml.encode())


@pytest.mark.parametrize("items", [
    (ReplyItem(HOSTILE),),
    (ReplyItem.of(Rich(HOSTILE, "buttons", buttons=[{"label": "确认", "send": "确认"}])),),
], ids=["text", "rich"])
def test_markup_in_a_reply_text_stays_text_and_the_xml_stays_whole(clock, items):
    channel = WeChatChannel(WeChatConfig("t0ken", reply_timeout=2.0), StubEngine(*items), MemoryDedupe(), clock=clock)
    try:
        body = _callback(channel, clock, 96001).body
    finally:
        channel.close()
    reply = xmltodict.parse(body)["xml"]
    assert reply["MsgType"] == "text" and set(reply) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}
    content = reply["Content"]
    assert "<" not in content and ">" not in content and "&lt;" not in content
    assert "＜a href=" in content and "点我领奖" in content  # still readable, but no link and no tag


def test_a_link_items_anchor_cannot_be_broken_out_of():
    links = rich.links("下载：]]>", [('Excel"><a href="https://evil.example">x', 'https://bank.example/x?a=1&b="2"<>'),
                                   ("脚本", "javascript:alert(1)")])
    text = replies.render(Reply(1, (ReplyItem.of(links),)))
    caption, excel, script = text.splitlines()
    assert caption == "下载：]]＞"
    assert excel == '<a href="https://bank.example/x?a=1&b=%222%22%3C%3E">Excel"＞＜a href="https://evil.example"＞x</a>'
    assert script == "脚本"  # not a web address: no anchor at all
    xml = replies.text_reply_xml("gh", "o", text, 1)
    assert xmltodict.parse(xml)["xml"]["Content"] == text


def test_a_news_reply_with_cdata_ends_in_every_field_stays_well_formed():
    article = Article("标题]]>", "说明]]><x>", "https://bank.example/p?a=]]>", "https://bank.example/c.png")
    xml = replies.reply_xml("gh]]>", "o-1", Answer("文字", article), 1)
    item = xmltodict.parse(xml)["xml"]["Articles"]["item"]
    assert (item["Title"], item["Description"], item["Url"]) == ("标题]]>", "说明]]><x>", "https://bank.example/p?a=]]>")


class _SentTexts:
    """The API client as far as customer-service texts go."""

    def __init__(self):
        self.texts = []

    def send_text(self, openid, text):
        self.texts.append(text)


def test_an_agents_typed_markup_reaches_wechat_inert_the_bots_links_stay_links():
    """Found by the rich-pages helper: an agent's reply went out as typed, so a typed
    <a href> became a link in the customer's WeChat (a phishing link with the bank's name)."""
    api = _SentTexts()
    outbound = WeChatOutbound(api)
    outbound.deliver("oAgent", '请点<a href="http://evil.example/login">这里</a>核实 &lt;身份&gt;')
    sent = api.texts[-1]
    assert "<a" not in sent and "＜a href" in sent and "&lt;" not in sent
    rendered = replies.render(Reply(1, (ReplyItem.of(Rich("下载账单", "link", links=[
        {"label": "下载账单", "url": "https://bank.example/x"}])),)))
    outbound.deliver_rendered("oBot", rendered)
    assert '<a href="https://bank.example/x">' in api.texts[-1]
