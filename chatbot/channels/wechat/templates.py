"""Template messages: notifications outside a conversation (receipts, progress, news).

WeChat's current rules for template messages (since May 2023) are applied to every value:
no `first`/`remark` fields and no colours; each value is one line; keyword types limit the
length by their name's prefix (`thing` 20 characters, `phrase` 5, `character_string` 32, ...);
`amount` is digits with an optional `元`. Card, ID and phone numbers are masked.

The template ids come from settings (`CHATBOT_WECHAT_TEMPLATE_*`); the keywords each kind
fills are listed in `LAYOUTS` (pick templates in the WeChat console with these keywords).
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from chatbot.channels.wechat.api_client import WeChatApi
from chatbot.channels.wechat.errors import WeChatApiError, WeChatNotConfigured
from chatbot.channels.wechat.outbound import FailureHook
from chatbot.channels.wechat.outbox import WeChatOutbox, queueable
from chatbot.clock import BANK_TZ
from chatbot.security.masking import mask_text

log = logging.getLogger(__name__)

LIMITS = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "phrase": 5,
          "name": 10, "phone_number": 17, "car_number": 8, "const": 20, "time": 32, "date": 32}
LAYOUTS = {
    "transfer_receipt": ("thing1", "amount2", "time3", "character_string4", "thing5"),
    "card_progress": ("thing1", "phrase2", "time3", "thing4"),
    "loan_progress": ("thing1", "phrase2", "amount3", "time4"),
    "news": ("thing1", "time2", "thing3"),
}
SETTINGS = {kind: f"wechat_template_{kind}" for kind in LAYOUTS}


def field_value(key: str, value: object) -> str:
    """A value as WeChat accepts it for keyword `key` (e.g. `thing1`, `amount2`)."""
    kind = re.sub(r"\d+$", "", key)
    if kind == "amount":
        return amount_value(value)
    if isinstance(value, datetime):
        return time_value(value)
    text = mask_text(" ".join(str(value).split()))  # one line, no runs of spaces
    limit = LIMITS.get(kind, 20)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def amount_value(value: object) -> str:
    """`2500.00元`: digits and two decimals (template amounts allow no thousands separators)."""
    amount = Decimal(str(value).removesuffix("元").replace(",", "")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{amount}元"


def time_value(at: datetime) -> str:
    return at.astimezone(BANK_TZ).strftime("%Y-%m-%d %H:%M")


def template_payload(openid: str, template_id: str, fields: dict[str, object], url: str | None = None) -> dict:
    """The body of `/cgi-bin/message/template/send` (no colours, no first/remark)."""
    payload = {"touser": openid, "template_id": template_id,
               "data": {key: {"value": field_value(key, value)} for key, value in fields.items()}}
    if url:
        payload["url"] = url
    return payload


class TemplateNotifier:
    """Sends the bank's notifications to bound WeChat users."""

    def __init__(self, api: WeChatApi, template_ids: dict[str, str | None], *,
                 on_failure: FailureHook | None = None, outbox: WeChatOutbox | None = None) -> None:
        self.api = api
        self.template_ids = template_ids
        self.on_failure = on_failure
        self.outbox = outbox  # passing failures are queued there and sent again later

    @classmethod
    def from_settings(cls, api: WeChatApi, settings, **kwargs) -> "TemplateNotifier":
        return cls(api, {kind: getattr(settings, name) for kind, name in SETTINGS.items()}, **kwargs)

    def send(self, openid: str, kind: str, values: tuple, url: str | None = None) -> int | None:
        """Fill the layout of `kind` with `values` in order and send it; returns WeChat's msgid
        (None when a passing failure left it in the outbox)."""
        template_id = self.template_ids.get(kind)
        if not template_id:
            raise WeChatNotConfigured(f"未配置模板消息 CHATBOT_{SETTINGS.get(kind, kind).upper()}")
        payload = template_payload(openid, template_id, dict(zip(LAYOUTS[kind], values, strict=True)), url)
        try:
            return self.api.send_template(payload)
        except WeChatApiError as exc:
            if self.outbox is not None and queueable(exc):
                self.outbox.queue(openid, "template", {"body": payload}, exc.message)
                return None
            summary = " / ".join(v["value"] for v in payload["data"].values())
            log.error("WeChat template message %s to %s not delivered (%s): %s", kind, openid, exc.message, summary)
            if self.on_failure is not None:
                self.on_failure(openid, f"[{kind}] {summary}", exc.message)
            raise

    def transfer_receipt(self, openid: str, *, payee: str, amount: Decimal, at: datetime, reference: str,
                         card_tail: str, url: str | None = None) -> int | None:
        return self.send(openid, "transfer_receipt", (payee, amount, at, reference, f"储蓄卡尾号{card_tail}"), url)

    def card_progress(self, openid: str, *, product: str, stage: str, at: datetime, note: str = "-") -> int | None:
        return self.send(openid, "card_progress", (product, stage, at, note))

    def loan_progress(self, openid: str, *, product: str, stage: str, amount: Decimal, at: datetime) -> int | None:
        return self.send(openid, "loan_progress", (product, stage, amount, at))

    def news(self, openid: str, *, title: str, at: datetime, summary: str, url: str | None = None) -> int | None:
        return self.send(openid, "news", (title, at, summary), url)
