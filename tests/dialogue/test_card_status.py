"""card.application_status over POST /v1/chat: the stage, the date of each stage, what is next."""
from tests.dialogue.conftest import WANG, ZHANG


def bearer(client):
    token = client.post("/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_an_application_under_review_with_its_dates_and_review_time(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我的信用卡申请到哪一步了")
    assert "金卡申请" in reply and "审核中" in reply
    assert "已提交 11-21" in reply and "审核中 11-22" in reply  # seeded 3 and 2 days before 11-24
    assert "7–15 个工作日" in reply  # the graph's review time of 金卡
    assert c.flow is None


def test_the_stage_follows_the_back_office(chat, client):
    admin = bearer(client)
    app = next(a for a in client.get("/v1/admin/applications", params={"kind": "card"}, headers=admin)
               .json()["applications"] if a["product"] == "金卡")
    c = chat()
    c.bind(WANG)
    client.post(f"/v1/admin/applications/{app['id']}/stage", json={"stage": "rejected", "note": "收入证明不足"},
                headers=admin)
    reply = c.say("信用卡審批到哪了")  # Traditional characters
    assert "未通过" in reply and "收入证明不足" in reply and "人工" in reply


def test_no_application(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("信用卡申请进度")
    assert "暂无信用卡申请记录" in reply and "申请信用卡" in reply
