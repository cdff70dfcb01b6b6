"""Questions the bot could not answer, with the FAQ candidates it considered (admin, analyst)."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsReaderDep, ServicesDep
from chatbot.storage import conversations

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/unanswered")
async def unanswered(_staff: MetricsReaderDep, services: ServicesDep,
                     days: int = Query(default=7, ge=1, le=90),
                     limit: int = Query(default=200, ge=1, le=1000)) -> dict:
    """Masked question texts with their top candidates, newest first."""

    def load() -> list[dict]:
        since = services.clock.now() - timedelta(days=days)
        with services.database.read() as db:
            rows = conversations.unanswered(db, since, limit)
            return [{"at": row.created_at.isoformat(), "channel": row.channel, "text": row.text,
                     "candidates": _candidates(row.steps)} for row in rows]

    return {"questions": await run_in_threadpool(load)}


def _candidates(steps: list) -> list:
    found = next((s for s in steps if s.get("action") == "faq_not_found"), {})
    return found.get("candidates", [])
