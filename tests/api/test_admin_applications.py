"""Back office: list applications and move them through their stages over HTTP (role admin)."""
from decimal import Decimal

from sqlalchemy import func, select

from chatbot.storage.models import Account, ApplicationEvent, AuditLog, Card, Loan, LoanPayment


def bearer(client, username) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _listed(client, admin, **params) -> list[dict]:
    response = client.get("/v1/admin/applications", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["applications"]


def _move(client, admin, app_id, stage):
    return client.post(f"/v1/admin/applications/{app_id}/stage", json={"stage": stage}, headers=admin)


def _seeded(client, admin, kind, product):
    return next(a for a in _listed(client, admin, kind=kind) if a["product"] == product)


def test_list_is_masked_and_filtered(client):
    admin = bearer(client, "admin")
    every = _listed(client, admin)
    assert {"id", "kind", "customer", "product", "stage", "updated_at"} <= set(every[0])
    assert all(len(a["customer"]) >= 2 and a["customer"][1:] == "*" * (len(a["customer"]) - 1) for a in every)
    assert "王芳" not in str(every) and "李娜" not in str(every)
    cards = _listed(client, admin, kind="card", stage="reviewing")
    assert cards and all(a["kind"] == "card" and a["stage"] == "reviewing" for a in cards)
    assert any(a["customer"] == "王*" and a["product"] == "金卡" for a in cards)
    loans = _listed(client, admin, kind="loan", stage="submitted")
    assert any(a["customer"] == "李*" for a in loans)
    assert client.get("/v1/admin/applications", params={"stage": "shipped"}, headers=admin).status_code == 422
    assert client.get("/v1/admin/applications", params={"kind": "card", "stage": "disbursed"},
                      headers=admin).status_code == 422


def test_roles_and_errors(client):
    assert client.get("/v1/admin/applications").status_code == 401
    agent = bearer(client, "agent1")
    assert client.get("/v1/admin/applications", headers=agent).status_code == 403
    admin = bearer(client, "admin")
    wang = _seeded(client, admin, "card", "金卡")
    assert _move(client, agent, wang["id"], "approved").status_code == 403
    assert client.post(f"/v1/admin/applications/{wang['id']}/stage", json={"stage": "approved"}).status_code == 401
    missing = _move(client, admin, 10 ** 12, "reviewing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "application_not_found"
    assert _move(client, admin, wang["id"], "teleported").status_code == 422
    assert _move(client, admin, wang["id"], "disbursed").status_code == 422  # a loan's stage
    assert client.post(f"/v1/admin/applications/{wang['id']}/stage", json={}, headers=admin).status_code == 422


def test_an_illegal_move_is_409_naming_the_allowed_stages(client, services):
    admin = bearer(client, "admin")
    wang = _seeded(client, admin, "card", "金卡")
    refused = _move(client, admin, wang["id"], "mailed")  # 审核中 -> 已寄出 skips steps
    assert refused.status_code == 409
    body = refused.json()
    assert body["allowed"] == ["approved", "rejected"] and body["error"]["code"] == "illegal_stage"
    assert "审核中" in body["error"]["message"]
    with services.database.read() as db:  # nothing happened
        assert db.scalar(select(func.count()).select_from(ApplicationEvent)
                         .where(ApplicationEvent.application_id == wang["id"])) == 2


def test_a_card_goes_to_mailed_and_is_made(client, services):
    admin = bearer(client, "admin")
    wang = _seeded(client, admin, "card", "金卡")
    for stage in ("approved", "producing"):
        response = _move(client, admin, wang["id"], stage)
        assert response.status_code == 200, response.text
        assert response.json()["stage"] == stage
    mailed = _move(client, admin, wang["id"], "mailed").json()
    assert mailed["stage"] == "mailed" and mailed["allowed"] == ["activated"]
    assert [e["stage"] for e in mailed["events"]] == ["submitted", "reviewing", "approved", "producing", "mailed"]
    assert Decimal(mailed["credit_limit"]) == Decimal("28000")  # income 9,600 x 3 in thousands, within 金卡's range
    with services.database.read() as db:
        card = db.scalar(select(Card).where(Card.tail == mailed["card_tail"]))
        assert card.status == "inactive" and db.get(Account, card.account_id).credit_limit == Decimal("28000.00")
        audited = db.scalars(select(AuditLog).where(AuditLog.action == "application.stage")).all()
        assert [a.detail["to"] for a in audited] == ["approved", "producing", "mailed"]
        assert {a.actor for a in audited} == {"staff:admin"}
    assert _move(client, admin, wang["id"], "producing").status_code == 409


def test_disbursing_a_loan_posts_the_money_once(client, services):
    admin = bearer(client, "admin")
    lina = _seeded(client, admin, "loan", "消费贷")
    assert lina["stage"] == "submitted"
    assert _move(client, admin, lina["id"], "disbursed").json()["allowed"] == ["reviewing"]
    _move(client, admin, lina["id"], "reviewing")
    _move(client, admin, lina["id"], "approved")
    with services.database.read() as db:
        before = db.scalar(select(Account.balance).where(Account.account_no == "6222021000708888"))
    done = _move(client, admin, lina["id"], "disbursed")
    assert done.status_code == 200, done.text
    assert done.json()["loan_reference"].startswith("LN20261124-")
    again = _move(client, admin, lina["id"], "disbursed")
    assert again.status_code == 409 and again.json()["allowed"] == []
    with services.database.read() as db:
        assert db.scalar(select(Account.balance).where(Account.account_no == "6222021000708888")) == \
            before + Decimal("50000.00")
        loan = db.scalar(select(Loan).where(Loan.application_id == lina["id"]))
        assert loan.principal == Decimal("50000.00") and loan.months == 12
        assert db.scalar(select(func.count()).select_from(LoanPayment).where(LoanPayment.loan_id == loan.id)) == 12
