"""Statement downloads: `GET /v1/exports/{token}` serves the file a sealed link stands for.

The token (see `chatbot.tools.export.ExportRequest`) is opaque: it carries the customer, the
filters, the format and the expiry encrypted, and a random id. A link serves one download:
the query runs again at download time (so the file is current), then the token id is
recorded; the same link again is 410 `link_used` (the customer asks the bot for a new one).
A forged or altered token is 403 `invalid_token`, an expired one 403 `token_expired`.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
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
    return await serve_once(services, opened, lambda db: export_statement(SqlBank(db), request), LINK_USED,
                            request.media_type, f"statement.{request.fmt}", request.filename(bank_today(services.clock)))


async def serve_once(services, opened, make: Callable[[Session], bytes], link_used: str, media_type: str,
                     ascii_name: str, filename: str) -> Response:
    """The file `make` builds from the database, if the link (`opened`) was not used before.

    The link is spent only once the file exists: a refused export (too many rows) leaves it
    usable. A used link is 410 `link_used`, saying how to get a new one."""
    now = services.clock.now()

    def build() -> bytes | None:
        with services.database.read() as db:
            content = make(db)
        with services.database.write() as db:
            return content if used_tokens.spend(db, opened.token_id, opened.expires_at, now) else None

    content = await run_in_threadpool(build)
    if content is None:
        return JSONResponse(error_body("link_used", link_used), status_code=410, headers={"Cache-Control": "no-store"})
    return Response(content, media_type=media_type, headers={
        # Plain ASCII fallback first, then the Chinese name per RFC 5987 / RFC 6266.
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    })
