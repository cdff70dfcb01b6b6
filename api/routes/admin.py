"""Admin API for the desk (role admin; metrics also analyst): metrics, canned replies,
agent capacity, the audit log, ending a staff member's tokens. Other admin areas (FAQ,
models) live in their own modules.
"""
from __future__ import annotations

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, MetricsReaderDep, ServicesDep
from api.limits import MAX_ID, IdPath

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class CannedIn(BaseModel):
    title: str = Field(min_length=1, max_length=64, description="短标题，如“问候”")
    text: str = Field(min_length=1, max_length=1000, description="插入输入框的回复内容")


class CapacityIn(BaseModel):
    capacity: int = Field(ge=1, le=50, description="该客服同时服务的会话数上限")


@router.get("/metrics")
async def metrics(_staff: MetricsReaderDep, services: ServicesDep,
                  hours: int = Query(default=24, ge=1, le=24 * 31)) -> dict:
    """Queue length, wait, first response, handle time, resolution, ratings per agent."""
    return await run_in_threadpool(services.handoff.metrics.snapshot, hours)


@router.get("/canned-replies")
async def list_canned(_admin: AdminDep, services: ServicesDep) -> dict:
    return {"replies": await run_in_threadpool(services.handoff.admin.canned_replies)}


@router.post("/canned-replies", status_code=201)
async def add_canned(body: CannedIn, admin: AdminDep, services: ServicesDep) -> dict:
    """Add a quick reply (快捷回复) for all agents."""
    return await run_in_threadpool(services.handoff.admin.add_canned, admin, body.title, body.text)


@router.put("/canned-replies/{reply_id}")
async def update_canned(reply_id: IdPath, body: CannedIn, admin: AdminDep, services: ServicesDep) -> dict:
    return await run_in_threadpool(services.handoff.admin.update_canned, admin, reply_id, body.title, body.text)


@router.delete("/canned-replies/{reply_id}", status_code=204)
async def delete_canned(reply_id: IdPath, admin: AdminDep, services: ServicesDep) -> Response:
    await run_in_threadpool(services.handoff.admin.delete_canned, admin, reply_id)
    return Response(status_code=204)


@router.put("/agents/{username}/capacity")
async def set_capacity(username: str, body: CapacityIn, admin: AdminDep, services: ServicesDep) -> dict:
    """How many sessions this agent may serve at once."""
    return await run_in_threadpool(services.handoff.admin.set_capacity, admin, username, body.capacity)


@router.post("/staff/{username}/revoke-tokens")
async def revoke_tokens(username: str, admin: AdminDep, services: ServicesDep) -> dict:
    """End every token this staff member holds, at once on every worker (audited); 404 for no
    such user. They can log in again unless their account is deactivated."""
    return await run_in_threadpool(services.auth.revoke_all, admin, username)


@router.get("/audit")
async def audit(_admin: AdminDep, services: ServicesDep,
                action: str | None = Query(default=None, max_length=64),
                actor: str | None = Query(default=None, max_length=128),
                before_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                limit: int = Query(default=100, ge=1, le=500)) -> dict:
    """Staff actions, newest first (`before_id` pages back)."""
    entries = await run_in_threadpool(lambda: services.handoff.admin.audit(
        action=action, actor=actor, before_id=before_id, limit=limit))
    return {"entries": entries}
