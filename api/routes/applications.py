"""Back office for card and loan applications (role admin; DESIGN.md "Wave 2 contract").

`GET /v1/admin/applications?kind=card|loan&stage=S` lists applications (the customer's name
masked, 王*), most recently moved first. `POST /v1/admin/applications/{id}/stage {"stage"}`
moves one to its next stage: an illegal move is 409 with the stages it may go to
(`{"error": {...}, "allowed": [...]}`), an unknown id 404, a stage the application kind does
not have 422. Disbursing a loan posts the money and creates the schedule; mailing a card
makes it (inactive until the customer activates it). Every move is audited.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep
from api.errors import error_body
from api.limits import IdPath
from chatbot.dialogue.flows.lending_products import GraphProducts
from chatbot.tools.lending import ApplicationInfo, StageConflict
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/admin/applications", tags=["admin"])

Stage = Literal["submitted", "reviewing", "approved", "rejected", "producing", "mailed", "activated", "disbursed"]
Kind = Literal["card", "loan"]


class StageIn(BaseModel):
    stage: Stage = Field(description="目标阶段：信用卡 submitted→reviewing→approved|rejected→producing→mailed→"
                                     "activated；贷款 submitted→reviewing→approved|rejected→disbursed")
    note: str | None = Field(default=None, max_length=200, description="备注（如未通过的原因）")


def mask_name(name: str) -> str:
    """王芳 -> 王*, 欧阳娜娜 -> 欧***: the family name's first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _row(app: ApplicationInfo) -> dict:
    return {"id": app.id, "reference": app.reference, "kind": app.kind, "customer": mask_name(app.customer_name),
            "product": app.product_name, "product_code": app.product_code, "stage": app.stage,
            "stage_name": app.stage_name, "amount": str(app.amount) if app.amount is not None else None,
            "term_months": app.term_months, "submitted_at": app.submitted_at.isoformat(),
            "updated_at": app.updated_at.isoformat(), "allowed": list(app.allowed)}


def _detail(app: ApplicationInfo) -> dict:
    return {**_row(app), "events": [{"stage": e.stage, "stage_name": e.name, "at": e.at.isoformat(), "actor": e.actor}
                                    for e in app.events],
            "card_tail": app.card_tail, "credit_limit": str(app.credit_limit) if app.credit_limit else None,
            "loan_reference": app.loan_reference, "decision_reason": app.decision_reason}


@router.get("")
async def list_applications(_admin: AdminDep, services: ServicesDep, kind: Kind | None = Query(default=None),
                            stage: Stage | None = Query(default=None),
                            limit: int = Query(default=200, ge=1, le=500)) -> dict:
    """Applications, most recently moved first; `kind` and `stage` narrow the list."""
    def read() -> list[dict]:
        with services.database.read() as db:
            return [_row(a) for a in SqlBank(db).list_applications(kind, stage, limit)]

    return {"applications": await run_in_threadpool(read)}


@router.post("/{application_id}/stage", responses={
    404: {"description": "application_not_found"}, 409: {"description": "illegal_stage, with `allowed`"},
    422: {"description": "invalid_stage"}})
async def move_stage(application_id: IdPath, body: StageIn, admin: AdminDep, services: ServicesDep):
    """Move the application to `stage` (its next stage); the moved application comes back."""
    now = services.clock.now()
    products = GraphProducts(getattr(services.knowledge.graph, "graph", None))

    def move() -> dict:
        with services.database.write() as db:
            return _detail(SqlBank(db).move_application(application_id, body.stage, f"staff:{admin.username}", now,
                                                        products, body.note))

    try:
        return await run_in_threadpool(move)
    except StageConflict as conflict:
        return JSONResponse({**error_body(conflict.code, conflict.message), "allowed": list(conflict.allowed)},
                            status_code=409)
