"""Statement downloads: `GET /v1/exports/{token}` serves the file a signed link stands for.

The token (see `chatbot.tools.export.ExportRequest`) names the customer, the filters and the
format, and expires; the query runs again at download time, so the file is current. A forged
or altered token is 403 `invalid_token`, an expired one 403 `token_expired`.
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.clock import bank_today
from chatbot.tools.export import ExportRequest, export_statement
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/exports", tags=["exports"])


@router.get("/{token}", response_class=Response)
async def download(services: ServicesDep, token: str = Path(max_length=2048)) -> Response:
    """The transaction statement the signed `token` describes, as XLSX or CSV."""
    request = ExportRequest.from_token(token, services.settings.secret_key, services.clock.now())

    def build() -> bytes:
        with services.database.read() as db:
            return export_statement(SqlBank(db), request)

    content = await run_in_threadpool(build)
    filename = request.filename(bank_today(services.clock))
    return Response(content, media_type=request.media_type, headers={
        # Plain ASCII fallback first, then the Chinese name per RFC 5987 / RFC 6266.
        "Content-Disposition": f"attachment; filename=\"statement.{request.fmt}\"; "
                               f"filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })
