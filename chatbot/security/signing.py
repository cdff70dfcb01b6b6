"""Signed, expiring tokens for links (e.g. a transaction export the customer downloads).

A token is `base64url(compact JSON {"p": payload, "exp": unix seconds}) "." base64url(HMAC-SHA256)`.
The payload is readable by whoever holds the token (signed, not encrypted): put ids and
filters in it, never secrets. The HMAC key is derived from the service secret for this use
only, so a signature made here means nothing to any other use of the same secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from chatbot.errors import Forbidden

_KEY_LABEL = b"chatbot.signing.v1"


class InvalidToken(Forbidden):
    """The token is malformed or its signature does not match (forged or altered)."""

    default_code = "invalid_token"


class ExpiredToken(Forbidden):
    """The token was genuine but its time is up."""

    default_code = "token_expired"


def sign(payload: dict, secret_key: str, expires_at: datetime) -> str:
    """A URL-safe token carrying `payload` (JSON-serialisable) until `expires_at` (aware)."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    body = json.dumps({"p": payload, "exp": int(expires_at.timestamp())},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    encoded = _b64encode(body)
    return f"{encoded}.{_b64encode(_mac(encoded, secret_key))}"


def unsign(token: str, secret_key: str, now: datetime) -> dict:
    """The payload of a genuine, unexpired token; InvalidToken or ExpiredToken otherwise."""
    encoded, _, signature = token.partition(".")
    expected = _b64encode(_mac(encoded, secret_key))
    # Compare the encoded forms (one spelling per signature); look inside only once genuine.
    if not encoded or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidToken("链接无效或已被篡改", "invalid_token")
    body = json.loads(_b64decode(encoded))
    if now.timestamp() >= body["exp"]:
        raise ExpiredToken("链接已过期，请重新获取", "token_expired")
    return body["p"]


def _mac(encoded: str, secret_key: str) -> bytes:
    key = hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, encoded.encode(), hashlib.sha256).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
