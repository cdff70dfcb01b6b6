"""The demo bank's wealth side (`chatbot seed`): products on sale, a customer's risk
assessment and holdings, and the news items of `data/demo_news.yaml`.

Product facts (name, risk level, yield, minimum) stay in the knowledge graph; the seed only
reads the names it writes into transaction descriptions. A holding is bought from the savings
card inside the planned history, so the card still ends on DESIGN.md's balance.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.nlu.entities.periods import add_months
from chatbot.storage import customers as customer_store
from chatbot.storage.demo_history import PlannedTxn
from chatbot.storage.models import Account, NewsItem, RiskAssessment, WealthHolding, WealthProduct

WEALTH_CLEARING = "BANK-WEALTH"
ASSESSMENT_MONTHS = 12
UNIT = Decimal("0.0001")


def ensure_products(db: Session, spec: dict, now: datetime) -> None:
    """Put on sale every product of the spec that is not in the table yet."""
    known = set(db.scalars(select(WealthProduct.code)))
    for item in spec.get("wealth_products", []):
        if item["code"] not in known:
            db.add(WealthProduct(code=item["code"], term_days=item["term_days"], step_amount=Decimal(item["step"]),
                                 nav=Decimal(item["nav"]) if "nav" in item else None, status=item["status"],
                                 updated_at=now))


def _bought_at(spec: dict, today: date) -> datetime:
    return datetime.combine(today - timedelta(days=spec["days_ago"]), time(14, 30), BANK_TZ)


def holding_postings(customer: dict, today: date, names: dict[str, str]) -> list[PlannedTxn]:
    """Each holding's purchase: the savings card pays the bank's wealth clearing account."""
    savings = next(c["card_no"] for c in customer["cards"] if c["kind"] == "debit")
    return [PlannedTxn(_bought_at(h, today), "wealth_purchase", f"购买理财 {names[h['product']]}",
                       [(savings, -Decimal(h["principal"]), names[h["product"]]),
                        (WEALTH_CLEARING, Decimal(h["principal"]), customer["name"])])
            for h in customer.get("holdings", [])]


def create_records(db: Session, customers: list[dict], now: datetime) -> None:
    """Risk assessments and holdings of the new customers (their purchases are posted)."""
    today = now.astimezone(BANK_TZ).date()
    products = {p.code: p for p in db.scalars(select(WealthProduct))}
    for spec in customers:
        owner = customer_store.by_id_number(db, spec["id_number"])
        savings_no = next(c["card_no"] for c in spec["cards"] if c["kind"] == "debit")
        savings = db.scalar(select(Account).where(Account.account_no == savings_no))
        if "risk_assessment" in spec:
            item = spec["risk_assessment"]
            assessed = now - timedelta(days=item["days_ago"])
            db.add(RiskAssessment(customer_id=owner.id, answers=item["answers"], score=item["score"],
                                  level=item["level"], assessed_at=assessed,
                                  expires_on=add_months(assessed.astimezone(BANK_TZ).date(), ASSESSMENT_MONTHS)))
        for item in spec.get("holdings", []):
            product, bought = products[item["product"]], _bought_at(item, today)
            principal = Decimal(item["principal"])
            units = (principal / (product.nav or Decimal("1"))).quantize(UNIT, rounding=ROUND_HALF_UP)
            maturity = bought.date() + timedelta(days=product.term_days) if product.term_days else None
            holding = WealthHolding(reference="pending", customer_id=owner.id, product_code=product.code,
                                    account_id=savings.id, principal=principal, units=units,
                                    value=Decimal(item["value"]), valued_on=today, maturity_date=maturity,
                                    status="holding", bought_at=bought)
            db.add(holding)
            db.flush()
            holding.reference = f"WM{bought:%Y%m%d}-{holding.id:06d}"


def ensure_news(db: Session, data_dir: Path, now: datetime) -> int:
    """The demo news items, published hours before the seed, once (when there are none yet)."""
    path = data_dir / "demo_news.yaml"
    if not path.exists() or db.scalar(select(func.count(NewsItem.id))):
        return 0
    with open(path, encoding="utf-8") as fh:
        items = yaml.safe_load(fh) or []
    for item in items:
        db.add(NewsItem(title=item["title"], summary=item["summary"], body=item["body"],
                        category=item["category"], important=bool(item.get("important", False)),
                        published_at=now - timedelta(hours=item["hours_ago"]), created_by="seed"))
    return len(items)
