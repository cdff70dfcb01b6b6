"""What happened that the customer has not been told yet.

Two sources, read from the books (nothing is queued by the code that moves an application):

- **Application stages**: every `application_events` row of a stage worth telling (card:
  submitted, approved, rejected, mailed — unless the card is already activated; loan: submitted,
  approved, rejected, disbursed) that
  is not older than `LOOKBACK` (7 days). Older news is never sent: a fresh deployment, or one
  that was down for weeks, does not greet customers with months-old stages. An event is the
  pair (application, stage), so a stage written twice is told once.
- **Wealth holdings maturing**: a holding whose maturity date is today or within the next
  `MATURING_WITHIN_DAYS` (5) bank days, told once.
- **Statements due soon**: a credit-card statement whose due date is today or within the next
  `DUE_WITHIN_DAYS` (3) bank days and on which something is still due
  (new_balance - paid - installed > 0). A paid statement gets no reminder; one paid after its
  reminder was sent gets no second one.

Events already in `notices` are left out by the query itself (NOT EXISTS on the unique key;
an `undeliverable` one comes back once the customer has bound a channel);
two workers may still find the same event at once, and `deliver.record` lets one of them win.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.notify import texts
from chatbot.storage.models import (
    Account,
    Application,
    ApplicationEvent,
    Card,
    CardStatement,
    ChannelBinding,
    Loan,
    LoanPayment,
    Notice,
    WealthHolding,
    WealthProduct,
)

LOOKBACK = timedelta(days=7)
DUE_WITHIN_DAYS = 3
MATURING_WITHIN_DAYS = 5
MATURING = "maturing"
TOLD_STAGES = {"card": ("submitted", "approved", "rejected", "mailed"),
               "loan": ("submitted", "approved", "rejected", "disbursed")}
DUE_SOON = "due_soon"


@dataclass(frozen=True)
class PendingEvent:
    source: str  # application | statement
    subject_id: int
    event: str  # the stage, or due_soon
    customer_id: int
    at: datetime
    wording: texts.Wording


def pending(db: Session, now: datetime, lookback: timedelta = LOOKBACK,
            names: Mapping[str, str] | None = None) -> list[PendingEvent]:
    """Every event not told yet, oldest first (stage notices of one application in order);
    `names` are the products' names by code (the knowledge graph's)."""
    found = stage_events(db, now, lookback) + due_statements(db, now) + maturing_holdings(db, now, names or {})
    return sorted(found, key=lambda e: (e.at, e.source, e.subject_id))


def _not_told(source: str, subject, event) -> exists:
    """No notice of this event yet, or only an undeliverable one while the customer has since
    bound a channel (deliver.record then takes it over)."""
    bound = exists().where(ChannelBinding.customer_id == Notice.customer_id)
    return ~exists().where(and_(Notice.source == source, Notice.subject_id == subject, Notice.event == event,
                                or_(Notice.status != "undeliverable", ~bound)))


def stage_events(db: Session, now: datetime, lookback: timedelta = LOOKBACK) -> list[PendingEvent]:
    stages = sorted({stage for told in TOLD_STAGES.values() for stage in told})
    rows = db.execute(
        select(ApplicationEvent, Application)
        .join(Application, Application.id == ApplicationEvent.application_id)
        .where(ApplicationEvent.at >= now - lookback, ApplicationEvent.stage.in_(stages),
               _not_told("application", Application.id, ApplicationEvent.stage))
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    ).all()
    found: dict[tuple[int, str], PendingEvent] = {}
    for event, application in rows:
        key = (application.id, event.stage)
        if event.stage not in TOLD_STAGES.get(application.kind, ()) or key in found:
            continue
        if event.stage == "mailed" and application.stage == "activated":
            continue  # activated before the notice went out: "回复激活信用卡" would be stale
        facts = application_facts(db, application, event)
        found[key] = PendingEvent("application", application.id, event.stage, application.customer_id, event.at,
                                  texts.application(facts))
    return list(found.values())


def application_facts(db: Session, application: Application, event: ApplicationEvent) -> texts.ApplicationFacts:
    facts = dict(kind=application.kind, stage=event.stage, product=application.product_name,
                 reference=application.reference, at=event.at, amount=application.amount,
                 term_months=application.term_months)
    if event.stage == "rejected":
        facts["reason"] = application.decision_reason or event.note
    if event.stage == "mailed" and application.card_id is not None:
        card = db.get(Card, application.card_id)
        facts["card_no"] = card.card_no if card is not None else None
    if event.stage == "disbursed":
        facts.update(_loan_facts(db, application.id))
    return texts.ApplicationFacts(**facts)


def _loan_facts(db: Session, application_id: int) -> dict:
    loan = db.scalars(select(Loan).where(Loan.application_id == application_id)).first()
    if loan is None:
        return {}
    first = db.scalars(select(LoanPayment).where(LoanPayment.loan_id == loan.id)
                       .order_by(LoanPayment.number).limit(1)).first()
    facts = {"loan_reference": loan.reference, "principal": loan.principal,
             "repay_card_no": _card_no(db, loan.repay_account_id)}
    if first is not None and first.status == "due":
        facts.update(first_due=first.due_date, first_payment=first.payment)
    return facts


def due_statements(db: Session, now: datetime) -> list[PendingEvent]:
    today = now.astimezone(BANK_TZ).date()
    rows = db.execute(
        select(CardStatement, Account)
        .join(Account, Account.id == CardStatement.account_id)
        .where(CardStatement.due_date >= today,
               CardStatement.due_date <= today + timedelta(days=DUE_WITHIN_DAYS),
               CardStatement.new_balance - CardStatement.paid - CardStatement.installed > 0,
               Account.customer_id.is_not(None), Account.status != "closed",
               _not_told("statement", CardStatement.id, DUE_SOON))
        .order_by(CardStatement.due_date, CardStatement.id)
    ).all()
    return [PendingEvent("statement", statement.id, DUE_SOON, account.customer_id, now,
                         texts.statement_due(statement_facts(db, statement, today)))
            for statement, account in rows]


def maturing_holdings(db: Session, now: datetime, names: Mapping[str, str]) -> list[PendingEvent]:
    """Wealth holdings maturing today or within `MATURING_WITHIN_DAYS` bank days, once each."""
    today = now.astimezone(BANK_TZ).date()
    rows = db.execute(
        select(WealthHolding, WealthProduct.code)
        .join(WealthProduct, WealthProduct.code == WealthHolding.product_code)
        .where(WealthHolding.status == "holding", WealthHolding.maturity_date >= today,
               WealthHolding.maturity_date <= today + timedelta(days=MATURING_WITHIN_DAYS),
               _not_told("holding", WealthHolding.id, MATURING))
        .order_by(WealthHolding.maturity_date, WealthHolding.id)
    ).all()
    return [PendingEvent("holding", holding.id, MATURING, holding.customer_id, now,
                         texts.holding_maturing(texts.HoldingFacts(
                             product=names.get(code, "理财产品"), reference=holding.reference, principal=holding.principal,
                             value=holding.value, maturity_date=holding.maturity_date, today=today)))
            for holding, code in rows]


def statement_facts(db: Session, statement: CardStatement, today: date) -> texts.StatementFacts:
    return texts.StatementFacts(card_no=_card_no(db, statement.account_id), due_date=statement.due_date, today=today,
                                new_balance=statement.new_balance, minimum_payment=statement.minimum_payment,
                                paid=statement.paid, installed=statement.installed)


def _card_no(db: Session, account_id: int) -> str | None:
    """The account's card customers know: an active one if any, the newest first."""
    cards = db.scalars(select(Card).where(Card.account_id == account_id).order_by(Card.issued_at.desc(),
                                                                                   Card.id.desc())).all()
    active = [c for c in cards if c.status == "active"]
    chosen = (active or cards or [None])[0]
    return chosen.card_no if chosen is not None else None
