"""Callback authentication: signatures in constant time, freshness, and safe-mode AES.

WeChat signs every callback with `sha1(sorted([token, timestamp, nonce]))` and, in safe mode,
the encrypted body with `sha1(sorted([token, timestamp, nonce, Encrypt]))` (`msg_signature`).
We compute both ourselves and compare with `hmac.compare_digest` (wechatpy compares with `!=`);
only the AES part comes from wechatpy (`PrpCrypto`, `WeChatCrypto.encrypt_message`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from chatbot.channels.wechat.errors import WeChatNotConfigured, WeChatRequestError, WeChatSignatureError


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts joined without separator."""
    return hashlib.sha1(b"".join(sorted(p.encode() for p in parts))).hexdigest()


def check_signature(given: str, *parts: str) -> None:
    """Raise WeChatSignatureError unless `given` is the signature of `parts` (constant time)."""
    if not hmac.compare_digest(given.lower().encode(), sign(*parts).encode()):
        raise WeChatSignatureError("微信签名校验失败")


def check_fresh(timestamp: str, now: datetime, max_age_seconds: int) -> None:
    """Refuse callbacks whose timestamp is further than `max_age_seconds` from now (replays)."""
    try:
        sent = int(timestamp)
    except ValueError:
        raise WeChatRequestError("timestamp 不是整数", "invalid_timestamp") from None
    if abs(now.timestamp() - sent) > max_age_seconds:
        raise WeChatSignatureError("请求已过期（timestamp 超出允许范围）", "stale_request")


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key behind the 43-character EncodingAESKey; a clear error if it is not one."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise WeChatNotConfigured("CHATBOT_WECHAT_AES_KEY 必须是公众号后台生成的 43 位 EncodingAESKey")
    return key


class MessageCrypto:
    """Safe mode (`encrypt_type=aes`): verify and decrypt requests, encrypt replies."""

    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        self.token = token
        self.appid = appid
        self.key = aes_key(encoding_aes_key)
        self._encrypter = WeChatCrypto(token, encoding_aes_key, appid)

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The plaintext XML inside an `<xml><Encrypt>…</Encrypt></xml>` body."""
        encrypted = _encrypt_field(body)
        check_signature(msg_signature, self.token, timestamp, nonce, encrypted)
        try:
            return PrpCrypto(self.key).decrypt(encrypted, self.appid)
        except Exception as exc:  # wechatpy raises anything from padding to AppId errors
            raise WeChatRequestError("消息解密失败", "decrypt_failed") from exc

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The encrypted reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce)."""
        return self._encrypter.encrypt_message(xml, nonce, timestamp)


def _encrypt_field(body: bytes) -> str:
    try:
        envelope = xmltodict.parse(body)["xml"]
        encrypted = envelope["Encrypt"]
    except (ExpatError, KeyError, TypeError, ValueError):
        raise WeChatRequestError("安全模式消息缺少 Encrypt 字段", "malformed_xml") from None
    if not isinstance(encrypted, str) or not encrypted:
        raise WeChatRequestError("安全模式消息缺少 Encrypt 字段", "malformed_xml")
    return encrypted
