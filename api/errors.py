"""The one place where errors become HTTP responses: `{"error": {"code", "message"}}`."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chatbot.errors import (
    ChatbotError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)

log = logging.getLogger(__name__)

STATUS = {
    InvalidInput: 422,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    RateLimited: 429,
    ServiceUnavailable: 503,
}
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _status_for(exc: ChatbotError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _chatbot_error(_request: Request, exc: ChatbotError) -> JSONResponse:
    status = _status_for(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
    if status >= 500:
        headers["Connection"] = "close"
    return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers or None)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(error_body("malformed_json", "请求体不是合法的 JSON"), status_code=400)
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "请求"
    message = f"{where}: {first.get('msg', '参数无效')}"
    return JSONResponse(error_body("validation_error", message), status_code=422)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = {404: "接口不存在", 405: "不支持该请求方法"}.get(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code >= 500:
        headers["Connection"] = "close"
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers or None)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # A bug, not bad input: log it with the trace, show the client no internals.
    log.exception("unhandled error", exc_info=exc)
    # The server may not have read the whole request (or be able to go on with the
    # connection): tell a keep-alive client to open a new one rather than leave it hanging.
    return JSONResponse(error_body("internal_error", "服务暂时出现问题，请稍后再试"), status_code=500,
                        headers={"Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChatbotError, _chatbot_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
