"""WeChat's HTTP API at `CHATBOT_WECHAT_API_BASE`: the access token and the calls we make.

    token            GET  /cgi-bin/token                  cached in a `TokenStore` until shortly
                                                          before it expires; one refresher at a time
    customer service POST /cgi-bin/message/custom/send    agent replies, late answers
    template         POST /cgi-bin/message/template/send  notifications
    menu             POST /cgi-bin/menu/create            `chatbot wechat menu push`

An answer saying the token is invalid or expired (40001, 40014, 42001) triggers one refresh
and one retry. Network errors, HTTP 5xx and "system busy" (-1) are retried with exponential
backoff; whatever still fails is logged and raised as `WeChatApiError`.
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from chatbot.channels.wechat.errors import WeChatApiError, WeChatNotConfigured
from chatbot.channels.wechat.token_store import TokenStore

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid, malformed, expired access_token
RETRYABLE_ERRORS = frozenset({-1})               # 系统繁忙


@dataclass(frozen=True)
class Retry:
    """Attempts per call and the first pause between them (doubling each time)."""

    attempts: int = 3
    backoff_seconds: float = 0.5

    def pause(self, attempt: int) -> float:
        return self.backoff_seconds * (2 ** attempt)


class _Retryable(Exception):
    """A failure worth another attempt (network error, 5xx, errcode -1)."""


class WeChatApi:
    """A synchronous client; safe to share between threads."""

    def __init__(self, base_url: str, appid: str, secret: str, store: TokenStore, *,
                 timeout: float = 5.0, retry: Retry = Retry(), refresh_margin: float = 300.0,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not appid or not secret:
            raise WeChatNotConfigured("调用微信接口需要 CHATBOT_WECHAT_APPID 和 CHATBOT_WECHAT_SECRET")
        self.appid, self._secret, self.store = appid, secret, store
        self.retry, self.refresh_margin, self._sleep = retry, refresh_margin, sleep
        self.lock_timeout = timeout * retry.attempts + 5
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        _redact_httpx_logs()

    @classmethod
    def from_settings(cls, settings, store: TokenStore, **kwargs) -> "WeChatApi":
        return cls(settings.wechat_api_base, settings.wechat_appid or "", settings.wechat_secret or "", store,
                   timeout=settings.wechat_api_timeout_seconds,
                   retry=Retry(settings.wechat_api_attempts, settings.wechat_api_backoff_seconds),
                   refresh_margin=settings.wechat_token_refresh_margin_seconds, **kwargs)

    def close(self) -> None:
        self._http.close()

    # --- the calls ---------------------------------------------------------------------------
    def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (allowed within 48 hours of the user's last message)."""
        self.call("/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})

    def send_news(self, openid: str, article: dict) -> None:
        """A customer-service news (图文) message of one article `{title, description, url, picurl}`
        (WeChat answers 45008 to more than one)."""
        self.call("/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "news", "news": {"articles": [article]}})

    def send_template(self, payload: dict) -> int | None:
        """A template message; returns WeChat's msgid."""
        return self.call("/cgi-bin/message/template/send", payload).get("msgid")

    def create_menu(self, menu: dict) -> None:
        self.call("/cgi-bin/menu/create", menu)

    def call(self, path: str, payload: dict) -> dict:
        """POST `payload` with the access token; one token refresh if WeChat rejects it."""
        token = self.access_token()
        body = self._request("POST", path, {"access_token": token}, payload)
        if body.get("errcode") in TOKEN_ERRORS:
            log.warning("WeChat rejected the access token on %s (errcode %s); refreshing once", path, body["errcode"])
            token = self._refresh(stale=token)
            body = self._request("POST", path, {"access_token": token}, payload)
        _raise_for_errcode(path, body)
        return body

    # --- access token ------------------------------------------------------------------------
    def access_token(self) -> str:
        return self.store.get() or self._refresh(stale=None)

    def _refresh(self, stale: str | None) -> str:
        with self.store.refresh_lock(self.lock_timeout):
            current = self.store.get()
            if current and current != stale:
                return current  # another thread or worker refreshed while we waited
            params = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret}
            body = self._request("GET", "/cgi-bin/token", params, None)
            _raise_for_errcode("/cgi-bin/token", body)
            token, expires_in = body.get("access_token"), body.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires_in, int) or not token:
                raise WeChatApiError("微信 access_token 接口返回格式异常")
            self.store.put(token, self._keep_for(expires_in))
            log.info("fetched a new WeChat access token (valid %ss)", expires_in)
            return token

    def _keep_for(self, expires_in: int) -> float:
        """Keep the token until `refresh_margin` before it expires (half its life if shorter)."""
        if expires_in > 2 * self.refresh_margin:
            return expires_in - self.refresh_margin
        return max(expires_in / 2, 0.001)

    # --- transport with retries ----------------------------------------------------------------
    def _request(self, method: str, path: str, params: dict, payload: dict | None) -> dict:
        content = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content else None
        last = ""
        for attempt in range(self.retry.attempts):
            try:
                return self._once(method, path, params, content, headers)
            except (httpx.TransportError, _Retryable) as exc:
                last = str(exc) or type(exc).__name__
                log.warning("WeChat API %s failed (attempt %d/%d): %s", path, attempt + 1, self.retry.attempts, last)
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.pause(attempt))
        log.error("WeChat API %s failed after %d attempts: %s", path, self.retry.attempts, last)
        raise WeChatApiError(f"微信接口 {path} 暂时不可用：{last}")

    def _once(self, method, path, params, content, headers) -> dict:
        response = self._http.request(method, path, params=params, content=content, headers=headers)
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise WeChatApiError(f"微信接口 {path} 返回的不是 JSON（HTTP {response.status_code}）") from None
        if not isinstance(body, dict):
            raise WeChatApiError(f"微信接口 {path} 返回格式异常")
        if body.get("errcode") in RETRYABLE_ERRORS:
            raise _Retryable(f"errcode {body['errcode']}: {body.get('errmsg', '')}")
        return body


def _raise_for_errcode(path: str, body: dict) -> None:
    errcode = body.get("errcode", 0)
    if errcode:
        log.error("WeChat API %s refused: errcode %s %s", path, errcode, body.get("errmsg", ""))
        raise WeChatApiError(f"微信接口 {path} 返回错误 {errcode}：{body.get('errmsg', '')}", errcode)


_SECRET_PARAM = re.compile(r"((?:secret|access_token)=)[^&\s\"']+")


class _RedactSecrets(logging.Filter):
    """httpx logs request URLs at INFO; ours carry the AppSecret and access token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_SECRET_PARAM.sub(r"\1***", str(a)) if "=" in str(a) else a
                                for a in record.args)
        return True


def _redact_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
        logger.addFilter(_RedactSecrets())
