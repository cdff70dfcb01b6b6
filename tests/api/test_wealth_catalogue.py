"""GET /v1/products/wealth: public, products on sale, facts from the knowledge graph."""
from decimal import Decimal

from chatbot.settings import DATA_DIR
from knowledge.kg.load import KnowledgeGraph


def test_catalogue_lists_products_on_sale_with_graph_facts(client):
    response = client.get("/v1/products/wealth")
    assert response.status_code == 200
    products = response.json()["products"]
    codes = [p["code"] for p in products]
    assert "wm_cta" not in codes  # paused in the seed
    assert len(products) >= 8 and {p["risk_level"] for p in products} == {"R1", "R2", "R3", "R4", "R5"}
    graph = KnowledgeGraph.load(DATA_DIR / "kg.yaml")
    wenjian = next(p for p in products if p["code"] == "wm_wenjian_one_year")
    assert set(wenjian) == {"code", "name", "risk_level", "term_days", "min_amount", "expected_yield"}
    assert wenjian["name"] == graph.name("wm_wenjian_one_year")
    assert wenjian["risk_level"] == graph.targets("wm_wenjian_one_year", "risk_level")[0]
    assert Decimal(wenjian["min_amount"]) == Decimal("10000") and wenjian["term_days"] == 365
    assert wenjian["expected_yield"] == "2.80%–3.60%"
    tiantian = next(p for p in products if p["code"] == "wm_tiantianbao")
    assert tiantian["term_days"] == 0


def test_a_paused_product_leaves_the_catalogue(client, services):
    from sqlalchemy import update

    from chatbot.storage.models import WealthProduct

    with services.database.write() as db:
        db.execute(update(WealthProduct).where(WealthProduct.code == "wm_anxin30").values(status="paused"))
    codes = [p["code"] for p in client.get("/v1/products/wealth").json()["products"]]
    assert "wm_anxin30" not in codes and "wm_tiantianbao" in codes


def test_without_a_knowledge_base_the_catalogue_comes_from_the_shipped_graph(services):
    """Found in review: this path imported a function that did not exist (500 when the
    service runs without a knowledge base)."""
    from types import SimpleNamespace

    from api.routes.wealth import _catalogue

    bare = SimpleNamespace(knowledge=None, database=services.database)
    listed = _catalogue(bare)["products"]
    assert listed and {"code", "name", "risk_level", "min_amount"} <= listed[0].keys()
