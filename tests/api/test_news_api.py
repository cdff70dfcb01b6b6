"""GET /v1/news (public), GET /v1/news/{id}, and the admin's POST / DELETE /v1/admin/news."""
from sqlalchemy import select

from chatbot.storage.models import AuditLog, Customer, NewsDelivery, NewsItem, NewsSubscription
from tests.dialogue.conftest import Chat, ZHANG


def _token(client, user="admin", password="admin-sandbox"):
    response = client.post("/v1/auth/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_public_list_newest_first_by_category_and_capped(client):
    response = client.get("/v1/news")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 20 and set(items[0]) == {"id", "title", "category", "published_at", "important"}
    assert [i["published_at"] for i in items] == sorted((i["published_at"] for i in items), reverse=True)
    policy = client.get("/v1/news", params={"category": "金融政策", "limit": 3}).json()["items"]
    assert len(policy) == 3 and {i["category"] for i in policy} == {"金融政策"}
    assert len(client.get("/v1/news", params={"limit": 1000}).json()["items"]) == 25  # all there are (cap 50)
    full = client.get(f"/v1/news/{policy[0]['id']}").json()
    assert full["title"] == policy[0]["title"] and len(full["body"]) > len(full["summary"])


def test_bad_category_or_limit_is_422_json(client):
    for params in ({"category": "体育"}, {"limit": 0}, {"limit": "many"}, {"limit": 100000}):
        response = client.get("/v1/news", params=params)
        assert response.status_code == 422, params
        assert "code" in response.json()["error"]
    assert client.get("/v1/news/999999").status_code == 404


def test_admin_publishes_and_unpublishes_audited(client, database):
    item = {"title": "示例：新规发布", "summary": "摘要", "body": "正文第一句。正文第二句。", "category": "金融政策",
            "important": False}
    assert client.post("/v1/admin/news", json=item).status_code == 401
    assert client.post("/v1/admin/news", json=item, headers=_token(client, "agent1", "agent1-sandbox")).status_code == 403
    admin = _token(client)
    response = client.post("/v1/admin/news", json=item, headers=admin)
    assert response.status_code == 201
    news_id = response.json()["id"]
    assert client.get("/v1/news", params={"limit": 1}).json()["items"][0]["id"] == news_id
    bad = client.post("/v1/admin/news", json={**item, "category": "体育"}, headers=admin)
    assert bad.status_code == 422 and "error" in bad.json()
    assert client.post("/v1/admin/news", json={**item, "title": "   "}, headers=admin).status_code == 422
    assert client.delete(f"/v1/admin/news/{news_id}", headers=admin).status_code == 204
    assert news_id not in [i["id"] for i in client.get("/v1/news", params={"limit": 50}).json()["items"]]
    assert client.get(f"/v1/news/{news_id}").status_code == 404
    assert client.delete("/v1/admin/news/987654", headers=admin).status_code == 404
    with database.read() as db:
        actions = db.scalars(select(AuditLog.action).where(AuditLog.target == f"news:{news_id}")).all()
    assert sorted(actions) == ["news_publish", "news_unpublish"]


def test_an_important_item_reaches_a_subscriber_history_at_once(client, database):
    chat = Chat(client, "zhang-web")
    chat.bind(ZHANG)
    chat.say("订阅金融政策资讯，每周")
    with database.write() as db:  # this week's digest is already out
        zhang = db.scalar(select(Customer.id).where(Customer.name == "张伟"))
        db.get(NewsSubscription, zhang).last_digest_at = db.get(NewsSubscription, zhang).created_at
        seeded = db.scalars(select(NewsItem.id).where(NewsItem.category == "金融政策")).all()
        db.add_all(NewsDelivery(customer_id=zhang, news_id=i, reason="digest",
                                sent_at=db.get(NewsSubscription, zhang).created_at) for i in seeded)
    item = {"title": "示例：央行宣布降息", "summary": "1年期LPR下调10个基点。", "body": "示例正文。示例正文。",
            "category": "金融政策", "important": True}
    response = client.post("/v1/admin/news", json=item, headers=_token(client))
    assert response.status_code == 201
    history = client.get("/v1/chat/history", params={"user_id": "zhang-web"})  # the client keeps the token
    texts = [m["text"] for m in history.json()["messages"] if m["sender"] == "bot"]
    with database.read() as db:
        told = db.scalars(select(NewsDelivery.news_id).where(NewsDelivery.customer_id == zhang,
                                                              NewsDelivery.reason == "important")).all()
    assert told == [response.json()["id"]]
    assert history.status_code == 200 and any(t.startswith("【示例银行】重要资讯：示例：央行宣布降息") for t in texts)
