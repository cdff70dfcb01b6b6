"""The public wealth catalogue (no login): the products on sale.

`expected_yield` is the graph's performance benchmark range as a string ("2.40%–3.20%"),
the way the bank publishes it; a single figure when the graph gives only one.
`min_amount` is a string with two decimals ("10000.00"), like every amount in the API.
"""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.dialogue.context import product_graph
from chatbot.tools.sql_bank import SqlBank
from chatbot.wealth.catalogue import products

router = APIRouter(tags=["wealth"])


@router.get("/v1/products/wealth")
async def wealth_products(services: ServicesDep) -> dict:
    """Wealth products on sale: name, risk level, minimum and expected yield from the knowledge
    graph, term in days from the sales system (0: no fixed term)."""
    return await run_in_threadpool(_catalogue, services)


def _catalogue(services) -> dict:
    answerer = getattr(services.knowledge, "graph", None)
    graph = product_graph(getattr(answerer, "graph", None))
    with services.database.read() as db:
        rows = {offer.code: offer for offer in SqlBank(db).wealth_offers()}
    return {"products": [{"code": v.code, "name": v.name, "risk_level": v.risk_level, "term_days": v.term_days,
                          "min_amount": f"{v.min_amount:.2f}", "expected_yield": v.expected_yield}
                         for v in products(graph, rows) if v.on_sale]}
