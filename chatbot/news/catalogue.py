"""News items: the five categories, what a customer's words name, and the published list.

An item is published from `published_at` until `unpublished_at` is set (an admin's DELETE);
an unpublished item is never listed, shown in full or pushed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.storage.models import NewsItem

CATEGORIES = ("宏观经济", "金融政策", "市场动态", "行业分析", "理财产品")
# What a customer says for each category (checked in this order; the category's name itself too).
CATEGORY_WORDS = {
    "宏观经济": r"宏观|经济数据|gdp|cpi|pmi|物价|经济形势",
    "金融政策": r"金融政策|政策|央行|降准|降息|利率|lpr|监管",
    "市场动态": r"市场动态|市场|行情|股市|a股|港股|大盘|汇率|金价|黄金|债市",
    "行业分析": r"行业分析|行业|产业",
    "理财产品": r"理财产品|理财|产品资讯|基金",
}
ALL_WORDS = re.compile(r"全部|所有|全都|都订|全订|每类|各类|五类")
RISK_LEVEL = re.compile(r"R([1-5])")
MAX_LIMIT = 50


@dataclass(frozen=True)
class NewsView:
    id: int
    title: str
    summary: str
    body: str
    category: str
    important: bool
    published_at: datetime

    @property
    def day(self) -> str:
        """`11月23日` in the bank's time."""
        local = self.published_at.astimezone(BANK_TZ)
        return f"{local.month}月{local.day}日"

    def public(self) -> dict:
        return {"id": self.id, "title": self.title, "category": self.category,
                "published_at": self.published_at.isoformat(), "important": self.important}


def view(item: NewsItem) -> NewsView:
    return NewsView(item.id, item.title, item.summary, item.body, item.category, bool(item.important),
                    item.published_at)


def categories_in(text: str) -> list[str]:
    """The categories a message names, in catalogue order ("全部" names all five)."""
    lowered = text.lower()
    if ALL_WORDS.search(lowered):
        return list(CATEGORIES)
    return [name for name in CATEGORIES if re.search(CATEGORY_WORDS[name], lowered)]


def risk_level(item: NewsItem | NewsView) -> int | None:
    """The highest product risk level (R1..R5) the item names, or None when it names none."""
    levels = [int(n) for n in RISK_LEVEL.findall(f"{item.title} {item.summary} {item.body}")]
    return max(levels) if levels else None


def published(now: datetime):
    return (NewsItem.unpublished_at.is_(None), NewsItem.published_at <= now)


def latest(db: Session, now: datetime, category: str | list[str] | None = None, limit: int = 5,
           words: str | None = None) -> list[NewsView]:
    """Published items, newest first, of a category (or any of several); `words` must appear in
    the title or the summary."""
    query = select(NewsItem).where(*published(now))
    if isinstance(category, str):
        query = query.where(NewsItem.category == category)
    elif category:
        query = query.where(NewsItem.category.in_(category))
    if words:
        query = query.where(or_(NewsItem.title.contains(words, autoescape=True),
                                NewsItem.summary.contains(words, autoescape=True)))
    query = query.order_by(NewsItem.published_at.desc(), NewsItem.id.desc()).limit(min(limit, MAX_LIMIT))
    return [view(item) for item in db.scalars(query)]


def get(db: Session, news_id: int, now: datetime) -> NewsView | None:
    """A published item, or None (unknown or unpublished)."""
    item = db.get(NewsItem, news_id)
    if item is None or item.unpublished_at is not None or item.published_at > now:
        return None
    return view(item)


def publish(db: Session, now: datetime, *, title: str, summary: str, body: str, category: str, important: bool,
            created_by: str) -> int:
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    item = NewsItem(title=title, summary=summary, body=body, category=category, important=important,
                    published_at=now, created_by=created_by)
    db.add(item)
    db.flush()
    return item.id


def unpublish(db: Session, news_id: int, now: datetime) -> bool:
    """Take an item out of lists and pushes; False when there is no such item (again: True)."""
    item = db.get(NewsItem, news_id)
    if item is None:
        return False
    if item.unpublished_at is None:
        item.unpublished_at = now
    return True
