"""`POST /v1/admin/reload` (admin): look at the promoted intent model and the FAQ file now.

Workers pick both up on their own within seconds (the model watcher, `chatbot/nlu/model_watch.py`;
the FAQ file's stamp, `KnowledgeDesk.refresh`); this is for an operator who changed a file by
hand and wants it answered from at once. The worker that takes the request reloads both; the
model announcement reaches every worker (at once over Redis, else at their next poll).
"""
from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ServicesDep
from chatbot.nlu import model_watch
from chatbot.nlu.model_store import promoted_version
from chatbot.service import Services
from chatbot.storage import audit

router = APIRouter(prefix="/v1/admin", tags=["admin"])
log = logging.getLogger(__name__)


@router.post("/reload")
async def reload(admin: AdminDep, services: ServicesDep) -> dict:
    """-> `{"model_version", "model_changed", "model_error", "faq_changed", "faq_entries"}`."""
    return await run_in_threadpool(_reload, services, admin.username)


def _reload(services: Services, username: str) -> dict:
    classifier = services.parser.classifier
    model_changed, model_error = False, None
    refresh = getattr(classifier, "refresh", None)
    if refresh is not None:
        try:
            model_changed = bool(refresh())
        except Exception as error:  # noqa: BLE001 (the old model keeps answering; say why)
            log.warning("reload: the promoted intent model cannot be loaded: %s", error)
            model_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
    promoted = promoted_version(services.settings.model_dir)
    if promoted is not None:
        model_watch.announce(services.handoff.events, promoted)  # the other workers look too
    faq_changed = services.knowledge.refresh(now_please=True)
    result = {"model_version": getattr(classifier, "version", None), "model_changed": model_changed,
              "model_error": model_error, "faq_changed": faq_changed,
              "faq_entries": len(services.knowledge.retriever.entries)}
    with services.database.write() as db:
        audit.record(db, f"staff:{username}", "reload", None, services.clock.now(),
                     model_changed=model_changed, faq_changed=faq_changed)
    return result
