"""The agent's own tools on the console (role agent; admins too), under /v1/agent:

    quick replies (快捷回复)   GET/POST /canned-replies, PUT/DELETE /canned-replies/{id}
                               any agent keeps them for everyone; open consoles reload on a change
    private notes (内部备注)   POST /sessions/{id}/notes: the owner's note for agents only; the
                               customer's history, status and event stream never carry one
    typing                     POST /sessions/{id}/typing: the customer's page shows 客服…正在输入
    presence                   PUT /presence {"status": online | busy | away}: only agents online
                               take new customers and count in the customers' wait estimates

Included by api/routes/agent.py, so every call here also marks the agent present.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AgentDep, ServicesDep
from api.limits import IdPath

router = APIRouter()


class CannedIn(BaseModel):
    title: str = Field(min_length=1, max_length=64, description="短标题，输入框中键入“/标题”可搜索，如“问候”")
    text: str = Field(min_length=1, max_length=1000, description="插入输入框的回复内容")


class PresenceIn(BaseModel):
    status: Literal["online", "busy", "away"] = Field(description="在线（接待新客户）、忙碌（不接新客户）、离开")


@router.put("/presence")
async def set_presence(body: PresenceIn, agent: AgentDep, services: ServicesDep) -> dict:
    """Your status on the desk; busy and away agents are left out of the wait estimates."""
    return await run_in_threadpool(services.handoff.presence.set_status, agent, body.status)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000, description="内部备注，仅客服可见，客户看不到（会脱敏）")


@router.post("/sessions/{session_id}/notes", status_code=201)
async def add_note(session_id: IdPath, body: NoteIn, agent: AgentDep, services: ServicesDep) -> dict:
    """A private note on a session you serve (403 otherwise); shown to agents only."""
    return await run_in_threadpool(services.handoff.desk.note, agent, session_id, body.text)


@router.post("/sessions/{session_id}/typing", status_code=204)
async def typing(session_id: IdPath, agent: AgentDep, services: ServicesDep) -> Response:
    """You are writing to this customer (at most every few seconds while typing): their page
    shows 客服…正在输入. Sessions you serve only (403 otherwise); nothing is stored."""
    await run_in_threadpool(services.handoff.desk.typing, agent, session_id)
    return Response(status_code=204)


@router.get("/canned-replies")
async def canned_replies(_agent: AgentDep, services: ServicesDep) -> dict:
    """Quick replies (快捷回复) for the composer ("/" searches them)."""
    return {"replies": await run_in_threadpool(services.handoff.admin.canned_replies)}


@router.post("/canned-replies", status_code=201)
async def add_canned(body: CannedIn, agent: AgentDep, services: ServicesDep) -> dict:
    """A quick reply for every agent; audited (`canned.create`)."""
    return await run_in_threadpool(services.handoff.admin.add_canned, agent, body.title, body.text)


@router.put("/canned-replies/{reply_id}")
async def update_canned(reply_id: IdPath, body: CannedIn, agent: AgentDep, services: ServicesDep) -> dict:
    return await run_in_threadpool(services.handoff.admin.update_canned, agent, reply_id, body.title, body.text)


@router.delete("/canned-replies/{reply_id}", status_code=204)
async def delete_canned(reply_id: IdPath, agent: AgentDep, services: ServicesDep) -> Response:
    await run_in_threadpool(services.handoff.admin.delete_canned, agent, reply_id)
    return Response(status_code=204)
