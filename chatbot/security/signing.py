"""Expiring tokens for links: signed (readable) and sealed (opaque).

Signed: `base64url(compact JSON {"p": payload, "exp": unix seconds}) "." base64url(HMAC-SHA256)`.
The payload is readable by whoever holds the token (signed, not encrypted): only for values
that may be seen. The HMAC key is derived from the service secret for this use only, so a
signature made here means nothing to any other use of the same secret.

Sealed (`seal_token` / `open_token`, used by links customers receive, e.g. statement
exports): the same JSON plus a random token id, encrypted and authenticated with AES-GCM
(`chatbot.security.sealing`) under a key for the link's purpose (`label`). The link shows
nothing internal (no customer id, no filters); the token id lets the server spend it once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from chatbot.errors import Forbidden
from chatbot.security import b64url
from chatbot.security.sealing import SealBroken, seal, unseal

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
    encoded = b64url.encode(body)
    return f"{encoded}.{b64url.encode(_mac(encoded, secret_key))}"


def unsign(token: str, secret_key: str, now: datetime) -> dict:
    """The payload of a genuine, unexpired token; InvalidToken or ExpiredToken otherwise."""
    encoded, _, signature = token.partition(".")
    expected = b64url.encode(_mac(encoded, secret_key))
    # Compare the encoded forms (one spelling per signature); look inside only once genuine.
    if not encoded or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidToken("链接无效或已被篡改", "invalid_token")
    body = json.loads(b64url.decode(encoded))
    if now.timestamp() >= body["exp"]:
        raise ExpiredToken("链接已过期，请重新获取", "token_expired")
    return body["p"]


@dataclass(frozen=True)
class OpenedToken:
    payload: dict
    token_id: str  # random, unique per token: what a single-use link records once spent
    expires_at: datetime


def seal_token(payload: dict, secret_key: str, expires_at: datetime, label: str) -> str:
    """An opaque, URL-safe token carrying `payload` until `expires_at` (aware), for one purpose."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    body = json.dumps({"p": payload, "exp": int(expires_at.timestamp()), "jti": secrets.token_urlsafe(16)},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return seal(secret_key, f"link:{label}", body)


def open_token(token: str, secret_key: str, now: datetime, label: str) -> OpenedToken:
    """The contents of a genuine, unexpired sealed token; InvalidToken or ExpiredToken otherwise."""
    try:
        body = json.loads(unseal(secret_key, f"link:{label}", token))
        expires = int(body["exp"])
        payload, token_id = body["p"], str(body["jti"])
    except (SealBroken, ValueError, KeyError, TypeError):
        raise InvalidToken("链接无效或已被篡改", "invalid_token") from None
    if not isinstance(payload, dict) or not 0 < len(token_id) <= 64:
        raise InvalidToken("链接无效或已被篡改", "invalid_token")
    if now.timestamp() >= expires:
        raise ExpiredToken("链接已过期，请重新获取", "token_expired")
    return OpenedToken(payload, token_id, datetime.fromtimestamp(expires, timezone.utc))


def _mac(encoded: str, secret_key: str) -> bytes:
    key = hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, encoded.encode(), hashlib.sha256).digest()
