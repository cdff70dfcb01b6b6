"""Sandbox SMS inbox: the stand-in for customers' phones. Mounted only when CHATBOT_ENV=sandbox."""
from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.storage import sms

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"])


@router.get("/sms")
async def sms_inbox(services: ServicesDep, phone: str = Query(pattern=r"^1[3-9]\d{9}$")) -> dict:
    """Text messages the bank sent to `phone`, newest first (kept only while a code may serve)."""

    def load() -> list[dict]:
        with services.database.read() as db:
            messages = sms.read_inbox(db, phone, services.settings.secret_key, services.clock.now())
            return [{"text": m.text, "sent_at": m.sent_at.isoformat()} for m in messages]

    return {"messages": await run_in_threadpool(load)}
