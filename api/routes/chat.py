"""Web chat: send a message, read the transcript (how agent replies reach the page).

Identity (DESIGN.md "Web identity"): the first message of an unseen `user_id` claims it
and its answer carries `user_token`; every later call for that id carries
`Authorization: Bearer <user_token>` (401 otherwise). Only `channel: "web"` is served
here (403 for another).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Channel, ServicesDep, WebUserDep, bearer_token, client_address, require_web_channel
from api.deps import web_user_from_token
from api.json_response import FastJSONResponse
from api.rich_history import attach_items
from api.turn_threads import run_turn
from chatbot.errors import RateLimited
from chatbot.security import web_identity
from chatbot.security.rate_limit import Limit
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
    send: str | None = Field(default=None, description="点击后作为客户消息发送的文字（与手动输入相同）")
    url: str | None = Field(default=None, description="卡片上的链接按钮（如理财产品的“了解详情”）：点击打开的页面，此时没有 send")


class ProductRef(BaseModel):
    kind: str = Field(description="wealth：理财产品")
    code: str
    url: str = Field(description="产品页（站内路径）；微信图文消息链接到它")


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
    product: ProductRef | None = Field(default=None, description="产品卡片：是哪款产品（微信据此发图文消息）")


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
    item: ReplyOut | None = Field(default=None, description=(
        "仅在 rich=true 时：机器人这条消息原本的富消息（按钮、卡片、表格、链接…，docs/rich_replies.md）；"
        "text 与 item.text 相同"))


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
    return FastJSONResponse(answer)


class FeedbackRequest(BaseModel):
    user_id: str = UserId
    feedback: str = Field(min_length=1, max_length=64, pattern=r"^[a-z]+$",
                          description="回答中 `feedback` 字段的标识")
    helpful: bool = Field(description="true：有帮助（👍）；false：没帮助（👎）")


class FeedbackResponse(BaseModel):
    recorded: bool = True


# Votes recorded (a first tap or a changed one) per web user and per client address. A
# customer rates a few answers a conversation; these stop a script, not a customer.
FEEDBACK_PER_USER = Limit("feedback.user", 20, timedelta(minutes=10))
FEEDBACK_PER_ADDRESS = Limit("feedback.address", 200, timedelta(minutes=10))


@router.post("/feedback", response_model=FeedbackResponse,
             responses={404: {"description": "这位客户没有收到过这条回答"},
                        429: {"description": "评价过于频繁（Retry-After 给出秒数）"}})
async def feedback(body: FeedbackRequest, request: Request, services: ServicesDep) -> dict:
    """A customer's 有帮助吗 👍 / 👎 on a knowledge answer (the token's user; a second tap replaces the first).

    Looked up first in a read-only session: a key this user was never given is a 404 without a
    write transaction (nothing to take the SQLite writer lock for), and so is a user over the
    limits (429). Only a vote to record opens one, and counts against the limits in it (the
    service's limiter: Redis when configured, else rows in the same transaction)."""
    user_id = web_user_from_token(request, services, body.user_id)
    limiter = services.engine.policy.limiter
    address = client_address(request)
    limits = [(FEEDBACK_PER_USER, f"web\x00{user_id}")] + ([(FEEDBACK_PER_ADDRESS, address)] if address else [])

    def refuse_if_limited(db, now) -> None:
        waits = [wait for limit, subject in limits if (wait := limiter.retry_after(db, limit, subject, now))]
        if waits:
            raise RateLimited(f"评价太频繁，请 {max(waits)} 秒后再试", max(waits), "feedback_rate_limited")

    def store() -> None:
        now = services.clock.now()
        with services.database.read_only() as db:
            refuse_if_limited(db, now)
            answer_feedback.offered(db, "web", user_id, body.feedback)  # NotFound (404): not this user's
        with services.database.write() as db:
            refuse_if_limited(db, now)  # again: requests at once all passed the look above
            answer_feedback.record(db, "web", user_id, body.feedback, body.helpful, now)
            for limit, subject in limits:
                limiter.record(db, limit, subject, now)

    await run_in_threadpool(store)
    return {"recorded": True}


@router.get("/history", response_model=HistoryResponse, response_model_exclude_none=True)
async def history(user_id: WebUserDep, services: ServicesDep,
                  after: int = Query(default=0, ge=0, le=MAX_ID),
                  rich: bool = Query(default=False, description="true：机器人消息附带原本的富消息 item")) -> dict:
    """Transcript messages with id greater than `after`, oldest first (the token's user)."""

    def load() -> list[dict]:
        with services.database.read() as db:
            rows = conversations.history(db, "web", user_id, after)
            writers = handoffs.staff_by_id(db, {m.agent_id for m in rows if m.agent_id is not None})
            lines = [message_data(m, writers[m.agent_id].display_name if m.agent_id in writers else None)
                     for m in rows]
            if rich:
                attach_items(db, "web", user_id, rows, lines)
            return lines

    return {"messages": await run_in_threadpool(load)}
