"""Sealed values: personal data that must be kept for a while but never in the clear.

`seal` encrypts a short text with AES-256-GCM under a key derived from the service secret
for one purpose (the `label`), so a value sealed for one use cannot be opened as another;
`unseal` returns the text, or raises `SealBroken` when the value was altered, sealed under
another key or label, or is not a sealed value at all.

    sealed = "v1." + base64url(12-byte nonce + ciphertext + tag)
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatbot.errors import ChatbotError
from chatbot.security import b64url

PREFIX = "v1."
_NONCE_BYTES = 12


class SealBroken(ChatbotError):
    """The sealed value cannot be opened with this key and label."""

    default_code = "seal_broken"


def _key(secret_key: str, label: str) -> bytes:
    return hmac.new(secret_key.encode(), f"chatbot.seal.v1:{label}".encode(), hashlib.sha256).digest()


def seal(secret_key: str, label: str, text: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key, label)).encrypt(nonce, text.encode(), label.encode())
    return PREFIX + b64url.encode(nonce + sealed)


def unseal(secret_key: str, label: str, value: str) -> str:
    if not isinstance(value, str) or not value.startswith(PREFIX):
        raise SealBroken("数据无法解密", "seal_broken")
    body = value[len(PREFIX):]
    try:
        raw = b64url.decode(body)
        opened = AESGCM(_key(secret_key, label)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], label.encode())
        return opened.decode()
    except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
        raise SealBroken("数据无法解密", "seal_broken") from None


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
