"""Web chat identity: the signed `user_token` a web user id is claimed with.

A web page makes up its own `user_id`; that id alone proves nothing (it leaks through
transcripts, screenshots and logs). The first message of an unseen id claims it and the
answer carries a token; every later call for that id must present the token
(`Authorization: Bearer …`). The token is

    "w1." + base64url(user_id) + "." + base64url(HMAC-SHA256(key, "w1." + base64url(user_id)))

with the key derived from `CHATBOT_SECRET_KEY` for this use only, so it can be checked
without a database read and means nothing to any other signed thing of the service.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac

from chatbot.errors import Unauthorized
from chatbot.security import b64url

PREFIX = "w1."
_KEY_LABEL = b"chatbot.web-identity.v1"
MAX_TOKEN_LENGTH = 400


class WebIdentityError(Unauthorized):
    default_code = "invalid_user_token"


def issue(secret_key: str, user_id: str) -> str:
    """The token of `user_id` (the same id always gets the same token under one secret)."""
    body = PREFIX + b64url.encode(user_id.encode())
    return f"{body}.{b64url.encode(_mac(secret_key, body))}"


def verify(secret_key: str, token: str | None) -> str:
    """The user id a genuine token stands for; WebIdentityError otherwise."""
    if not token:
        raise WebIdentityError("缺少用户令牌（Authorization: Bearer <user_token>）", "missing_user_token")
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(PREFIX):
        raise WebIdentityError("用户令牌无效", "invalid_user_token")
    body, _, signature = token.rpartition(".")
    expected = b64url.encode(_mac(secret_key, body))
    if not body.startswith(PREFIX) or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise WebIdentityError("用户令牌无效", "invalid_user_token")
    try:
        return b64url.decode(body[len(PREFIX):]).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise WebIdentityError("用户令牌无效", "invalid_user_token") from None


def _mac(secret_key: str, body: str) -> bytes:
    key = hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).digest()
