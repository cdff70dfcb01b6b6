"""`GET /v1/exports/loan-schedule/{token}`: a loan's repayment schedule behind a sealed,
single-use link the bot hands the customer (chatbot/tools/loan_export.py). A used link is
410 `link_used`, a forged one 403 `invalid_token`, an expired one 403 `token_expired`."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import error_body
from chatbot.storage import used_tokens
from chatbot.tools.loan_export import ScheduleRequest, schedule_file
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/exports/loan-schedule", tags=["exports"])

LINK_USED = "该下载链接已使用过，请在对话中回复“还款计划”获取新的链接"


@router.get("/{token}", response_class=Response, responses={
    403: {"description": "invalid_token / token_expired"}, 404: {"description": "loan_not_found"},
    410: {"description": "link_used"}})
async def download(services: ServicesDep, token: str = Path(max_length=2048)) -> Response:
    """The schedule the sealed `token` describes, as XLSX or CSV; once per link."""
    now = services.clock.now()
    request, opened = ScheduleRequest.open_link(token, services.settings.secret_key, now)

    def build() -> bytes | None:
        with services.database.read() as db:
            content = schedule_file(SqlBank(db), request)
        with services.database.write() as db:
            return content if used_tokens.spend(db, opened.token_id, opened.expires_at, now) else None

    content = await run_in_threadpool(build)
    if content is None:
        return JSONResponse(error_body("link_used", LINK_USED), status_code=410, headers={"Cache-Control": "no-store"})
    return Response(content, media_type=request.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"schedule.{request.fmt}\"; "
                               f"filename*=UTF-8''{quote(request.filename, safe='')}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})
