"""Financial news: the public catalogue and the back office (DESIGN.md "Wave 2 contract").

Public (no login): `GET /v1/news?category=C&limit=N` -> `{"items": [{"id", "title", "category",
"published_at", "important"}]}`, newest first (limit 1..1000 accepted, at most 50 returned);
`GET /v1/news/{id}` -> the item with its summary and body (404 when unknown or unpublished).

Back office (role admin, audited): `POST /v1/admin/news` publishes now -> 201 `{"id"}`; an
important item is pushed to its category's subscribers at once, right after the answer (and
by the next scheduled run if that push fails). `DELETE /v1/admin/news/{id}` unpublishes
(204; 404 when unknown): it leaves lists, full views and pushes.
"""
from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep
from api.limits import IdPath
from chatbot.errors import NotFound
from chatbot.news import catalogue
from chatbot.news.wiring import news_job
from chatbot.storage import audit

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/news", tags=["news"])
admin_router = APIRouter(prefix="/v1/admin/news", tags=["admin"])

Category = Literal["宏观经济", "金融政策", "市场动态", "行业分析", "理财产品"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class NewsIn(BaseModel):
    title: Annotated[Text, StringConstraints(max_length=128)]
    summary: Annotated[Text, StringConstraints(max_length=500)]
    body: Annotated[Text, StringConstraints(max_length=10000)]
    category: Category
    important: bool = Field(default=False, description="重要资讯：立即推送给订阅该类别的客户")


@router.get("")
async def list_news(services: ServicesDep, category: Category | None = Query(default=None),
                    limit: int = Query(default=20, ge=1, le=1000,
                                       description=f"条数，最多返回 {catalogue.MAX_LIMIT} 条")) -> dict:
    """Published news, newest first."""
    def read() -> list[dict]:
        with services.database.read() as db:
            return [item.public() for item in catalogue.latest(db, services.clock.now(), category, limit)]

    return {"items": await run_in_threadpool(read)}


@router.get("/{news_id}", responses={404: {"description": "news_not_found"}})
async def read_news(news_id: IdPath, services: ServicesDep) -> dict:
    """One published item in full."""
    def read():
        with services.database.read() as db:
            return catalogue.get(db, news_id, services.clock.now())

    item = await run_in_threadpool(read)
    if item is None:
        raise NotFound("没有这条资讯，或已下线", "news_not_found")
    return {**item.public(), "summary": item.summary, "body": item.body}


@admin_router.post("", status_code=201)
async def publish_news(body: NewsIn, admin: AdminDep, services: ServicesDep, request: Request,
                       background: BackgroundTasks) -> dict:
    """Publish an item now; an important one is pushed at once."""
    def write() -> int:
        now = services.clock.now()
        with services.database.write() as db:
            news_id = catalogue.publish(db, now, title=body.title, summary=body.summary, body=body.body,
                                        category=body.category, important=body.important,
                                        created_by=f"staff:{admin.username}")
            audit.record(db, f"staff:{admin.username}", "news_publish", f"news:{news_id}", now,
                         category=body.category, important=body.important, title=body.title)
            return news_id

    news_id = await run_in_threadpool(write)
    if body.important:
        background.add_task(_push_important, services, request.app.state.wechat)
    return {"id": news_id}


@admin_router.delete("/{news_id}", status_code=204, responses={404: {"description": "news_not_found"}})
async def unpublish_news(news_id: IdPath, admin: AdminDep, services: ServicesDep) -> Response:
    """Take an item out of lists and pushes."""
    def write() -> bool:
        now = services.clock.now()
        with services.database.write() as db:
            found = catalogue.unpublish(db, news_id, now)
            if found:
                audit.record(db, f"staff:{admin.username}", "news_unpublish", f"news:{news_id}", now)
            return found

    if not await run_in_threadpool(write):
        raise NotFound("没有这条资讯", "news_not_found")
    return Response(status_code=204)


def _push_important(services, wechat) -> None:
    """After the answer: tell the important items now (the scheduler would within its interval)."""
    try:
        news_job(services, wechat).run(reasons=("important",))
    except Exception:  # logged; the next scheduled run tries again
        log.exception("news push after publishing failed")
