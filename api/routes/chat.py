"""Web chat: send a message, read the transcript (how agent replies reach the page).

Identity (DESIGN.md "Web identity"): the first message of an unseen `user_id` claims it
and its answer carries `user_token`; every later call for that id carries
`Authorization: Bearer <user_token>` (401 otherwise). Only `channel: "web"` is served
here (403 for another).
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Channel, ServicesDep, WebUserDep, bearer_token, client_address, require_web_channel
from api.deps import web_user_from_token
from api.turn_threads import run_turn
from chatbot.security import web_identity
from chatbot.handoff.notices import message_data
from chatbot.storage import conversations, handoffs
from chatbot.storage import feedback as answer_feedback

router = APIRouter(prefix="/v1/chat", tags=["chat"])

UserId = Field(min_length=1, max_length=128, description="渠道内的用户标识")
MAX_ID = 2 ** 63 - 1


class ChatRequest(BaseModel):
    user_id: str = UserId
    text: str = Field(description="用户消息，不超过 500 字")
    channel: Channel = "web"
    message_id: str | None = Field(default=None, min_length=1, max_length=128,
                                   description="客户端消息 ID；重复发送时返回首次的回答")
    rich: bool = Field(default=False, description=(
        "true：回复可含按钮、快捷回复、卡片、链接、表格等富消息（docs/rich_replies.md），每项仍带完整的 text；"
        "false（默认）：每项都是纯文本 {\"type\": \"text\", \"text\"}"))


class Choice(BaseModel):
    label: str = Field(description="按钮或快捷回复上显示的文字")
    send: str = Field(description="点击后作为客户消息发送的文字（与手动输入相同）")


class LinkOut(BaseModel):
    label: str
    url: str


class CardRow(BaseModel):
    label: str
    value: str


class ReplyOut(BaseModel):
    """One reply item (docs/rich_replies.md). `text` is always the whole reply as plain text;
    the other fields, present only for their `type`, say how a richer client draws it."""

    type: str = Field(description="text | buttons | quick_replies | link | card | table（未知类型按 text 显示）")
    text: str = Field(description="完整的纯文本形式（终端、微信等不支持富消息的渠道直接使用）")
    buttons: list[Choice] | None = Field(default=None, description="buttons / card：回复下方的按钮")
    options: list[Choice] | None = Field(default=None, description="quick_replies：快捷回复")
    caption: str | None = Field(default=None, description="link：链接上方的说明（不含地址）")
    links: list[LinkOut] | None = Field(default=None, description="link：带文字的下载或文档链接")
    title: str | None = Field(default=None, description="card / table：标题")
    rows: list[CardRow] | list[list[str]] | None = Field(
        default=None, description="card：[{label, value}]；table：每行的单元格")
    columns: list[str] | None = Field(default=None, description="table：列名")
    feedback: str | None = Field(default=None, description="知识问答的回答：评价“有帮助吗”时回传的标识")
    related: list[Choice] | None = Field(default=None, description="知识问答的回答：相关问题")


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
    agent: str | None = Field(default=None, description="客服的称呼（仅人工客服的消息，如“小王”）")


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
    answer = reply.to_dict(rich=body.rich)
    if claiming:
        answer["user_token"] = web_identity.issue(services.settings.secret_key, body.user_id)
    # Built by the engine in the documented shape: sent as it is, without validating it again
    # against ChatResponse (the model stays for the OpenAPI schema and the contract tests).
    return JSONResponse(answer)


class FeedbackRequest(BaseModel):
    user_id: str = UserId
    feedback: str = Field(min_length=1, max_length=64, pattern=r"^[a-z]+$",
                          description="回答中 `feedback` 字段的标识")
    helpful: bool = Field(description="true：有帮助（👍）；false：没帮助（👎）")


class FeedbackResponse(BaseModel):
    recorded: bool = True


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(body: FeedbackRequest, request: Request, services: ServicesDep) -> dict:
    """A customer's 有帮助吗 👍 / 👎 on a knowledge answer (the token's user; a second tap replaces the first)."""
    user_id = web_user_from_token(request, services, body.user_id)

    def store() -> None:
        with services.database.write() as db:
            answer_feedback.record(db, "web", user_id, body.feedback, body.helpful, services.clock.now())

    await run_in_threadpool(store)
    return {"recorded": True}


@router.get("/history", response_model=HistoryResponse, response_model_exclude_none=True)
async def history(user_id: WebUserDep, services: ServicesDep,
                  after: int = Query(default=0, ge=0, le=MAX_ID)) -> dict:
    """Transcript messages with id greater than `after`, oldest first (the token's user)."""

    def load() -> list[dict]:
        with services.database.read() as db:
            rows = conversations.history(db, "web", user_id, after)
            writers = handoffs.staff_by_id(db, {m.agent_id for m in rows if m.agent_id is not None})
            return [message_data(m, writers[m.agent_id].display_name if m.agent_id in writers else None)
                    for m in rows]

    return {"messages": await run_in_threadpool(load)}
