"""A customer's news subscription (one row per customer, `news_subscriptions`).

status: `active` (pushed), `paused` (kept, nothing pushed until resumed), `cancelled`
(unsubscribed; subscribing again makes it active with the new choice).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.news.catalogue import CATEGORIES
from chatbot.storage.models import NewsSubscription

FREQUENCIES = ("daily", "thrice_weekly", "weekly")
FREQUENCY_NAMES = {"daily": "每天", "thrice_weekly": "每周三次（周一、三、五）", "weekly": "每周一次"}
STATUS_NAMES = {"active": "推送中", "paused": "已暂停", "cancelled": "已取消"}


@dataclass(frozen=True)
class SubscriptionView:
    categories: list[str]
    frequency: str
    status: str

    def describe(self) -> str:
        """`宏观经济、理财产品；每天推送（推送中）`."""
        return (f"订阅类别：{'、'.join(self.categories)}\n推送频率：{FREQUENCY_NAMES[self.frequency]}\n"
                f"状态：{STATUS_NAMES[self.status]}")


def current(db: Session, customer_id: int) -> SubscriptionView | None:
    row = db.get(NewsSubscription, customer_id)
    if row is None:
        return None
    return SubscriptionView(ordered(row.categories), row.frequency, row.status)


def ordered(categories) -> list[str]:
    chosen = set(categories or ())
    return [name for name in CATEGORIES if name in chosen]


def subscribe(db: Session, customer_id: int, categories: list[str], frequency: str, now: datetime) -> SubscriptionView:
    """Create or replace the subscription, active."""
    if frequency not in FREQUENCIES or not categories or not set(categories) <= set(CATEGORIES):
        raise ValueError("a subscription needs known categories and a frequency")
    row = db.get(NewsSubscription, customer_id, with_for_update=True)
    if row is None:
        row = NewsSubscription(customer_id=customer_id, created_at=now, last_digest_at=None)
        db.add(row)
    row.categories, row.frequency, row.status, row.updated_at = ordered(categories), frequency, "active", now
    db.flush()
    return current(db, customer_id)


def change(db: Session, customer_id: int, now: datetime, *, categories: list[str] | None = None,
           frequency: str | None = None, status: str | None = None) -> SubscriptionView | None:
    """Change part of an existing subscription; None when the customer has none."""
    row = db.get(NewsSubscription, customer_id, with_for_update=True)
    if row is None:
        return None
    if categories:
        row.categories = ordered(categories)
    if frequency:
        row.frequency = frequency
    if status:
        row.status = status
    row.updated_at = now
    db.flush()
    return current(db, customer_id)
