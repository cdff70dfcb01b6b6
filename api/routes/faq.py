"""FAQ search (public) and FAQ maintenance (role admin), effective without a restart.

Every edit goes through `knowledge.faq.editor.FaqEditor`: under the FAQ file's lock, on the
file as it is then (another worker's or an import's edit meanwhile is kept)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep
from chatbot.errors import InvalidInput
from chatbot.storage import audit
from knowledge.faq.editor import FaqEditor
from knowledge.faq.store import MAX_PHRASING_LENGTH, MAX_SIMILAR, load_faq

router = APIRouter(tags=["faq"])


class SearchIn(BaseModel):
    text: str = Field(description="问题，不超过 500 字")
    top_k: int = Field(default=5, ge=1, le=20)


class FaqIn(BaseModel):
    question: str = Field(min_length=1, max_length=200)
    # The limits analysts' labels respect when they add phrasings (knowledge/faq/store.py),
    # so an entry learned from them can be saved here.
    similar: list[Annotated[str, Field(max_length=MAX_PHRASING_LENGTH)]] = Field(
        default_factory=list, max_length=MAX_SIMILAR)
    answer: str = Field(min_length=1, max_length=2000)
    category: str = Field(min_length=1, max_length=32)
    tags: list[str] = Field(default_factory=list, max_length=20)
    offers: str | None = Field(default=None, max_length=48, pattern=r"^[a-z]+\.[a-z_]+$",
                               description="答案所讲、可在对话中办理的业务（意图名，如 card.repay）")


class FaqCreateIn(FaqIn):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")


@router.post("/v1/faq/search")
async def search(body: SearchIn, services: ServicesDep) -> dict:
    """The best FAQ entries for a question, with calibrated scores."""
    text = body.text.strip()
    if not text:
        raise InvalidInput("文本不能为空", "empty_text")
    if len(body.text) > services.settings.max_text_length:
        raise InvalidInput(f"文本过长，请控制在 {services.settings.max_text_length} 字以内", "text_too_long")
    hits = await run_in_threadpool(services.knowledge.retriever.search, text, body.top_k)
    return {"results": [hit.to_dict() for hit in hits]}


@router.get("/v1/admin/faq")
async def list_faq(_admin: AdminDep, request: Request) -> dict:
    """The entries as the FAQ file the edits go to has them now: another worker's edit or an
    import since this worker last answered a knowledge question is listed too (its index
    catches up on its own)."""
    entries = await run_in_threadpool(load_faq, _editor(request).path)
    return {"entries": [e.to_dict() for e in entries]}


@router.post("/v1/admin/faq", status_code=201)
async def create_faq(body: FaqCreateIn, admin: AdminDep, request: Request, services: ServicesDep) -> dict:
    entry = await run_in_threadpool(_editor(request).create, body.model_dump())
    await _audit(services, admin, "faq_create", entry.id)
    return entry.to_dict()


@router.put("/v1/admin/faq/{entry_id}")
async def update_faq(entry_id: str, body: FaqIn, admin: AdminDep, request: Request,
                     services: ServicesDep) -> dict:
    entry = await run_in_threadpool(_editor(request).update, entry_id, body.model_dump())
    await _audit(services, admin, "faq_update", entry.id)
    return entry.to_dict()


@router.delete("/v1/admin/faq/{entry_id}", status_code=204)
async def delete_faq(entry_id: str, admin: AdminDep, request: Request, services: ServicesDep) -> None:
    await run_in_threadpool(_editor(request).delete, entry_id)
    await _audit(services, admin, "faq_delete", entry_id)


def _editor(request: Request) -> FaqEditor:
    return request.app.state.faq_editor


async def _audit(services, admin, action: str, target: str) -> None:
    def write() -> None:
        with services.database.write() as db:
            audit.record(db, f"staff:{admin.username}", action, f"faq:{target}", services.clock.now())

    await run_in_threadpool(write)
