"""Agent API (role agent; admins too): the queue, one session, and what an agent does with it.

Session ids are chat session ids (`session_id` of `POST /v1/chat`). Only the agent who
owns a session may write into it; everything is audited (chatbot/handoff/desk.py). Every
call marks the agent present (wait estimates count agents online).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AgentDep, ServicesDep
from api.limits import IdPath
from api.routes import agent_history, agent_tools
from chatbot.handoff import labels


async def _present(agent: AgentDep, services: ServicesDep) -> None:
    """Any console call marks the agent online for a few minutes (CHATBOT_AGENT_PRESENCE_MINUTES)."""
    await run_in_threadpool(services.handoff.presence.acted, agent.id)


router = APIRouter(prefix="/v1/agent", tags=["agent"], dependencies=[Depends(_present)])


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000, description="发给客户的消息（会脱敏）")


class TransferIn(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="接手客服的用户名，如 agent2")
    note: str | None = Field(default=None, max_length=1000,
                             description="转接备注，仅客服可见（客户看不到），如“客户要求修改转账金额，已核实身份”")


class SlotsIn(BaseModel):
    slots: dict[str, str | int | float | bool] = Field(
        description="要修改的槽位（仅限当前流程声明的槽位，按客户输入同样校验），如 {\"amount\": \"2000\"}；"
                    "修改后客户须重新核对并确认")
    resolve_failed_step: bool = Field(default=True, description="清除失败步骤，转回机器人后从该步继续")


@router.get("/queue")
async def queue(agent: AgentDep, services: ServicesDep) -> dict:
    """Waiting customers (priority, then arrival), my sessions, my capacity, all agents' load."""
    return await run_in_threadpool(services.handoff.console.queue, agent)


@router.get("/agents")
async def agents(_agent: AgentDep, services: ServicesDep) -> dict:
    """Agents a session can be transferred to, with their load and capacity."""
    return {"agents": await run_in_threadpool(services.handoff.console.agents)}


@router.get("/labels")
async def console_labels(_agent: AgentDep) -> dict:
    """Chinese names of every code the console shows (intents, outcomes, reasons, steps …)."""
    return {"labels": labels.table(), "fallback": labels.FALLBACK}


@router.get("/sessions/{session_id}")
async def session(session_id: IdPath, agent: AgentDep, services: ServicesDep) -> dict:
    """Transcript, what the bot understood, masked customer context, a stalled flow."""
    return await run_in_threadpool(services.handoff.console.view, agent, session_id)


@router.post("/sessions/{session_id}/accept")
async def accept(session_id: IdPath, agent: AgentDep, services: ServicesDep) -> dict:
    """Take a queued session (409 when taken already or over capacity)."""
    return await run_in_threadpool(services.handoff.desk.accept, agent, session_id)


@router.post("/sessions/{session_id}/messages")
async def send(session_id: IdPath, body: MessageIn, agent: AgentDep, services: ServicesDep) -> dict:
    """Write to the customer (403 unless you own the session)."""
    return await run_in_threadpool(services.handoff.desk.send, agent, session_id, body.text)


@router.post("/sessions/{session_id}/transfer")
async def transfer(session_id: IdPath, body: TransferIn, agent: AgentDep, services: ServicesDep) -> dict:
    """Hand the session to another agent with free capacity, with an optional note for them."""
    return await run_in_threadpool(services.handoff.desk.transfer, agent, session_id, body.to, body.note)


@router.post("/sessions/{session_id}/slots")
async def set_slots(session_id: IdPath, body: SlotsIn, agent: AgentDep, services: ServicesDep) -> dict:
    """Correct a stalled flow's details (422 when the flow would refuse them); the customer
    re-confirms the full read-back after release before any code is sent."""
    return await run_in_threadpool(services.handoff.desk.set_slots, agent, session_id, body.slots,
                                   body.resolve_failed_step)


@router.post("/sessions/{session_id}/release")
async def release(session_id: IdPath, agent: AgentDep, services: ServicesDep) -> dict:
    """Back to the bot, dialogue state intact."""
    return await run_in_threadpool(services.handoff.desk.release, agent, session_id)


@router.post("/sessions/{session_id}/close")
async def close(session_id: IdPath, agent: AgentDep, services: ServicesDep) -> dict:
    """End the service; the customer is asked for a 1–5 rating."""
    return await run_in_threadpool(services.handoff.desk.close, agent, session_id)


router.include_router(agent_tools.router)  # quick replies, notes, presence: the agent's own tools
router.include_router(agent_history.router)  # search over past conversations (历史会话)
