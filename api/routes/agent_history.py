"""Search over past conversations (历史会话) for the console, under /v1/agent.

    GET /conversations?q=&customer=&from=&to=&channel=&status=&reason=&rating=&agent=&limit=&offset=

Every filter is checked here (types, lengths, codes) or in chatbot/handoff/history.py (words,
the window of Beijing days): a bad one is a 422 JSON error, never a SQL error. Included by
api/routes/agent.py, so a search also marks the agent present.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import AgentDep, ServicesDep
from chatbot.handoff import history

router = APIRouter()

Reason = Literal["human_request", "call_back", "complaint", "not_understood", "flow_failed", "fraud_risk"]


@router.get("/conversations")
async def conversations(
    agent: AgentDep, services: ServicesDep,
    q: Annotated[str, Query(max_length=100, description="对话中的字词，空格分隔，最多 5 个（按脱敏后的文本搜索）")] = "",
    customer: Annotated[str | None, Query(max_length=64, description="客户：脱敏姓名（如 张*）或渠道用户 ID")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="北京时间的开始日期，如 2026-11-01")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="北京时间的结束日期（含当天）；最多 92 天")] = None,
    channel: Annotated[Literal["web", "wechat"] | None, Query(description="网页 / 微信")] = None,
    status: Annotated[Literal["closed", "released", "cancelled"] | None,
                      Query(description="如何结束：已结束 / 已转回机器人 / 客户取消")] = None,
    reason: Annotated[Reason | None, Query(description="转人工原因")] = None,
    rating: Annotated[int | None, Query(ge=1, le=5, description="客户评分 1–5")] = None,
    served_by: Annotated[str | None, Query(alias="agent", max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                                           description="服务客服的用户名（客服只能搜到自己服务过的会话）")] = None,
    limit: Annotated[int, Query(ge=1, le=history.MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=history.MAX_OFFSET)] = 0,
) -> dict:
    """Past conversations, newest end first: an agent's own, an admin's all."""
    query = history.Query(q=q, customer=customer, date_from=date_from, date_to=date_to, channel=channel,
                          status=status, reason=reason, rating=rating, agent=served_by, limit=limit, offset=offset)
    return await run_in_threadpool(services.handoff.console.search, agent, query)
