"""Customer-service messages: how agent replies and late answers reach a WeChat user.

Registered as the `wechat` sender of the outbound registry. WeChat accepts them within
48 hours of the user's last interaction and answers 45015 outside it. A failure that may pass
(no answer, 5xx, 系统繁忙; outbox.py) goes into the outbox when there is one and is sent again
later: `deliver` returns `"queued"`. Every other failure (after the API client's retries) is
logged and recorded through `on_failure` (the audit log, see setup.py), then raised to the
caller: nothing is dropped silently.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from chatbot.channels.wechat.api_client import WeChatApi
from chatbot.channels.wechat.errors import WeChatApiError
from chatbot.channels.wechat.outbox import WeChatOutbox, queueable
from chatbot.channels.wechat.replies import Answer, Article, neutral
from chatbot.security.masking import mask_text

log = logging.getLogger(__name__)

OUTSIDE_WINDOW = 45015          # "response out of time limit": the 48-hour window has closed
MAX_MESSAGE_BYTES = 2000        # WeChat cuts longer text messages; longer answers go in parts

FailureHook = Callable[[str, str, str], None]  # (openid, text not delivered, reason)


class WeChatOutbound:
    """`OutboundChannel` for WeChat users (user_id = openid)."""

    def __init__(self, api: WeChatApi, *, on_failure: FailureHook | None = None,
                 outbox: WeChatOutbox | None = None) -> None:
        self.api = api
        self.on_failure = on_failure
        self.outbox = outbox

    def deliver(self, user_id: str, text: str) -> str | None:
        """Send plain `text` (an agent's reply, a notice) as one or more customer-service
        messages, made inert first: WeChat would draw a typed `<a href>` as a link; `"queued"`
        when a passing failure left (the rest of) it in the outbox; raise WeChatApiError on any
        other failure."""
        return self.deliver_rendered(user_id, neutral(text))

    def deliver_rendered(self, user_id: str, text: str) -> str | None:
        """As `deliver`, for text already rendered for WeChat (replies.render: the bot's own
        links are `<a href>` on purpose, everything else made inert)."""
        if not text.strip():
            return None
        parts = split_text(mask_text(text))
        for index, part in enumerate(parts):
            try:
                self.api.send_text(user_id, part)
            except WeChatApiError as exc:
                undelivered = "\n".join(parts[index:])
                if self.outbox is not None and queueable(exc):
                    self.outbox.queue(user_id, "text", {"text": undelivered}, exc.message)
                    return "queued"
                self._failed(user_id, undelivered, exc)
                raise
        return None

    def deliver_answer(self, user_id: str, answer: Answer) -> str | None:
        """An answer as the customer-service message it is: news (one article) or text. A news
        message that fails for a passing reason waits in the outbox as news."""
        if answer.article is None:
            return self.deliver_rendered(user_id, answer.text)
        article = masked_article(answer.article)
        try:
            self.api.send_news(user_id, article)
        except WeChatApiError as exc:
            if self.outbox is not None and queueable(exc):
                self.outbox.queue(user_id, "news", {"article": article, "text": mask_text(answer.text)}, exc.message)
                return "queued"
            if exc.errcode != OUTSIDE_WINDOW and not queueable(exc):
                log.warning("WeChat refused a news message to %s (%s); sending it as text", user_id, exc.message)
                return self.deliver_rendered(user_id, answer.text)  # the news refused: its words still arrive
            self._failed(user_id, mask_text(answer.text), exc)
            raise
        return None

    def _failed(self, openid: str, undelivered: str, exc: WeChatApiError) -> None:
        reason = "超出 48 小时客服消息窗口" if exc.errcode == OUTSIDE_WINDOW else exc.message
        log.error("WeChat customer-service message to %s not delivered (%s): %s", openid, reason, undelivered)
        if self.on_failure is not None:
            try:
                self.on_failure(openid, undelivered, reason)
            except Exception:  # recording must not hide the delivery error itself
                log.exception("could not record the failed WeChat delivery to %s", openid)


def masked_article(article: Article) -> dict:
    """The article as the API takes it, with its words masked again on the way out."""
    data = article.to_dict()
    return {**data, "title": mask_text(data["title"]), "description": mask_text(data["description"])}


def split_text(text: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:
            head = _prefix_within(line, limit)
            parts, current = _flush(parts, current), ""
            parts.append(head)
            line = line[len(head):]
        if len((current + line).encode()) > limit:
            parts, current = _flush(parts, current), ""
        current += line
    parts = _flush(parts, current)
    return parts or [""]


def _prefix_within(text: str, limit: int) -> str:
    size, end = 0, 0
    for end, char in enumerate(text):
        size += len(char.encode())
        if size > limit:
            return text[:end]
    return text


def _flush(parts: list[str], current: str) -> list[str]:
    stripped = current.rstrip("\n")
    return parts + [stripped] if stripped else parts
