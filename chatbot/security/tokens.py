"""Signed, expiring bearer tokens for staff (agents, analysts, admins).

    token = "s1." + base64url(json claims) + "." + base64url(HMAC-SHA256(key, "s1." + payload))

The key is derived from `CHATBOT_SECRET_KEY` for this purpose only, so a token can never
double as another HMAC the service computes with the same secret. Tokens are verified
without a shared store; the staff row is still read on each request, so deactivating a user
or changing their role takes effect at once, and so does revoking: each token carries a
random id (`jti`, ended one by one at logout) and its user's token generation (`gen`, raised
by an admin's revoke to end them all); `chatbot.security.staff_auth` checks both.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from chatbot.errors import Unauthorized
from chatbot.security import b64url

PREFIX = "s1."


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"staff-token-v1", hashlib.sha256).digest()


MAX_ID = 2 ** 63 - 1  # staff ids are signed 64-bit database integers


def _is_id(value) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _is_number(value) -> bool:
    return type(value) in (int, float) and value == value  # not NaN


def _is_token_id(value) -> bool:
    return type(value) is str and 16 <= len(value) <= 32


def _is_generation(value) -> bool:
    return type(value) is int and 0 <= value <= MAX_ID


def issue(secret_key: str, staff_id: int, role: str, now: datetime, ttl: timedelta,
          generation: int = 0) -> tuple[str, datetime]:
    """A token for one staff member (in their current token generation) and the moment it expires."""
    expires = now + ttl
    claims = {"sub": staff_id, "role": role, "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
              "jti": secrets.token_urlsafe(16), "gen": generation}
    signed = PREFIX + b64url.encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(_key(secret_key), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{b64url.encode(signature)}", expires


def verify(secret_key: str, token: str, now: datetime) -> dict:
    """The token's claims; raises Unauthorized when it is malformed, forged or expired."""
    signed, _, signature = token.rpartition(".")
    if not signed.startswith(PREFIX) or not signature:
        raise Unauthorized("登录令牌无效，请重新登录", "invalid_token")
    expected = hmac.new(_key(secret_key), signed.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(expected, b64url.decode(signature))
        claims = json.loads(b64url.decode(signed[len(PREFIX):])) if valid else None
    except (ValueError, UnicodeDecodeError):
        valid, claims = False, None
    if not valid or not isinstance(claims, dict) or not _is_id(claims.get("sub")) \
            or not _is_number(claims.get("exp")) or not _is_token_id(claims.get("jti")) \
            or not _is_generation(claims.get("gen")):
        raise Unauthorized("登录令牌无效，请重新登录", "invalid_token")
    if now.timestamp() >= claims["exp"]:
        raise Unauthorized("登录已过期，请重新登录", "token_expired")
    return claims
