"""Keys for personal data at rest: customers' ID numbers and phones (`CHATBOT_DATA_KEY`).

One key (a secret string) yields three values, each for one use:

- the key id: 8 hex characters stored in front of every value it encrypts, so a value names
  the key that opens it and a rotation can tell what is left to re-encrypt;
- the cipher key: AES-256-GCM over the value, with the field's name as associated data (an ID
  number's ciphertext does not open as a phone);
- the index key: HMAC-SHA256 over the normalized value, the keyed hash a customer is found by
  (binding by name + ID number) without decrypting any row. Without the key the hash tells
  nothing: ID numbers are too few to hide behind a plain hash.

    encrypted = "d1." + key id + "." + base64url(12-byte nonce + ciphertext + tag)

During a rotation (`chatbot keys rotate`, docs/security.md) the previous key is given as
`CHATBOT_DATA_KEY_OLD`: values under either key open, new values are written under the
current one, lookups try the index under both.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatbot.errors import ServiceUnavailable
from chatbot.security import b64url

PREFIX = "d1."
_NONCE_BYTES = 12


class DataKeyMissing(ServiceUnavailable):
    """A value was encrypted under a key this process does not have."""

    default_code = "data_key_missing"


class PersonalDataBroken(ServiceUnavailable):
    """A value does not open under the key it names: altered, or not an encrypted value."""

    default_code = "personal_data_broken"


def _derive(material: str, purpose: str) -> bytes:
    return hmac.new(material.encode(), f"chatbot.data.v1:{purpose}".encode(), hashlib.sha256).digest()


def normalize(field: str, text: str) -> str:
    """The form a value is stored and hashed in (an ID number's check letter is upper case)."""
    text = text.strip()
    return text.upper() if field == "customers.id_number" else text


@dataclass(frozen=True, repr=False)
class DataKey:
    """One data key's derived values (the key string itself is not kept)."""

    key_id: str
    cipher_key: bytes
    index_key: bytes

    @classmethod
    def from_secret(cls, material: str) -> "DataKey":
        return cls(_derive(material, "id").hex()[:8], _derive(material, "encrypt"), _derive(material, "index"))

    def __repr__(self) -> str:  # never the key bytes in a log or a traceback
        return f"DataKey({self.key_id})"


class DataKeys:
    """The current data key, and during a rotation the previous one."""

    def __init__(self, current: DataKey, previous: DataKey | None = None) -> None:
        if previous is not None and previous.key_id == current.key_id:
            previous = None  # the same key twice: nothing to rotate
        self.current = current
        self.previous = previous

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The keys this process can open values of, current first."""
        return (self.current.key_id,) + ((self.previous.key_id,) if self.previous else ())

    def encrypt(self, field: str, text: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.current.cipher_key).encrypt(nonce, normalize(field, text).encode(), field.encode())
        return f"{PREFIX}{self.current.key_id}.{b64url.encode(nonce + sealed)}"

    def decrypt(self, field: str, value: str) -> str:
        key = self._key_of(value)
        try:
            raw = b64url.decode(value[len(PREFIX) + 9:])
            return AESGCM(key.cipher_key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], field.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            raise PersonalDataBroken(f"个人数据无法解密（{field} 被改动或不是加密值）") from None

    def index(self, field: str, text: str) -> str:
        """The keyed hash (64 hex) of a value under the current key."""
        return _index(self.current, field, text)

    def lookup_indexes(self, field: str, text: str) -> list[str]:
        """The keyed hashes a stored value may carry: under the current key and the previous one."""
        return [_index(key, field, text) for key in (self.current, self.previous) if key is not None]

    def key_id_of(self, value: str) -> str | None:
        """The key id an encrypted value names, or None when it is not one."""
        if not isinstance(value, str) or not value.startswith(PREFIX) or value[len(PREFIX) + 8:][:1] != ".":
            return None
        return value[len(PREFIX):len(PREFIX) + 8]

    def is_current(self, value: str) -> bool:
        return self.key_id_of(value) == self.current.key_id

    def _key_of(self, value: str) -> DataKey:
        key_id = self.key_id_of(value)
        if key_id is None:
            raise PersonalDataBroken("个人数据不是加密值（未迁移的明文？请运行 chatbot db upgrade）")
        for key in (self.current, self.previous):
            if key is not None and key.key_id == key_id:
                return key
        raise DataKeyMissing(f"个人数据由另一把密钥（{key_id}）加密：请检查 CHATBOT_DATA_KEY 与 CHATBOT_DATA_KEY_OLD")


def _index(key: DataKey, field: str, text: str) -> str:
    return hmac.new(key.index_key, f"{field}\x00{normalize(field, text)}".encode(), hashlib.sha256).hexdigest()


def sandbox_keys() -> DataKeys:
    """The sandbox's data key (`chatbot.settings.SANDBOX_DATA_KEY`, derived from its public
    secret): `make run` needs no setup, and it protects nothing (refused outside the sandbox)."""
    from chatbot.settings import SANDBOX_DATA_KEY

    return DataKeys(DataKey.from_secret(SANDBOX_DATA_KEY))
