"""News push fixtures: the notification books (customers, bindings) plus news items,
subscriptions, risk assessments and chat turns, written row by row on an empty database."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from chatbot.storage.models import (
    ChatSession,
    NewsDelivery,
    NewsItem,
    NewsSubscription,
    Notice,
    RiskAssessment,
    TurnLog,
)
from tests.notify.conftest import Books, books, notify_database  # noqa: F401 (fixtures)


class NewsBooks:
    def __init__(self, books: Books) -> None:
        self.books = books
        self.database = books.database

    def item(self, at: datetime, category: str = "宏观经济", *, title: str | None = None, important: bool = False,
             body: str = "示例正文。") -> int:
        with self.database.write() as db:
            row = NewsItem(title=title or f"示例：{category}{at:%m%d%H%M}", summary="示例摘要", body=body,
                           category=category, important=important, published_at=at, created_by="test")
            db.add(row)
            db.flush()
            return row.id

    def subscribe(self, customer_id: int, categories: list[str], frequency: str, status: str = "active",
                  at: datetime | None = None) -> None:
        at = at or self.books.now
        with self.database.write() as db:
            db.add(NewsSubscription(customer_id=customer_id, categories=categories, frequency=frequency,
                                    status=status, created_at=at, updated_at=at))

    def set_status(self, customer_id: int, status: str) -> None:
        with self.database.write() as db:
            db.get(NewsSubscription, customer_id).status = status

    def assess(self, customer_id: int, level: str, expires_on: date) -> None:
        with self.database.write() as db:
            db.add(RiskAssessment(customer_id=customer_id, answers={}, score=50, level=level,
                                  assessed_at=self.books.now - timedelta(days=30), expires_on=expires_on))

    def read_in_chat(self, customer_id: int, user_id: str, category: str, at: datetime) -> None:
        """A chat turn in which the customer read an item of `category` (news.latest's step)."""
        with self.database.write() as db:
            session = ChatSession(channel="web", user_id=user_id, customer_id=customer_id, mode="bot", status="open",
                                  state={}, created_at=at, last_active_at=at)
            db.add(session)
            db.flush()
            db.add(TurnLog(session_id=session.id, channel="web", user_id=user_id, text="2", intent="news.latest",
                           confidence=0.9, entities=[], outcome="completed",
                           steps=[{"action": "news_read", "news_id": 0, "category": category}], replies=[], state={},
                           latency_ms=1.0, created_at=at))

    def deliveries(self, customer_id: int | None = None) -> list[tuple[int, int, str]]:
        with self.database.read() as db:
            query = select(NewsDelivery.customer_id, NewsDelivery.news_id, NewsDelivery.reason)
            if customer_id is not None:
                query = query.where(NewsDelivery.customer_id == customer_id)
            return [tuple(row) for row in db.execute(query.order_by(NewsDelivery.id))]

    def messages(self, customer_id: int, kind: str | None = None) -> list[Notice]:
        """News notices of a customer (kind `d` digest, `i` important)."""
        with self.database.read() as db:
            rows = db.scalars(select(Notice).where(Notice.source == "news", Notice.customer_id == customer_id)
                              .order_by(Notice.id)).all()
        return [n for n in rows if kind is None or n.event.startswith(kind)]


@pytest.fixture
def news(books) -> NewsBooks:  # noqa: F811
    return NewsBooks(books)
