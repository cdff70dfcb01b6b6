"""Intent model versions (DESIGN.md "Wave 2 contract", Models).

`GET /v1/admin/models` (admin, analyst) -> `{"promoted", "versions": [{"version", "created_at",
"accuracy", "metrics", "promoted"}], "workers": [{"worker_id", "host", "pid", "model_version",
"started_at", "seen_at", "stale"}]}`: the saved versions, newest first, and the version every
serving process answers with (`chatbot/nlu/model_watch.py`).

`POST /v1/admin/models/{version}/promote` (admin) `{"force": false}` -> `{"promoted", "forced",
"gate"}` after the regression gate (`training/gate.py`); 409 with the gate's details when it
refuses (unless forced): `regression_gate`, or `gate_not_evaluated` when the promoted version
cannot be scored (deleted, or its model file unreadable); 409 `promotion_in_progress` when
another promotion held the lock for too long; 404 for an unknown version, 422 for a malformed
name. The gate scores models (seconds, the first time for a version) under the model
directory's promotion lock, which a concurrent promotion waits for: all of it runs in the
thread pool, never on the event loop.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep, require_role
from api.errors import error_body
from chatbot.nlu import model_watch
from chatbot.nlu.model_store import VERSION_PATTERN, promoted_version
from chatbot.security.staff_auth import Staff
from chatbot.service import Services
from training.registry import list_versions

router = APIRouter(prefix="/v1/admin/models", tags=["admin"])

# Analysts compare models and watch a promotion reach the workers; only admins promote.
ModelsReaderDep = Annotated[Staff, Depends(require_role("admin", "analyst"))]
# Checked before anything looks at the file system: `..`, paths and other names never get there.
VersionPath = Annotated[str, Path(pattern=VERSION_PATTERN, max_length=24,
                                  description="模型版本，形如 20261207-101500-1a2b3c4d")]


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: StrictBool = Field(default=False, description="回归门禁拒绝时仍然发布（记入审计日志）")


@router.get("")
async def list_models(_staff: ModelsReaderDep, services: ServicesDep) -> dict:
    """Saved versions (newest first), the promoted one, and what each serving worker runs."""
    return await run_in_threadpool(_listing, services)


@router.post("/{version}/promote")
async def promote(version: VersionPath, admin: AdminDep, services: ServicesDep, body: PromoteIn | None = None):
    """Promote `version` if the regression gate lets it (or `force`); workers swap within seconds."""
    from training.gate import RegressionRefused

    force = body.force if body is not None else False
    try:
        result = await run_in_threadpool(_promote, services, version, admin, force)
    except RegressionRefused as refused:
        payload = error_body(refused.code, refused.message)
        payload["error"] |= refused.gate.to_dict()
        return JSONResponse(payload, status_code=409)
    return {"promoted": version, "forced": not result.passed, "gate": result.to_dict()}


def _listing(services: Services) -> dict:
    settings = services.settings
    versions = list_versions(settings.model_dir)
    workers = model_watch.workers_report(services.database, services.clock.now(), settings.worker_heartbeat_seconds)
    return {"promoted": promoted_version(settings.model_dir),
            "versions": [{"version": v.version, "created_at": v.created_at,
                          "accuracy": v.metrics.get("held_out_accuracy"), "metrics": v.metrics,
                          "promoted": v.promoted} for v in versions],
            "workers": workers}


def _promote(services: Services, version: str, admin: Staff, force: bool):
    from training import gate

    return gate.promote(services.settings, services.database, version, f"staff:{admin.username}",
                        services.clock.now(), force=force,
                        announce=lambda promoted: model_watch.announce(services.handoff.events, promoted))
