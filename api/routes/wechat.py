"""WeChat official-account callback `GET|POST /wechat` (thin: `WeChatChannel` does the work).

GET answers WeChat's URL verification with `echostr`; POST takes a message or event (XML,
plaintext or `encrypt_type=aes`) and returns the passive reply as `application/xml`, or
`success`. Forged, stale or unreadable callbacks get a JSON 4xx (api/errors.py).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from chatbot.channels.wechat.adapter import WeChatChannel
from chatbot.channels.wechat.errors import WeChatRequestError

router = APIRouter(tags=["wechat"])
MAX_BODY_BYTES = 256 * 1024  # WeChat's messages are a few KB


def get_wechat(request: Request) -> WeChatChannel:
    return request.app.state.wechat.channel


WeChatDep = Annotated[WeChatChannel, Depends(get_wechat)]


@router.get("/wechat", response_class=PlainTextResponse, summary="微信公众号服务器地址验证")
async def verify(request: Request, channel: WeChatDep) -> PlainTextResponse:
    """Echoes `echostr` when `signature` matches (token, timestamp, nonce)."""
    return PlainTextResponse(channel.verify(dict(request.query_params)))


@router.post("/wechat", summary="微信公众号消息回调",
             responses={200: {"content": {"application/xml": {}, "text/plain": {}}}})
async def callback(request: Request, channel: WeChatDep) -> Response:
    """One message or event from WeChat; the reply within WeChat's 5 seconds."""
    body = await _read_body(request)
    result = await run_in_threadpool(channel.handle, dict(request.query_params), body)
    return Response(result.body, media_type=result.media_type)


async def _read_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise WeChatRequestError("消息体过大", "body_too_large")
        chunks.append(chunk)
    return b"".join(chunks)
