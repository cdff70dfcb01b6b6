"""Prometheus scrape endpoint: `GET /metrics` (text exposition format, handoff gauges).

Aggregates only (no customer data); restrict it at the network edge like any scrape target.
"""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.handoff import prometheus

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> PlainTextResponse:
    snapshot = await run_in_threadpool(services.handoff.metrics.snapshot, 24)
    return PlainTextResponse(prometheus.render(snapshot), media_type=prometheus.CONTENT_TYPE)
