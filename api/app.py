"""FastAPI app factory: `create_app()` builds the service from settings and mounts routes.

`uvicorn --factory api.app:create_app` (what `chatbot serve` runs) calls it once per worker.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api import request_log
from api.errors import install_error_handlers
from api.limits import BodyLimit, SecurityHeaders
from api.routes import chat, chat_session, exports, faq, health, nlu, sandbox, unanswered
from api.routes import admin, agent, annotations, applications, auth, events, loan_schedule, metrics
from api.routes import news, wealth, wechat
from api.routes import models, reload
from chatbot.channels.wechat.setup import build_wechat
from chatbot.news.wiring import start_news_push
from chatbot.nlu.model_watch import start_for as start_model_watch
from chatbot.notify.wiring import start_notifications
from chatbot.service import Services, build_services
from chatbot.settings import Settings
from knowledge.faq.editor import FaqEditor

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, services: Services | None = None, *,
               notify: bool | None = None, watch_model: bool | None = None) -> FastAPI:
    """`notify`: run the notification and news push schedulers in the lifespan
    (CHATBOT_NOTIFY_INTERVAL_SECONDS, CHATBOT_NEWS_PUSH_INTERVAL_SECONDS);
    by default only when the app builds its own services (`chatbot serve`), not for given ones.
    `watch_model`: the same for the thread that swaps in a promoted intent model and records
    this worker's version (chatbot/nlu/model_watch.py)."""
    run_notify = services is None if notify is None else notify
    run_watch = services is None if watch_model is None else watch_model
    services = services or build_services(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        scheduler = start_notifications(services, _app.state.wechat) if run_notify else None
        news_scheduler = start_news_push(services, _app.state.wechat) if run_notify else None
        model_watcher = start_model_watch(services) if run_watch else None
        yield
        if model_watcher is not None:
            model_watcher.stop()
        if news_scheduler is not None:
            news_scheduler.stop()
        if scheduler is not None:
            scheduler.stop()
        _app.state.wechat.close()
        services.close()

    app = FastAPI(title="示例银行智能客服", version="0.1.0", lifespan=lifespan)
    app.state.services = services
    app.state.faq_editor = FaqEditor(services.knowledge, services.settings.faq_path)
    app.state.wechat = build_wechat(services)  # WeChat callback + the `wechat` outbound sender
    install_error_handlers(app)
    app.add_middleware(BodyLimit)  # 413 / 422 before a body is parsed (api/limits.py)
    app.add_middleware(SecurityHeaders)  # outermost of ours: refusals get the headers too
    # Around everything, Starlette's error middleware included: request id, proxy headers of
    # CHATBOT_TRUSTED_PROXIES, the access line (api/request_log.py).
    request_log.install(app, services.settings.trusted_proxies)
    if services.settings.bench_echo:  # first: its baseline should not include a walk past every route
        _mount_bench_echo(app)
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(chat_session.router)
    app.include_router(nlu.router)
    app.include_router(exports.router)
    app.include_router(faq.router)
    app.include_router(unanswered.router)
    app.include_router(wechat.router)
    for handoff_router in (auth.router, agent.router, events.router, admin.router, metrics.router):
        app.include_router(handoff_router)  # human handoff, agent console (docs/handoff.md)
    app.include_router(applications.router)  # card and loan applications (docs/applications_and_loans.md)
    app.include_router(loan_schedule.router)
    app.include_router(wealth.router)  # public wealth catalogue (docs/wealth.md)
    app.include_router(news.router)  # news catalogue and back office (docs/news.md)
    app.include_router(news.admin_router)
    app.include_router(annotations.router)  # the analysts' page /admin: labels and understanding metrics
    app.include_router(models.router)  # model versions, promotion, serving workers (training/gate.py)
    app.include_router(reload.router)  # look at the promoted model and the FAQ file now
    if services.settings.is_sandbox:
        app.include_router(sandbox.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/agent", include_in_schema=False)
    async def agent_console() -> FileResponse:
        return FileResponse(STATIC_DIR / "agent.html")

    @app.get("/admin", include_in_schema=False)
    async def analyst_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "admin.html")

    return app


def _mount_bench_echo(app: FastAPI) -> None:
    """The same framework, no engine: what a request costs before our work starts."""

    @app.post("/bench/echo", include_in_schema=False)
    async def echo(payload: dict) -> dict:
        return payload
