"""A parsed WeChat message becomes one `Inbound`: what the adapter should do with it.

Mappers are registered per message kind (`text`, `voice`, `event:click`, ...) in a table,
like wechatpy's own `register_message`; unknown messages get a polite answer and unknown
events are acknowledged silently. Nothing here knows about intents: a menu click becomes
the text the menu file gives it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from xml.parsers.expat import ExpatError

from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message

from chatbot.channels.wechat import replies
from chatbot.channels.wechat.errors import WeChatRequestError
from chatbot.channels.wechat.menu import Menu

Kind = Literal["chat", "answer", "subscribe", "unsubscribe", "ignore"]
MAX_ID_LENGTH = 128  # openids are 28 characters; the engine accepts user ids up to 128


@dataclass(frozen=True)
class Inbound:
    """One callback, reduced to what the adapter needs."""

    kind: Kind
    openid: str           # FromUserName: the customer, the engine's user_id
    account: str          # ToUserName: our official account, the reply's sender
    dedupe_key: str       # one per WeChat message: retries share it
    text: str = ""        # chat: the customer's words; answer/subscribe: the fixed answer
    message_id: str | None = None  # the engine's message_id (its own replay guard)


Mapper = Callable[[BaseMessage, Menu], Inbound]
_MAPPERS: dict[str, Mapper] = {}


def maps(*kinds: str) -> Callable[[Mapper], Mapper]:
    """Register a mapper for message kinds (`text`, `event:subscribe`, ...)."""

    def register(mapper: Mapper) -> Mapper:
        for kind in kinds:
            _MAPPERS[kind] = mapper
        return mapper

    return register


def parse(xml: str | bytes) -> BaseMessage:
    """wechatpy's parser, with malformed input turned into WeChatRequestError."""
    try:
        message = parse_message(xml)
    except (ExpatError, KeyError, TypeError, AttributeError, ValueError):
        raise WeChatRequestError("无法解析微信消息 XML", "malformed_xml") from None
    if message is None or not _plain(message.source) or not _plain(message.target):
        raise WeChatRequestError("微信消息缺少 FromUserName/ToUserName", "malformed_xml")
    return message


def _str(value) -> str:
    """A text field, or "" when the XML nested elements inside it (never a dict downstream)."""
    return value if isinstance(value, str) else ""


def _plain(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


def to_inbound(message: BaseMessage, menu: Menu) -> Inbound:
    """What to do with one parsed message."""
    kind = kind_of(message)
    mapper = _MAPPERS.get(kind) or (_ignore if kind.startswith("event:") else _unsupported)
    try:
        return mapper(message, menu)
    except ValueError:  # a non-numeric MsgId or CreateTime
        raise WeChatRequestError("微信消息字段格式错误", "malformed_xml") from None


def kind_of(message: BaseMessage) -> str:
    """`text`, `voice`, `image`, ... or `event:<name>`, also for types wechatpy does not know."""
    raw = message._data  # wechatpy keeps the parsed XML as a dict
    msg_type = str(raw.get("MsgType") or "unknown").lower()
    if msg_type == "event":
        return f"event:{str(raw.get('Event') or '').lower()}"
    return msg_type


def _inbound(message: BaseMessage, kind: Kind, text: str = "", message_id: str | None = None) -> Inbound:
    if message.id:
        key = f"msg:{message.source}:{message.id}"
    else:  # events have no MsgId: WeChat's retries repeat the sender and the CreateTime
        key = f"evt:{message.source}:{message.time}:{kind_of(message)}"
    return Inbound(kind, message.source, message.target, key, text, message_id)


def _engine_message_id(message: BaseMessage) -> str:
    """MsgId, or for a menu click its CreateTime and a short digest of the key (max 128 chars)."""
    if message.id:
        return str(message.id)
    digest = hashlib.sha1(f"{kind_of(message)}:{message._data.get('EventKey') or ''}".encode()).hexdigest()[:8]
    return f"evt-{message.time}-{digest}"


@maps("text")
def _text(message: BaseMessage, _menu: Menu) -> Inbound:
    return _inbound(message, "chat", _str(message.content), _engine_message_id(message))


@maps("voice")
def _voice(message: BaseMessage, _menu: Menu) -> Inbound:
    recognized = _str(message.recognition).strip()
    if not recognized:
        return _inbound(message, "answer", replies.VOICE_NOT_RECOGNIZED)
    return _inbound(message, "chat", recognized, _engine_message_id(message))


def _unsupported(message: BaseMessage, _menu: Menu) -> Inbound:
    text = replies.UNSUPPORTED.get(kind_of(message), replies.UNSUPPORTED_DEFAULT)
    return _inbound(message, "answer", text)


@maps("event:subscribe", "event:subscribe_scan")
def _subscribe(message: BaseMessage, _menu: Menu) -> Inbound:
    return _inbound(message, "subscribe", replies.WELCOME)


@maps("event:unsubscribe")
def _unsubscribe(message: BaseMessage, _menu: Menu) -> Inbound:
    return _inbound(message, "unsubscribe")


@maps("event:click")
def _click(message: BaseMessage, menu: Menu) -> Inbound:
    button = menu.click(_str(message.key))
    if button is None:
        return _inbound(message, "answer", replies.UNKNOWN_MENU_KEY)
    if button.reply:
        return _inbound(message, "answer", button.reply)
    return _inbound(message, "chat", button.text or "", _engine_message_id(message))


def _ignore(message: BaseMessage, _menu: Menu) -> Inbound:
    return _inbound(message, "ignore")
