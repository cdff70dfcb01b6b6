"""Password and code hashing (argon2 for passwords, keyed HMAC for short codes)."""
from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_code(secret_key: str, subject: str, code: str) -> str:
    """Hash a one-time code bound to its subject; compare with `hmac.compare_digest`."""
    message = f"{subject}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
