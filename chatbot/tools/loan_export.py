"""A loan's full repayment schedule as a file (XLSX or CSV) behind a sealed, single-use link.

The link carries the customer, the loan reference and the format, sealed under the label
`loan_schedule` (chatbot/security/signing.py): its holder learns nothing from it and cannot
point it at another loan. The HTTP layer (api/routes/loan_schedule.py) opens it, reads the
schedule again (so the file shows what is paid now) and spends the token once, as for
transaction statements (chatbot/tools/export.py).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from chatbot.errors import InvalidInput, NotFound
from chatbot.security.signing import InvalidToken, OpenedToken, open_token, seal_token
from chatbot.tools.export import MONEY_FORMAT, xlsx_bytes
from chatbot.tools.lending import Lending, LoanInfo

TOKEN_LABEL = "loan_schedule"
HEADERS = ("期数", "还款日", "应还金额", "本金", "利息", "剩余本金", "状态")
STATUS_NAMES = {"paid": "已还", "due": "待还"}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class ScheduleRequest:
    customer_id: int
    loan_reference: str
    fmt: str = "xlsx"

    def to_token(self, secret_key: str, expires_at: datetime) -> str:
        if self.fmt not in MEDIA_TYPES:
            raise InvalidInput(f"不支持的导出格式：{self.fmt}", "invalid_format")
        return seal_token({"customer_id": self.customer_id, "loan": self.loan_reference, "format": self.fmt},
                          secret_key, expires_at, TOKEN_LABEL)

    @classmethod
    def open_link(cls, token: str, secret_key: str, now: datetime) -> tuple[ScheduleRequest, OpenedToken]:
        opened = open_token(token, secret_key, now, TOKEN_LABEL)
        payload = opened.payload
        try:
            request = cls(int(payload["customer_id"]), str(payload["loan"]), str(payload["format"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("链接无效", "invalid_token") from None
        if request.fmt not in MEDIA_TYPES:
            raise InvalidToken("链接无效", "invalid_token")
        return request, opened

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]

    @property
    def filename(self) -> str:
        return f"还款计划_{self.loan_reference}.{self.fmt}"


def schedule_file(bank: Lending, request: ScheduleRequest) -> bytes:
    """The loan's schedule as the requested file; NotFound when it is not the customer's loan."""
    loan = next((item for item in bank.loans(request.customer_id) if item.reference == request.loan_reference), None)
    if loan is None:
        raise NotFound("贷款不存在", "loan_not_found")
    rows = _rows(loan)
    return _csv(rows) if request.fmt == "csv" else _xlsx(rows)


def _rows(loan: LoanInfo) -> list[tuple]:
    return [(p.number, p.due_date, p.payment, p.principal, p.interest, p.remaining, STATUS_NAMES.get(p.status, p.status))
            for p in loan.periods]


def _csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for number, due, payment, principal, interest, remaining, status in rows:
        writer.writerow([number, due.isoformat(), f"{payment:.2f}", f"{principal:.2f}", f"{interest:.2f}",
                         f"{remaining:.2f}", status])
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[tuple]) -> bytes:
    return xlsx_bytes("还款计划", HEADERS, rows, widths=(6, 12, 14, 14, 12, 14, 8),
                      formats={1: "yyyy-mm-dd", **{i: MONEY_FORMAT for i in range(2, 6)}})
