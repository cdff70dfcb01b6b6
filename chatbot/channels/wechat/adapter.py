"""`WeChatChannel`: the official-account callback, from query and body to the reply body.

    verify   GET  signature over (token, timestamp, nonce) -> echostr
    handle   POST signature + freshness -> [safe mode: msg_signature + AES decrypt] -> parse
             -> Inbound -> claim the message (5-second rule) -> run it in a worker thread
             -> wait up to `reply_timeout` -> passive XML reply [encrypted], or `success` and
             the answer later through the customer-service API; text, or news (图文) for a
             reply that shows one product card (replies.answer)

The channel maps the openid to the engine's user_id (channel `wechat`, message_id = MsgId);
it knows nothing about NLU. Nothing is processed before the signature and timestamp pass.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from chatbot.channels.outbound import OutboundChannel
from chatbot.channels.wechat import replies
from chatbot.channels.wechat.dedupe import Dedupe
from chatbot.channels.wechat.errors import WeChatNotConfigured, WeChatRequestError
from chatbot.channels.wechat.inbound import Inbound, parse, to_inbound
from chatbot.channels.wechat.menu import EMPTY_MENU, Menu
from chatbot.channels.wechat.replies import Answer, CallbackResponse, ProductLinks
from chatbot.channels.wechat.security import MessageCrypto, check_fresh, check_signature
from chatbot.clock import Clock, SystemClock
from chatbot.errors import InvalidInput
from chatbot.messages import Reply

log = logging.getLogger(__name__)

CHANNEL = "wechat"
MAX_PARAM_LENGTH = 512
EventRecorder = Callable[[str, str, dict], None]  # (openid, action, detail)


class ConversationEngine(Protocol):
    def handle(self, channel: str, user_id: str, text: str, message_id: str | None = None) -> Reply: ...


@dataclass(frozen=True)
class WeChatConfig:
    token: str | None
    aes_key: str | None = None
    appid: str | None = None
    reply_timeout: float = 4.0       # answer WeChat before its 5-second limit
    max_request_age: int = 300       # older (or future) timestamps are replays

    @classmethod
    def from_settings(cls, settings) -> "WeChatConfig":
        return cls(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid,
                   settings.wechat_reply_timeout_seconds, settings.wechat_max_request_age_seconds)


class WeChatChannel:
    """Thread-safe; one per process. `close()` waits for answers still being pushed."""

    def __init__(self, config: WeChatConfig, engine: ConversationEngine, dedupe: Dedupe, *,
                 menu: Menu = EMPTY_MENU, outbound: OutboundChannel | None = None,
                 record_event: EventRecorder | None = None, clock: Clock | None = None,
                 workers: int = 8, links: ProductLinks | None = None) -> None:
        self.config = config
        self.engine = engine
        self.dedupe = dedupe
        self.menu = menu
        self.outbound = outbound
        self.record_event = record_event
        self.clock = clock or SystemClock()
        self.links = links  # product cards as news messages; None: text only
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wechat")

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    # --- HTTP-facing ---------------------------------------------------------------------------
    def verify(self, query: Mapping[str, str]) -> str:
        """URL verification (GET): the `echostr` back when the signature is WeChat's."""
        self._authenticate(query)
        return _param(query, "echostr")

    def handle(self, query: Mapping[str, str], body: bytes) -> CallbackResponse:
        """One callback (POST): the reply body for WeChat."""
        timestamp, nonce = self._authenticate(query)
        safe_mode = query.get("encrypt_type", "raw").lower() == "aes"
        xml = self._decrypt(query, body, timestamp, nonce) if safe_mode else _text(body)
        inbound = to_inbound(parse(xml), self.menu)
        stored = self._answer(inbound)
        if not stored:
            return CallbackResponse.success()
        now = str(int(self.clock.now().timestamp()))
        reply = replies.reply_xml(inbound.account, inbound.openid, Answer.decode(stored), int(now))
        return CallbackResponse.xml(self._crypto.encrypt(reply, nonce, now) if safe_mode else reply)

    # --- authentication ----------------------------------------------------------------------------
    def _authenticate(self, query: Mapping[str, str]) -> tuple[str, str]:
        if not self.config.token:
            raise WeChatNotConfigured("未配置 CHATBOT_WECHAT_TOKEN，微信公众号渠道未启用")
        signature, timestamp, nonce = (_param(query, n) for n in ("signature", "timestamp", "nonce"))
        check_signature(signature, self.config.token, timestamp, nonce)
        check_fresh(timestamp, self.clock.now(), self.config.max_request_age)
        return timestamp, nonce

    def _decrypt(self, query: Mapping[str, str], body: bytes, timestamp: str, nonce: str) -> str:
        return self._crypto.decrypt(body, _param(query, "msg_signature"), timestamp, nonce)

    @cached_property
    def _crypto(self) -> MessageCrypto:
        if not self.config.aes_key or not self.config.appid:
            raise WeChatNotConfigured("安全模式需要 CHATBOT_WECHAT_AES_KEY 和 CHATBOT_WECHAT_APPID")
        return MessageCrypto(self.config.token or "", self.config.aes_key, self.config.appid)

    # --- the 5-second rule ---------------------------------------------------------------------------
    def _answer(self, inbound: Inbound) -> str:
        """The passive answer (`Answer.encode`d), or "" when it goes out later (or there is none)."""
        key = inbound.dedupe_key
        if self.dedupe.claim(key):
            self._executor.submit(self._run, inbound)
        outcome = self.dedupe.wait(key, self.config.reply_timeout)
        if outcome.state == "done":
            return outcome.answer or ""
        if outcome.state == "pending":
            return self.dedupe.give_up(key) or ""
        return ""  # late or pushed: the run delivers it through the customer-service API

    def _run(self, inbound: Inbound) -> None:
        try:
            answer = self._produce(inbound)
        except Exception:  # an engine bug must still answer the customer and free the retries
            log.exception("WeChat message %s failed", inbound.dedupe_key)
            answer = Answer(replies.SORRY)
        passive = answer.encode() if answer.fits_passive() else ""
        must_push = self.dedupe.finish(inbound.dedupe_key, passive)
        if answer.text and (must_push or not passive):
            self._push(inbound.openid, answer)

    def _produce(self, inbound: Inbound) -> Answer:
        if inbound.kind == "chat":
            try:
                reply = self.engine.handle(CHANNEL, inbound.openid, inbound.text, inbound.message_id)
            except InvalidInput as exc:  # empty or over-long text: tell the customer why
                return Answer(exc.message)
            return replies.answer(reply, self.links)
        if inbound.kind in ("subscribe", "unsubscribe"):
            self._record(inbound.openid, f"wechat.{inbound.kind}", {})
        return Answer(inbound.text)

    def _push(self, openid: str, answer: Answer) -> None:
        if self.outbound is None:
            log.error("late WeChat answer to %s not delivered: the WeChat API is not configured", openid)
            self._record(openid, "wechat.delivery_failed", {"text": answer.text, "reason": "未配置微信接口"})
            return
        try:
            if answer.article is not None and hasattr(self.outbound, "deliver_answer"):
                self.outbound.deliver_answer(openid, answer)
            elif hasattr(self.outbound, "deliver_rendered"):
                self.outbound.deliver_rendered(openid, answer.text)  # rendered: its links are meant
            else:
                self.outbound.deliver(openid, answer.text)
        except Exception:  # already logged and recorded by the sender
            log.warning("late WeChat answer to %s could not be pushed", openid)

    def _record(self, openid: str, action: str, detail: dict) -> None:
        if self.record_event is None:
            return
        try:
            self.record_event(openid, action, detail)
        except Exception:
            log.exception("could not record %s of %s", action, openid)


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise WeChatRequestError(f"缺少参数 {name}", "missing_parameter")
    if len(value) > MAX_PARAM_LENGTH:
        raise WeChatRequestError(f"参数 {name} 过长", "invalid_parameter")
    return value


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise WeChatRequestError("消息不是 UTF-8 编码", "malformed_xml") from None
