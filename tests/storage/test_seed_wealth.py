"""DESIGN.md's "Wave 2 contract" for wealth and news holds after `chatbot seed`."""
from collections import Counter

from sqlalchemy import select

from chatbot.settings import DATA_DIR
from chatbot.storage.models import (Account, Customer, LedgerEntry, NewsItem, RiskAssessment, WealthHolding,
                                    WealthProduct)
from knowledge.kg.load import KnowledgeGraph

CATEGORIES = {"宏观经济", "金融政策", "市场动态", "行业分析", "理财产品"}


def _customer(db, name):
    return db.scalar(select(Customer.id).where(Customer.name == name))


def test_products_of_every_risk_level_are_graph_products(backend, database):
    graph = KnowledgeGraph.load(DATA_DIR / "kg.yaml")
    with database.read() as db:
        products = db.scalars(select(WealthProduct)).all()
    assert len(products) >= 8 and all(p.code in graph for p in products)
    levels = {graph.targets(p.code, "risk_level")[0] for p in products if p.status == "on_sale"}
    assert levels == {"R1", "R2", "R3", "R4", "R5"}


def test_zhang_has_a_valid_c3_assessment_and_one_r2_holding_wang_none(backend, database, clock):
    graph = KnowledgeGraph.load(DATA_DIR / "kg.yaml")
    today = clock.now().date()
    with database.read() as db:
        zhang, wang = _customer(db, "张伟"), _customer(db, "王芳")
        assessment = db.scalars(select(RiskAssessment).where(RiskAssessment.customer_id == zhang)
                                .order_by(RiskAssessment.assessed_at.desc())).first()
        assert assessment.level == "C3" and assessment.expires_on > today
        assert db.scalar(select(RiskAssessment.id).where(RiskAssessment.customer_id == wang)) is None
        holding, = db.scalars(select(WealthHolding).where(WealthHolding.customer_id == zhang)).all()
        assert graph.targets(holding.product_code, "risk_level") == ["R2"]
        assert holding.maturity_date > today and holding.value > holding.principal
        # Bought from the savings card, inside the ledger: the card paid the principal.
        paid = db.scalar(select(LedgerEntry.amount).where(LedgerEntry.account_id == holding.account_id,
                                                          LedgerEntry.created_at == holding.bought_at))
        assert paid == -holding.principal
        assert db.get(Account, holding.account_id).account_no.endswith("1234")


def test_twenty_news_items_over_the_five_categories(backend, database):
    with database.read() as db:
        items = db.scalars(select(NewsItem)).all()
    assert len(items) >= 20
    counts = Counter(item.category for item in items)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 3
    assert any(item.important for item in items)
    assert all(item.title and item.summary and len(item.body) > len(item.summary) for item in items)
