"""Statement downloads: `GET /v1/exports/{token}` serves the file a sealed link stands for.

The token (see `chatbot.tools.export.ExportRequest`) is opaque: it carries the customer, the
filters, the format and the expiry encrypted, and a random id. A link serves one download:
the query runs again at download time (so the file is current), then the token id is
recorded; the same link again is 410 `link_used` (the customer asks the bot for a new one).
A forged or altered token is 403 `invalid_token`, an expired one 403 `token_expired`.
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import error_body
from chatbot.clock import bank_today
from chatbot.storage import used_tokens
from chatbot.tools.export import ExportRequest, export_statement
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/exports", tags=["exports"])

LINK_USED = "该下载链接已使用过，请在对话中回复“导出”获取新的链接"


@router.get("/{token}", response_class=Response, responses={
    403: {"description": "invalid_token / token_expired"}, 410: {"description": "link_used"}})
async def download(services: ServicesDep, token: str = Path(max_length=2048)) -> Response:
    """The transaction statement the sealed `token` describes, as XLSX or CSV; once per link."""
    now = services.clock.now()
    request, opened = ExportRequest.open_link(token, services.settings.secret_key, now)

    def build() -> bytes | None:
        with services.database.read() as db:
            content = export_statement(SqlBank(db), request)
        # Spent only once the file exists: a refused export (too many rows) leaves the link usable.
        with services.database.write() as db:
            return content if used_tokens.spend(db, opened.token_id, opened.expires_at, now) else None

    content = await run_in_threadpool(build)
    if content is None:
        return JSONResponse(error_body("link_used", LINK_USED), status_code=410,
                            headers={"Cache-Control": "no-store"})
    filename = request.filename(bank_today(services.clock))
    return Response(content, media_type=request.media_type, headers={
        # Plain ASCII fallback first, then the Chinese name per RFC 5987 / RFC 6266.
        "Content-Disposition": f"attachment; filename=\"statement.{request.fmt}\"; "
                               f"filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    })
