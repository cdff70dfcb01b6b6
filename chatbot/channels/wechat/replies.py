"""Passive replies (the XML answer to a callback) and the channel's fixed texts.

An empty answer becomes the plain body `success`, which tells WeChat "received, nothing to
show" and stops its retries. Text goes into CDATA, so a `]]>` inside it is split safely.
"""
from __future__ import annotations

from dataclasses import dataclass

from wechatpy.replies import TextReply

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
    says what to answer (WeChat text has no buttons)."""
    parts = []
    for item in reply.replies:
        if item.type == "link" and item.data.get("links"):
            # The XML reply is CDATA (entities would stay literal): only a quote could end href.
            anchors = (f'<a href="{link["url"].replace(chr(34), "%22")}">{link["label"]}</a>'
                       for link in item.data["links"])
            parts.append("\n".join([item.data.get("caption", ""), *anchors]).strip())
        else:
            parts.append(item.text)
    return "\n".join(parts)


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
    reply = TextReply(source=account, target=openid, content=_cdata_safe(text), time=created_at)
    return reply.render()


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")
