"""URL-safe base64 without padding: how tokens and sealed values spell their bytes."""
from __future__ import annotations

import base64


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of `text`; binascii.Error (a ValueError) when it is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
