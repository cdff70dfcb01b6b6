"""Passive replies (the XML answer to a callback) and the channel's fixed texts.

An empty answer becomes the plain body `success`, which tells WeChat "received, nothing to
show" and stops its retries. Text goes into CDATA, so a `]]>` inside it is split safely; the
bot's text is made inert first (`neutral`): only link items become `<a href>`.

A reply showing one product card goes out as a news (图文) message (`answer`, `reply_xml`):
WeChat's passive reply `<MsgType>news</MsgType><ArticleCount>1</ArticleCount><Articles><item>
<Title/><Description/><PicUrl/><Url/></item></Articles>`, or the customer-service message
`{"msgtype": "news", "news": {"articles": [{title, description, url, picurl}]}}` (one article
each: WeChat allows no more in answer to a user's message).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wechatpy.replies import ArticlesReply, TextReply

from chatbot.messages import Reply

SUCCESS = "success"
# WeChat truncates longer passive replies; longer answers go out as customer-service messages.
PASSIVE_REPLY_MAX_BYTES = 2048

WELCOME = (
    "您好，欢迎关注示例银行！我是智能客服，7×24 小时在线，可以帮您：\n"
    "· 查余额、查交易明细、转账、挂失\n"
    "· 信用卡账单、还款、分期，贷款和理财产品咨询\n"
    "· 订阅财经资讯、解答业务问题，随时可转人工客服\n"
    "首次办理账户业务请先绑定：发送“绑定账户”，按提示提供姓名、身份证号和短信验证码即可。"
    "直接打字或点下方菜单开始吧。"
)
VOICE_NOT_RECOGNIZED = "抱歉，这段语音没能识别出来，请再说一遍或直接打字告诉我。"
UNSUPPORTED = {
    "image": "收到您的图片。我暂时看不懂图片内容，请用文字描述您要办理的业务；如需人工协助，请发送“人工客服”。",
    "location": "收到您的位置信息。请用文字告诉我您想办理的业务或想了解的网点信息。",
    "link": "收到您分享的链接。为了您的资金安全，请勿点击来历不明的链接；有什么业务需要办理，直接告诉我就好。",
    "video": "收到您的视频。我暂时无法处理视频，请用文字描述您的问题。",
    "shortvideo": "收到您的视频。我暂时无法处理视频，请用文字描述您的问题。",
}
UNSUPPORTED_DEFAULT = "抱歉，我暂时只能处理文字和语音消息，请用文字告诉我您要办理的业务。"
UNKNOWN_MENU_KEY = "这个菜单已更新，请重新打开菜单或直接告诉我您要办理的业务。"
SORRY = "抱歉，系统繁忙，请稍后再试。"


def render(reply: Reply) -> str:
    """An engine reply as WeChat text (docs/rich_replies.md): links as `<a href>`, which
    WeChat's text messages open in place; other items as their plain text, which already
    says what to answer (WeChat text has no buttons). Text the bot says (which may quote the
    customer) never becomes markup: `<` and `>` in it are shown as ＜ ＞."""
    parts = []
    for item in reply.replies:
        if item.type == "link" and item.data.get("links"):
            anchors = (_anchor(link.get("label", ""), link.get("url", "")) for link in item.data["links"])
            parts.append("\n".join([neutral(item.data.get("caption", "")), *anchors]).strip())
        else:
            parts.append(neutral(item.text))
    return "\n".join(parts)


def neutral(text: str) -> str:
    """Plain text that WeChat shows as it is: no tag (`<a href>` would become a link), no
    entity it might decode into one, no CDATA end."""
    return _ENTITY.sub("＆", str(text).replace("<", "＜").replace(">", "＞"))


_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def _anchor(label: str, url: str) -> str:
    """`<a href="url">label</a>` for a web address; anything else is just its label. The XML
    reply is CDATA (entities would stay literal): only what could end the attribute or the
    tag is percent-encoded."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return neutral(label)
    href = url.replace('"', "%22").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f'<a href="{href}">{neutral(label) or "打开链接"}</a>'


@dataclass(frozen=True)
class Article:
    """One news (图文) article: WeChat shows the title, the description and a picture, and a
    tap opens `url`."""

    title: str
    description: str
    url: str
    picurl: str = ""

    def to_dict(self) -> dict:
        return {"title": self.title, "description": self.description, "url": self.url, "picurl": self.picurl}


@dataclass(frozen=True)
class Answer:
    """What one message is answered with: text, or a news message whose plain text (`text`)
    is kept for where news cannot go (the audit log of a failure, a news message refused)."""

    text: str
    article: Article | None = None

    def encode(self) -> str:
        """A string for the dedupe store: the text itself, or a marked JSON for news."""
        if self.article is None:
            return self.text
        return NEWS_MARK + json.dumps({"text": self.text, "article": self.article.to_dict()}, ensure_ascii=False)

    @classmethod
    def decode(cls, stored: str) -> "Answer":
        if not stored.startswith(NEWS_MARK):
            return cls(stored)
        data = json.loads(stored[len(NEWS_MARK):])
        return cls(data["text"], Article(**data["article"]))

    def fits_passive(self) -> bool:
        return self.article is not None or fits_passive_reply(self.text)


# A character WeChat's XML cannot carry (so no text answer starts with it): marks news.
NEWS_MARK = "\x1enews:"
DESCRIPTION_MAX = 300  # characters; longer answers stay text, where nothing is cut
TITLE_MAX = 40


class ProductLinks:
    """Where a product card's news message points: the site's product page, made absolute
    with the service's public address (CHATBOT_PUBLIC_BASE_URL), and its cover picture.
    Without a public address (unset, or loopback) there is no news, only text."""

    def __init__(self, base_url: str, picture: str = "/static/product-cover.png") -> None:
        # A loopback address (the development default) opens nothing on a customer's phone.
        host = urlsplit(base_url).hostname or ""
        local = host in ("localhost", "::1") or host.startswith("127.")
        self.base_url = "" if local else base_url.rstrip("/")
        self.picture = picture

    def absolute(self, path: str) -> str | None:
        if re.match(r"https?://", path, re.IGNORECASE):
            return path
        return self.base_url + path if path.startswith("/") and self.base_url else None


def answer(reply: Reply, links: ProductLinks | None = None) -> Answer:
    """The reply as WeChat text, or as one news message where one fits: the reply shows one
    product card (a list of several stays text: WeChat allows one article per message in
    both the passive reply and the customer-service API) and the card's rows with the rest of
    the reply fit a news description."""
    text = render(reply)
    article = _article(reply, links) if links is not None else None
    return Answer(text, article)


def _article(reply: Reply, links: ProductLinks) -> Article | None:
    cards = [item for item in reply.replies if item.type == "card" and isinstance(item.data.get("product"), dict)]
    if len(cards) != 1:
        return None
    card = cards[0]
    url = links.absolute(str(card.data["product"].get("url") or ""))
    if not url:
        return None
    rows = [f"{row.get('label', '')}：{row.get('value', '')}" for row in card.data.get("rows") or ()]
    rest = [item.text for item in reply.replies if item is not card]
    description = neutral("\n".join([*rows, *rest]).strip())
    if len(description) > DESCRIPTION_MAX:
        return None
    title = neutral(str(card.data.get("title") or card.text.splitlines()[0]))[:TITLE_MAX]
    return Article(title, description, url, links.absolute(links.picture) or "")


@dataclass(frozen=True)
class CallbackResponse:
    """What the HTTP layer sends back to WeChat."""

    body: str
    media_type: str

    @classmethod
    def success(cls) -> "CallbackResponse":
        return cls(SUCCESS, "text/plain")

    @classmethod
    def xml(cls, body: str) -> "CallbackResponse":
        return cls(body, "application/xml")


def fits_passive_reply(text: str) -> bool:
    return len(text.encode()) <= PASSIVE_REPLY_MAX_BYTES


def text_reply_xml(account: str, openid: str, text: str, created_at: int) -> str:
    """A passive text reply from the official account `account` to `openid`."""
    reply = TextReply(source=_cdata_safe(account), target=_cdata_safe(openid), content=_cdata_safe(text),
                      time=created_at)
    return reply.render()


def reply_xml(account: str, openid: str, answer: Answer, created_at: int) -> str:
    """The passive reply: a news message with one article, or text."""
    if answer.article is None:
        return text_reply_xml(account, openid, answer.text, created_at)
    article = answer.article
    item = {"title": _cdata_safe(article.title), "description": _cdata_safe(article.description),
            "image": _cdata_safe(article.picurl), "url": _cdata_safe(article.url)}
    reply = ArticlesReply(source=_cdata_safe(account), target=_cdata_safe(openid), articles=[item], time=created_at)
    return reply.render()


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")
