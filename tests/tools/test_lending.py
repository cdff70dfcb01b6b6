"""SqlLending: pre-review rules, applications, stage moves, card production and activation,
disbursement with its schedule, and the customer's loans (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput, NotFound
from chatbot.nlu.entities.periods import add_months
from chatbot.settings import DATA_DIR
from chatbot.storage import customers
from chatbot.storage.models import (Account, ApplicationEvent, AuditLog, Card, LedgerEntry,
                                    LedgerTransaction, Loan,
                                    LoanPayment)
from chatbot.tools.amortization import equal_installment
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.lending import CardTerms, LoanTerms, StageConflict
from chatbot.tools.sql_bank import SqlBank
from knowledge.kg.load import KnowledgeGraph

D = Decimal
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)
CLASSIC = CardTerms("test_classic", "测试普卡", D("2000"), D("20000"), "7–15 个工作日")
PLATINUM = CardTerms("test_platinum", "测试白金卡", D("50000"), D("300000"))
LOAN = LoanTerms("test_loan", "测试贷", D("0.036"), D("1000"), D("300000"), 3, 36, "1–3 个工作日")


class Products:
    def card(self, code):
        return {CLASSIC.code: CLASSIC, PLATINUM.code: PLATINUM}.get(code)

    def loan(self, code):
        return LOAN if code == LOAN.code else None


def _card(database, customer, income="9600", key="card-1", product=CLASSIC):
    with database.write() as db:
        return SqlBank(db).apply_card(customer, product, {"employer": "上海浦江贸易有限公司",
                                                          "monthly_income": income, "address": "上海"}, key, NOW)


def _loan(database, customer, amount="30000", months=24, income="7200", key="loan-1"):
    with database.write() as db:
        return SqlBank(db).apply_loan(customer, LOAN, D(amount), months,
                                      {"purpose": "装修", "monthly_income": income}, key, NOW)


def _move(database, app_id, stage, at=NOW):
    with database.write() as db:
        return SqlBank(db).move_application(app_id, stage, "staff:admin", at, Products())


def _refusal(call) -> BankingRefusal:
    with pytest.raises(BankingRefusal) as caught:
        call()
    return caught.value


def test_card_application_is_recorded_once_with_its_first_event(backend, database, demo):
    app = _card(database, demo.wang)
    assert re.fullmatch(rf"CA20261124-{app.id:06d}", app.reference)
    assert (app.kind, app.stage, app.stage_name, app.product_name) == ("card", "submitted", "已提交", "测试普卡")
    assert app.details["proposed_limit"] == "20000.00"  # 9,600 x 3 = 28,800, capped at the product's top
    assert [e.stage for e in app.events] == ["submitted"]
    again = _card(database, demo.wang)  # the same message retried
    assert again.id == app.id and again.replayed
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(ApplicationEvent)
                         .where(ApplicationEvent.application_id == app.id)) == 1


def test_one_open_application_per_product(database, demo):
    first = _card(database, demo.wang)
    refusal = _refusal(lambda: _card(database, demo.wang, key="card-2"))
    assert refusal.code == "application_open" and first.reference in refusal.message
    _move(database, first.id, "reviewing")
    _move(database, first.id, "rejected")
    assert _card(database, demo.wang, key="card-3").stage == "submitted"  # a refused one is closed


def test_card_pre_review_rules(database, demo):
    low = _refusal(lambda: _card(database, demo.wang, income="2500"))
    assert low.code == "ineligible" and "3,000.00 元" in low.message
    short = _refusal(lambda: _card(database, demo.wang, product=PLATINUM))
    assert short.code == "ineligible" and "28,000.00 元" in short.message and "50,000.00 元" in short.message
    with database.write() as db:  # born 1955: 71 years old
        old = customers.add(db, "赵老", "110105195501011234", "13600000000", NOW).id
    aged = _refusal(lambda: _card(database, old, income="20000"))
    assert aged.code == "ineligible" and "18 至 65 周岁" in aged.message
    with database.read() as db:
        assert all(a.product_code != CLASSIC.code for a in SqlBank(db).applications(demo.wang))  # none recorded


def test_loan_pre_review_uses_the_computed_payment_and_existing_loans(database, demo):
    # 李娜 earns 7,200: 50,000 over 12 months at 3.6% is about 4,246 a month, 59% of it.
    refused = _refusal(lambda: _loan(database, demo.lina, "50000", 12))
    payment = equal_installment(D("50000"), D("0.036"), 12).first_payment
    assert refused.code == "ineligible" and f"{payment:,.2f} 元" in refused.message and "50%" in refused.message
    ok = _loan(database, demo.lina, "50000", 36)
    assert ok.stage == "submitted" and ok.amount == D("50000.00") and ok.term_months == 36
    assert ok.details["annual_rate"] == "0.036" and re.fullmatch(r"LA20261124-\d{6}", ok.reference)
    assert _refusal(lambda: _loan(database, demo.lina, "1000000", 12, key="x")).code == "out_of_range"
    assert _refusal(lambda: _loan(database, demo.lina, "10000", 48, key="y")).code == "out_of_range"
    with database.read() as db:
        # 张伟's loan in repayment counts: its next payment is part of his monthly debt.
        debt = SqlBank(db)._existing_monthly_debt(demo.zhang)
        next_payment = SqlBank(db).loans(demo.zhang)[0].next_payment.payment
        assert debt >= next_payment > 0


def test_illegal_and_unknown_stages(database, demo):
    app = _card(database, demo.wang)
    with pytest.raises(StageConflict) as caught:
        _move(database, app.id, "approved")
    assert caught.value.allowed == ("reviewing",) and "审核中" in caught.value.message
    with pytest.raises(InvalidInput):
        _move(database, app.id, "disbursed")  # a loan stage
    with pytest.raises(NotFound):
        _move(database, 10 ** 9, "reviewing")
    _move(database, app.id, "reviewing")
    with pytest.raises(StageConflict) as caught:
        _move(database, app.id, "reviewing")
    assert caught.value.allowed == ("approved", "rejected")


def test_a_card_is_made_when_mailed_and_activated_by_its_owner(backend, database, demo):
    app = _card(database, demo.wang)
    for stage in ("reviewing", "approved", "producing"):
        app = _move(database, app.id, stage)
    assert app.credit_limit == D("20000") and app.card_tail is None
    with database.read() as db:
        assert SqlBank(db).activatable_cards(demo.wang) == []
    app = _move(database, app.id, "mailed")
    assert app.card_tail
    with database.read() as db:
        card = db.scalar(select(Card).where(Card.tail == app.card_tail))
        account = db.get(Account, card.account_id)
        assert (card.status, card.kind, account.kind, account.credit_limit) == ("inactive", "credit", "credit",
                                                                               D("20000.00"))
        assert account.customer_id == demo.wang and _luhn(card.card_no)
        assert [a.id for a in SqlBank(db).activatable_cards(demo.wang)] == [app.id]
    other = _refusal(lambda: _activate(database, demo.zhang, app.card_tail))
    assert other.code == "card_not_found"  # not his card
    done = _activate(database, demo.wang, app.card_tail)
    assert done.stage == "activated" and [e.stage for e in done.events] == [
        "submitted", "reviewing", "approved", "producing", "mailed", "activated"]
    assert _refusal(lambda: _activate(database, demo.wang, app.card_tail)).code == "already_active"
    with database.read() as db:
        assert db.scalar(select(Card.status).where(Card.tail == app.card_tail)) == "active"
        assert any(a.card_tail == app.card_tail and a.kind == "credit" for a in SqlBank(db).accounts(demo.wang, NOW))
        moves = db.scalars(select(AuditLog).where(AuditLog.action == "application.stage",
                                                  AuditLog.target == app.reference)).all()
        assert [m.detail["to"] for m in moves] == ["reviewing", "approved", "producing", "mailed", "activated"]


def _activate(database, customer, tail):
    with database.write() as db:
        return SqlBank(db).activate_card(customer, tail, NOW)


def _luhn(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def test_disbursement_posts_once_and_creates_the_schedule(backend, database, demo, books):
    app = _loan(database, demo.lina, "36000", 36)
    before = books.balance(demo.lina_savings)
    _move(database, app.id, "reviewing")
    _move(database, app.id, "approved")
    later = NOW + timedelta(days=2)
    app = _move(database, app.id, "disbursed", later)
    assert app.stage == "disbursed" and re.fullmatch(r"LN20261126-\d{6}", app.loan_reference)
    assert books.balance(demo.lina_savings) == before + D("36000.00")
    with pytest.raises(StageConflict) as caught:
        _move(database, app.id, "disbursed", later)
    assert caught.value.allowed == ()
    assert books.balance(demo.lina_savings) == before + D("36000.00")
    _assert_balanced(database)
    expected = equal_installment(D("36000"), D("0.036"), 36)
    with database.read() as db:
        loan = db.scalar(select(Loan).where(Loan.application_id == app.id))
        assert db.get(Account, loan.account_id).balance == D("-36000.00")
        assert db.scalar(select(func.count()).select_from(LedgerTransaction)
                         .where(LedgerTransaction.idempotency_key == f"loan-disbursement:{app.id}")) == 1
        periods = db.scalars(select(LoanPayment).where(LoanPayment.loan_id == loan.id)
                             .order_by(LoanPayment.number)).all()
        assert [p.payment for p in periods] == [p.payment for p in expected.periods]
        assert [p.due_date for p in periods] == [add_months(later.date(), n) for n in range(1, 37)]
        assert periods[-1].remaining == 0 and sum(p.principal for p in periods) == D("36000.00")
        info = next(i for i in SqlBank(db).loans(demo.lina) if i.reference == app.loan_reference)
        assert info.outstanding == D("36000.00") and info.next_payment.number == 1 and info.repay_tail == "8888"


def _assert_balanced(database) -> None:
    """Every posting sums to zero and every balance is the sum of its entries (in Decimal:
    SQLite would add NUMERIC as floating point)."""
    with database.read() as db:
        entries = db.scalars(select(LedgerEntry)).all()
        postings, accounts = {}, {}
        for entry in entries:
            postings[entry.transaction_id] = postings.get(entry.transaction_id, D(0)) + entry.amount
            accounts[entry.account_id] = accounts.get(entry.account_id, D(0)) + entry.amount
        assert set(postings.values()) == {D(0)}
        for account in db.scalars(select(Account)):
            assert account.balance == accounts.get(account.id, 0), account.account_no


def test_the_seeded_loan_in_repayment(database, demo):
    with database.read() as db:
        loans = SqlBank(db).loans(demo.zhang)
    (loan,) = loans
    assert (loan.product_code, loan.principal, loan.months, loan.method) == ("consumer_loan", D("60000.00"), 24,
                                                                              "equal_installment")
    paid = [p for p in loan.periods if p.status == "paid"]
    assert loan.next_payment.number == len(paid) + 1
    assert loan.outstanding == paid[-1].remaining  # what the ledger says is owed is the schedule's
    assert loan.next_payment.due_date > NOW.date()


def test_back_office_listing_filters(database, demo):
    app = _loan(database, demo.lina, "20000", 24)
    with database.read() as db:
        bank = SqlBank(db)
        loans = bank.list_applications(kind="loan", stage="submitted")
        assert app.id in [a.id for a in loans] and {a.kind for a in loans} == {"loan"}
        assert all(a.stage == "submitted" for a in loans)
        with pytest.raises(InvalidInput):
            bank.list_applications(kind="card", stage="disbursed")
        with pytest.raises(InvalidInput):
            bank.list_applications(kind="mortgage")


def test_products_come_from_the_knowledge_graph():
    from chatbot.dialogue.flows.lending_products import GraphProducts, card_products, loan_terms

    graph = KnowledgeGraph.load(DATA_DIR / "kg.yaml")
    cards = card_products(graph)
    facts = {kind: graph.nodes[graph.facts("gold_card", kind)[0]] for kind in ("credit_limit", "annual_fee")}
    gold = cards["gold_card"]
    assert (gold.terms.limit_min, gold.terms.limit_max) == (D(str(facts["credit_limit"]["min"])),
                                                            D(str(facts["credit_limit"]["max"])))
    assert gold.annual_fee == D(str(facts["annual_fee"]["amount"])) and gold.benefits
    loans = loan_terms(graph)
    assert "consumer_loan" in loans and "mortgage" not in loans  # a ratio limit needs documents
    rate = graph.nodes[graph.facts("consumer_loan", "rate")[0]]["percent"]
    assert GraphProducts(graph).loan("consumer_loan").annual_rate == D(str(rate)) / 100


def test_disbursing_from_several_sessions_at_once_posts_once(backend, database, demo):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    app = _loan(database, demo.lina, "36000", 36)
    _move(database, app.id, "reviewing")
    _move(database, app.id, "approved")
    start = threading.Barrier(4)

    def disburse(_):
        start.wait()
        try:
            return _move(database, app.id, "disbursed").stage
        except StageConflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(disburse, range(4)))
    assert outcomes == ["conflict", "conflict", "conflict", "disbursed"]
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(Loan).where(Loan.application_id == app.id)) == 1
        events = db.scalars(select(ApplicationEvent.stage).where(ApplicationEvent.application_id == app.id)).all()
        assert events.count("disbursed") == 1
    _assert_balanced(database)
