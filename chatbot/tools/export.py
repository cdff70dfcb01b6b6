"""Transaction statements as files (XLSX or CSV) and the sealed link that fetches one.

The bot hands the customer a link carrying an `ExportRequest` (who, which filters, which
format, until when), sealed with the service secret (`chatbot.security.signing.seal_token`,
label `export`): whoever sees the link learns nothing from it, and cannot alter it. The HTTP
layer turns a genuine link back into the request and runs it against the books again, so
the file is always current and no statement is stored anywhere. A link serves one download:
its random token id is recorded in `used_tokens` (`chatbot.storage.used_tokens`).

The sealed payload: `customer_id`, `format` (xlsx | csv), `start` / `end` (ISO dates, bank
days, inclusive), `card_tail`, `kinds` (ledger kinds) and `direction` (income | expense);
a `txn_type` NLU value may stand in for kinds + direction.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput
from chatbot.security.masking import mask_card, mask_text
from chatbot.security.signing import InvalidToken, OpenedToken, open_token, seal_token
from chatbot.tools.banking import CoreBanking, TransactionInfo

HEADERS = ("时间", "卡号尾号", "类型", "摘要", "对方", "金额", "余额")
KIND_NAMES = {"salary": "工资", "consumption": "消费", "transfer": "转账", "cash": "取现", "fee": "手续费",
              "interest": "利息", "repayment": "还款", "opening": "开户"}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}
MAX_EXPORT_ROWS = 5000
CENT = Decimal("0.01")
TOKEN_LABEL = "export"
# A spreadsheet treats text starting with these as a formula (CSV injection).
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def export_transactions(items: Sequence[TransactionInfo], fmt: str) -> bytes:
    """The rows as an XLSX workbook or a UTF-8 CSV (with BOM, so Excel reads the Chinese)."""
    rows = [_row(item) for item in items]
    if fmt == "csv":
        return _csv(rows)
    if fmt == "xlsx":
        return _xlsx(rows)
    raise InvalidInput(f"不支持的导出格式：{fmt}", "invalid_format")


def _row(item: TransactionInfo) -> tuple:
    tail = mask_card(item.account_tail) if item.account_tail else ""
    return (item.at.astimezone(BANK_TZ).replace(tzinfo=None), tail, KIND_NAMES.get(item.kind, item.kind),
            mask_text(item.description or ""), mask_text(item.counterparty or ""),
            item.amount.quantize(CENT), item.balance_after.quantize(CENT))


def _csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for at, tail, kind, description, counterparty, amount, balance in rows:
        writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", tail, kind, _csv_text(description),
                         _csv_text(counterparty), str(amount), str(balance)])
    return out.getvalue().encode("utf-8-sig")


def _csv_text(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_LEADS) else text


def _xlsx(rows: list[tuple]) -> bytes:
    return xlsx_bytes("交易明细", HEADERS, rows, widths=(20, 11, 8, 28, 22, 14, 14), text_columns=range(1, 5),
                      formats={0: "yyyy-mm-dd hh:mm:ss", 5: MONEY_FORMAT, 6: MONEY_FORMAT})


MONEY_FORMAT = "#,##0.00"


def xlsx_bytes(title: str, headers, rows: list[tuple], *, widths: tuple[int, ...], formats: dict[int, str],
               text_columns: range = range(0)) -> bytes:
    """One sheet: a bold, frozen header row, then the rows with each column's number format;
    `text_columns` stay text even when they start with "=" (no formula from a customer's words)."""
    # Imported here: openpyxl (~0.2 s with what it pulls in) is for downloads, not for answers,
    # so a worker does not load it before its first answer.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        cells = sheet[sheet.max_row]
        for index in text_columns:
            cells[index].data_type = "s"
        for index, number_format in formats.items():
            cells[index].number_format = number_format
    for column, width in zip("ABCDEFGHIJ", widths):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class ExportRequest:
    """Which transactions of which customer to export, as carried by a signed link."""

    customer_id: int
    fmt: str = "xlsx"
    start: date | None = None
    end: date | None = None
    card_tail: str | None = None
    kinds: tuple[str, ...] = ()
    direction: str | None = None

    def to_token(self, secret_key: str, expires_at: datetime) -> str:
        """A sealed token for the download link, valid until `expires_at` (opaque to its holder)."""
        if self.fmt not in MEDIA_TYPES:
            raise InvalidInput(f"不支持的导出格式：{self.fmt}", "invalid_format")
        payload = {"customer_id": self.customer_id, "format": self.fmt, "start": _iso(self.start),
                   "end": _iso(self.end), "card_tail": self.card_tail, "kinds": list(self.kinds),
                   "direction": self.direction}
        return seal_token(payload, secret_key, expires_at, TOKEN_LABEL)

    @classmethod
    def from_token(cls, token: str, secret_key: str, now: datetime) -> ExportRequest:
        """The request inside a genuine, unexpired token (InvalidToken / ExpiredToken otherwise)."""
        return cls.open_link(token, secret_key, now)[0]

    @classmethod
    def open_link(cls, token: str, secret_key: str, now: datetime) -> tuple[ExportRequest, OpenedToken]:
        """The request and the opened token (its id and expiry, for spending it once)."""
        opened = open_token(token, secret_key, now, TOKEN_LABEL)
        try:
            return cls.from_payload(opened.payload), opened
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("链接无效", "invalid_token") from None

    @classmethod
    def from_payload(cls, payload: dict) -> ExportRequest:
        """Read a signed payload; `txn_type` (the NLU entity) stands for kinds + direction."""
        kinds, direction = tuple(payload.get("kinds") or ()), payload.get("direction")
        txn_type = payload.get("txn_type")
        if txn_type in ("income", "expense"):
            direction = txn_type
        elif txn_type:
            kinds = (txn_type,)
        if payload["format"] not in MEDIA_TYPES or not all(isinstance(k, str) for k in kinds):
            raise ValueError("bad export payload")
        return cls(customer_id=int(payload["customer_id"]), fmt=payload["format"],
                   start=_date(payload.get("start")), end=_date(payload.get("end")),
                   card_tail=payload.get("card_tail"), kinds=kinds, direction=direction)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]

    def filename(self, today: date) -> str:
        """e.g. 交易明细_20261001-20261124.xlsx (open ends shown as "起" / today)."""
        start = f"{self.start:%Y%m%d}" if self.start else "起"
        return f"交易明细_{start}-{self.end or today:%Y%m%d}.{self.fmt}"


def export_statement(bank: CoreBanking, request: ExportRequest) -> bytes:
    """Run the request against the books; refuses more than MAX_EXPORT_ROWS rows."""
    page = bank.transactions(request.customer_id, start=request.start, end=request.end,
                             card_tail=request.card_tail, kinds=request.kinds, direction=request.direction,
                             limit=MAX_EXPORT_ROWS)
    if page.total_count > MAX_EXPORT_ROWS:
        # A cut-off statement would look complete; better to ask for a narrower range.
        raise InvalidInput(f"记录超过 {MAX_EXPORT_ROWS:,} 条，请缩小日期范围后再导出",
                           "export_too_large")
    return export_transactions(page.items, request.fmt)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
