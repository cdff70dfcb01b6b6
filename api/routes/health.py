"""Liveness and readiness."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import error_body
from chatbot.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(services: ServicesDep):
    """`ok` when the database answers (and the intent model version this worker answers
    with); 503 with the reason otherwise."""
    try:
        await run_in_threadpool(services.database.check)
    except ServiceUnavailable as exc:
        return JSONResponse(error_body(exc.code, exc.message), status_code=503)
    return {"status": "ok", "database": services.database.backend, "env": services.settings.env,
            "model_version": getattr(services.parser.classifier, "version", None)}
