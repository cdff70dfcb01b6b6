"""Web chat: send a message, read the transcript (how agent replies reach the page).

Identity (DESIGN.md "Web identity"): the first message of an unseen `user_id` claims it
and its answer carries `user_token`; every later call for that id carries
`Authorization: Bearer <user_token>` (401 otherwise). Only `channel: "web"` is served
here (403 for another).
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Channel, ServicesDep, WebUserDep, bearer_token, client_address, require_web_channel
from api.deps import web_user_from_token
from api.turn_threads import run_turn
from chatbot.security import web_identity
from chatbot.storage import conversations

router = APIRouter(prefix="/v1/chat", tags=["chat"])

UserId = Field(min_length=1, max_length=128, description="渠道内的用户标识")
MAX_ID = 2 ** 63 - 1


class ChatRequest(BaseModel):
    user_id: str = UserId
    text: str = Field(description="用户消息，不超过 500 字")
    channel: Channel = "web"
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
    user_token: str | None = Field(default=None, description="仅在该 user_id 的第一条消息的回答中出现")


class HistoryMessage(BaseModel):
    id: int
    sender: Literal["user", "bot", "agent"]
    text: str
    at: str


class HistoryResponse(BaseModel):
    messages: list[HistoryMessage]


@router.post("", response_model=ChatResponse, response_model_exclude_unset=True)
async def chat(body: ChatRequest, request: Request, services: ServicesDep) -> dict:
    """Send one customer message; returns the bot's replies and the session state."""
    require_web_channel(body.channel)
    claiming = bearer_token(request) is None
    if not claiming:
        web_user_from_token(request, services, body.user_id)
    reply = await run_turn(
        lambda: services.engine.handle("web", body.user_id, body.text, body.message_id,
                                       client_address(request), claim_identity=claiming),
        services.settings.turn_threads, conversation=body.user_id,
    )
    answer = reply.to_dict()
    if claiming:
        answer["user_token"] = web_identity.issue(services.settings.secret_key, body.user_id)
    return answer


@router.get("/history", response_model=HistoryResponse)
async def history(user_id: WebUserDep, services: ServicesDep,
                  after: int = Query(default=0, ge=0, le=MAX_ID)) -> dict:
    """Transcript messages with id greater than `after`, oldest first (the token's user)."""

    def load() -> list[dict]:
        with services.database.read() as db:
            rows = conversations.history(db, "web", user_id, after)
            return [{"id": m.id, "sender": m.sender, "text": m.text, "at": m.created_at.isoformat()} for m in rows]

    return {"messages": await run_in_threadpool(load)}
