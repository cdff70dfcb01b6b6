"""Request limits and response headers applied before any route runs (pure ASGI middleware).

- `BodyLimit`: a request body over the limit is refused with 413 before it is read (by its
  Content-Length) or as soon as it grows past the limit (chunked bodies without one). The
  body of an accepted request is read here once and handed on, so a route never parses more
  than the limit.
- Text that no database can store (NUL, lone surrogates) in the path, the query string or
  any string of a JSON body is a 422, so it never reaches SQL (PostgreSQL refuses NUL, no
  driver can encode a surrogate). `POST /v1/chat` checks its own body (chatbot/engine.py).
- `SecurityHeaders`: `X-Frame-Options`, `X-Content-Type-Options`, `Referrer-Policy` on every
  response and a `Content-Security-Policy` on the pages and their static files.

Also the bounds of integer ids in paths and queries (`MAX_ID`, `IdPath`): a database id is
a signed 64-bit integer, so a larger number is a 422 rather than an overflow in the driver.
"""
from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import Path

from api.errors import error_body

MAX_ID = 2 ** 63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

DEFAULT_BODY_LIMIT = 64 * 1024
# FAQ entries carry a list of similar questions and a long answer. The WeChat callback checks
# its own 256 KB (answering as WeChat expects); this is only the backstop there.
BODY_LIMITS = (("/v1/admin/faq", 256 * 1024), ("/wechat", 512 * 1024))
# Routes that check the characters of their own body.
OWN_TEXT_CHECKS = {("POST", "/v1/chat")}

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_PATHS = ("/", "/agent", "/admin")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def body_limit_for(path: str) -> int:
    for prefix, limit in BODY_LIMITS:
        if path == prefix or path.startswith(prefix + "/"):
            return limit
    return DEFAULT_BODY_LIMIT


def has_unstorable_text(value) -> bool:
    """True if a string anywhere in JSON-like data holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, list):
        return any(has_unstorable_text(v) for v in value)
    if isinstance(value, dict):
        return any(has_unstorable_text(k) or has_unstorable_text(v) for k, v in value.items())
    return False


async def _send_error(send, status: int, code: str, message: str, close: bool = False) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for bodies over the limit, 422 for text no database can store."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if _UNSTORABLE.search(path) or _query_has_nul(scope.get("query_string", b"")):
            await _send_error(send, 422, "invalid_characters", "请求包含无法识别的字符（如 NUL）")
            return
        limit = body_limit_for(path)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _send_error(send, 400, "bad_request", "Content-Length 无效", close=True)
                return
            if too_big:
                await _send_error(send, 413, "body_too_large", f"请求体过大（上限 {limit // 1024} KB）", close=True)
                return
        elif b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)  # no body at all
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_error(send, 413, "body_too_large", f"请求体过大（上限 {limit // 1024} KB）", close=True)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if (scope.get("method"), path) not in OWN_TEXT_CHECKS and _json_has_unstorable_text(headers, body):
            await _send_error(send, 422, "invalid_characters", "请求包含无法识别的字符（如 NUL 或不成对的代理字符）")
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _query_has_nul(query_string: bytes) -> bool:
    return b"\x00" in unquote_to_bytes(query_string.replace(b"+", b" "))


def _json_has_unstorable_text(headers: dict, body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if b"json" not in headers.get(b"content-type", b"").lower() or b"\\u" not in body:
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # malformed JSON: the route answers 400
    return has_unstorable_text(data)


class SecurityHeaders:
    """Framing, sniffing and referrer headers everywhere; a CSP on the pages."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        page = path in PAGE_PATHS or path.startswith("/static/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if page and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
