"""Web chat: send a message, read the transcript (how agent replies reach the page)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.storage import conversations

router = APIRouter(prefix="/v1/chat", tags=["chat"])

UserId = Field(min_length=1, max_length=128, description="渠道内的用户标识")


class ChatRequest(BaseModel):
    user_id: str = UserId
    text: str = Field(description="用户消息，不超过 500 字")
    channel: Literal["web", "wechat", "terminal"] = "web"
    message_id: str | None = Field(default=None, min_length=1, max_length=128,
                                   description="客户端消息 ID；重复发送时返回首次的回答")


class ReplyOut(BaseModel):
    type: str
    text: str


class StateOut(BaseModel):
    mode: Literal["bot", "queued", "agent"]
    intent: str | None
    active_flow: str | None


class ChatResponse(BaseModel):
    session_id: int
    replies: list[ReplyOut]
    state: StateOut


class HistoryMessage(BaseModel):
    id: int
    sender: Literal["user", "bot", "agent"]
    text: str
    at: str


class HistoryResponse(BaseModel):
    messages: list[HistoryMessage]


@router.post("", response_model=ChatResponse)
async def chat(body: ChatRequest, services: ServicesDep) -> dict:
    """Send one customer message; returns the bot's replies and the session state."""
    reply = await run_in_threadpool(
        services.engine.handle, body.channel, body.user_id, body.text, body.message_id
    )
    return reply.to_dict()


@router.get("/history", response_model=HistoryResponse)
async def history(
    services: ServicesDep,
    user_id: str = Query(min_length=1, max_length=128),
    after: int = Query(default=0, ge=0),
    channel: Literal["web", "wechat", "terminal"] = "web",
) -> dict:
    """Transcript messages with id greater than `after`, oldest first."""

    def load() -> list[dict]:
        with services.database.read() as db:
            rows = conversations.history(db, channel, user_id, after)
            return [{"id": m.id, "sender": m.sender, "text": m.text, "at": m.created_at.isoformat()} for m in rows]

    return {"messages": await run_in_threadpool(load)}
