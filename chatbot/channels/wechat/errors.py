"""Errors of the WeChat channel, under the service's one root (`chatbot.errors`).

    ChatbotError
    ├── WeChatRequestError      a callback we cannot read: missing parameter, bad XML,
    │                           undecryptable body (-> HTTP 400)
    ├── Forbidden
    │   └── WeChatSignatureError  forged or stale callback (-> HTTP 403)
    └── ServiceUnavailable
        ├── WeChatNotConfigured   a needed CHATBOT_WECHAT_* setting is missing (-> 503)
        └── WeChatApiError        WeChat's API refused or could not be reached (-> 503)
"""
from __future__ import annotations

from chatbot.errors import ChatbotError, Forbidden, ServiceUnavailable


class WeChatRequestError(ChatbotError):
    default_code = "bad_wechat_request"


class WeChatSignatureError(Forbidden):
    default_code = "invalid_signature"


class WeChatNotConfigured(ServiceUnavailable):
    default_code = "wechat_not_configured"


class WeChatApiError(ServiceUnavailable):
    """An answer of WeChat's API with a non-zero `errcode` (None: no answer at all)."""

    default_code = "wechat_api_error"

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode
