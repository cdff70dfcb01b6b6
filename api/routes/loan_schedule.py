"""`GET /v1/exports/loan-schedule/{token}`: a loan's repayment schedule behind a sealed,
single-use link the bot hands the customer (chatbot/tools/loan_export.py). A used link is
410 `link_used`, a forged one 403 `invalid_token`, an expired one 403 `token_expired`."""
from __future__ import annotations

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import ServicesDep
from api.routes.exports import serve_once
from chatbot.tools.loan_export import ScheduleRequest, schedule_file
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/exports/loan-schedule", tags=["exports"])

LINK_USED = "该下载链接已使用过，请在对话中回复“还款计划”获取新的链接"


@router.get("/{token}", response_class=Response, responses={
    403: {"description": "invalid_token / token_expired"}, 404: {"description": "loan_not_found"},
    410: {"description": "link_used"}})
async def download(services: ServicesDep, token: str = Path(max_length=2048)) -> Response:
    """The schedule the sealed `token` describes, as XLSX or CSV; once per link."""
    request, opened = ScheduleRequest.open_link(token, services.settings.secret_key, services.clock.now())
    return await serve_once(services, opened, lambda db: schedule_file(SqlBank(db), request), LINK_USED,
                            request.media_type, f"schedule.{request.fmt}", request.filename)
