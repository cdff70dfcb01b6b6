"""Purpose keys derived from the one service secret (`CHATBOT_SECRET_KEY`).

Each use of the secret (token signatures, digests, sealing) gets its own key, so a value
made for one use means nothing to another.
"""
from __future__ import annotations

import hashlib
import hmac


def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"chatbot.key.v1:{purpose}".encode(), hashlib.sha256).digest()


def phone_digest(secret_key: str, phone: str) -> str:
    """Keyed digest (64 hex) of a phone number: what the SMS inbox and the code rows keep
    instead of the number (found again by computing it from the number)."""
    return hmac.new(derive_key(secret_key, "phone-digest"), phone.strip().encode(), hashlib.sha256).hexdigest()
