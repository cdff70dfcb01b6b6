"""Statement exports: XLSX and CSV contents, sealed links and the download route."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.errors import install_error_handlers
from api.routes import exports
from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput
from chatbot.security.signing import ExpiredToken, InvalidToken, seal_token
from chatbot.settings import Settings
from chatbot.tools.banking import TransactionInfo
from chatbot.tools.export import HEADERS, MAX_EXPORT_ROWS, ExportRequest, export_statement, export_transactions

AT = datetime(2026, 11, 20, 9, 41, 36, tzinfo=BANK_TZ)
ITEMS = [
    TransactionInfo(1, AT, "1234", "transfer", "转账至6222021000708888", "=HYPERLINK(\"x\")",
                    Decimal("-2500.00"), Decimal("49880.50")),
    TransactionInfo(2, AT - timedelta(days=1), "0123", "salary", "工资", "北京星辰科技有限公司",
                    Decimal("18500.00"), Decimal("52380.50")),
]


def test_csv_has_a_bom_chinese_headers_and_exact_amounts():
    data = export_transactions(ITEMS, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADERS == ("时间", "卡号尾号", "类型", "摘要", "对方", "金额", "余额")
    assert rows[1] == ["2026-11-20 09:41:36", "**** 1234", "转账", "转账至**** 8888", "'=HYPERLINK(\"x\")",
                       "-2500.00", "49880.50"]
    assert rows[2][1:3] == ["**** 0123", "工资"] and rows[2][5:] == ["18500.00", "52380.50"]


def test_xlsx_has_numeric_amount_cells_and_local_times():
    sheet = load_workbook(io.BytesIO(export_transactions(ITEMS, "xlsx"))).active
    assert tuple(c.value for c in sheet[1]) == HEADERS
    at, tail, kind, description, counterparty, amount, balance = sheet[2]
    assert at.value == datetime(2026, 11, 20, 9, 41, 36) and at.is_date
    assert (tail.value, kind.value, description.value) == ("**** 1234", "转账", "转账至**** 8888")
    assert counterparty.data_type == "s" and counterparty.value == "=HYPERLINK(\"x\")"  # text, not a formula
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("-2500.00")
    assert amount.number_format == balance.number_format == "#,##0.00"
    assert sheet.max_row == 3


def test_empty_export_and_unknown_format():
    assert load_workbook(io.BytesIO(export_transactions([], "xlsx"))).active.max_row == 1
    with pytest.raises(InvalidInput):
        export_transactions(ITEMS, "pdf")


def test_export_request_round_trips_through_a_token(clock):
    request = ExportRequest(7, "csv", date(2026, 10, 1), date(2026, 10, 31), "1234", ("salary", "fee"), "income")
    token = request.to_token("secret", clock.now() + timedelta(minutes=10))
    assert ExportRequest.from_token(token, "secret", clock.now()) == request
    assert request.filename(date(2026, 11, 24)) == "交易明细_20261001-20261031.csv"
    assert ExportRequest(7).filename(date(2026, 11, 24)) == "交易明细_起-20261124.xlsx"
    with pytest.raises(ExpiredToken):
        ExportRequest.from_token(token, "secret", clock.now() + timedelta(minutes=10))
    with pytest.raises(InvalidToken):
        ExportRequest.from_token(token, "another secret", clock.now())
    with pytest.raises(InvalidInput):
        ExportRequest(7, "pdf").to_token("secret", clock.now())


@pytest.mark.parametrize("txn_type, kinds, direction", [
    ("salary", ("salary",), None), ("income", (), "income"), ("expense", (), "expense"), (None, (), None)])
def test_a_txn_type_stands_for_kinds_and_direction(txn_type, kinds, direction):
    request = ExportRequest.from_payload({"customer_id": 1, "format": "csv", "start": "2026-11-01",
                                          "end": None, "card_tail": None, "txn_type": txn_type})
    assert (request.kinds, request.direction, request.start) == (kinds, direction, date(2026, 11, 1))


@pytest.mark.parametrize("payload", [
    {"customer_id": 1, "format": "pdf"}, {"format": "csv"}, {"customer_id": "x", "format": "csv"},
    {"customer_id": 1, "format": "csv", "start": "yesterday"}, {"customer_id": 1, "format": "csv", "kinds": [1]},
])
def test_sealed_but_unusable_payloads_are_invalid_tokens(payload, clock):
    token = seal_token(payload, "secret", clock.now() + timedelta(minutes=5), "export")
    with pytest.raises(InvalidToken):
        ExportRequest.from_token(token, "secret", clock.now())


def test_statement_runs_the_query_and_refuses_too_many_rows():
    class FakeBank:
        def __init__(self, total):
            self.total, self.calls = total, []

        def transactions(self, customer_id, **filters):
            self.calls.append((customer_id, filters))
            return SimpleNamespace(items=ITEMS, total_count=self.total)

    bank = FakeBank(2)
    export_statement(bank, ExportRequest(3, "csv", kinds=("salary",)))
    assert bank.calls == [(3, {"start": None, "end": None, "card_tail": None, "kinds": ("salary",),
                               "direction": None, "limit": MAX_EXPORT_ROWS})]
    with pytest.raises(InvalidInput) as caught:
        export_statement(FakeBank(MAX_EXPORT_ROWS + 1), ExportRequest(3))
    assert caught.value.code == "export_too_large"


# --- the download route ------------------------------------------------------------------------

@pytest.fixture
def http(database, clock):
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(exports.router)
    app.state.services = SimpleNamespace(settings=Settings(secret_key="route-secret"), database=database,
                                         clock=clock)
    with TestClient(app) as client:
        yield client


def _link(clock, demo, **filters) -> str:
    request = ExportRequest(demo.zhang, **filters)
    return "/v1/exports/" + request.to_token("route-secret", clock.now() + timedelta(minutes=10))


def test_download_a_statement(backend, http, clock, demo):
    response = http.get(_link(clock, demo, fmt="xlsx", start=date(2026, 10, 1), end=date(2026, 10, 31),
                              kinds=("salary",)))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="statement.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "交易明细_20261001-20261031.xlsx"
    assert response.headers["cache-control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == ["工资"]
    assert sheet["F2"].value == 18500


def test_download_csv_of_one_card(http, clock, demo):
    response = http.get(_link(clock, demo, fmt="csv", card_tail="5678"))
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) > 10 and {row[1] for row in rows[1:]} == {"**** 5678"}


def test_download_from_a_link_made_with_the_nlu_txn_type(http, clock, demo):
    payload = {"start": "2026-06-01", "end": "2026-11-24", "card_tail": None, "txn_type": "salary",
               "customer_id": demo.zhang, "format": "csv"}
    token = ExportRequest.from_payload(payload).to_token("route-secret", clock.now() + timedelta(minutes=30))
    rows = list(csv.reader(io.StringIO(http.get(f"/v1/exports/{token}").content.decode("utf-8-sig"))))
    assert [row[2] for row in rows[1:]] == ["工资"] * 6 and {row[5] for row in rows[1:]} == {"18500.00"}


def test_forged_and_expired_links_are_refused(http, clock, demo):
    link = _link(clock, demo)
    forged = http.get(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "invalid_token"
    clock.advance(minutes=10)
    expired = http.get(link)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "token_expired"
    assert http.get("/v1/exports/garbage").status_code == 403
