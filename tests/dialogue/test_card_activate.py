"""card.activate over POST /v1/chat: 王芳's application is driven to 已寄出 through the back
office, then she activates the card in chat (confirmation and code)."""
from sqlalchemy import select

from chatbot.storage.models import Card
from tests.dialogue.conftest import WANG, ZHANG


def _admin(client):
    token = client.post("/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _mail_wangs_card(client) -> dict:
    admin = _admin(client)
    app = next(a for a in client.get("/v1/admin/applications", params={"kind": "card"}, headers=admin)
               .json()["applications"] if a["customer"] == "王*")
    for stage in ("approved", "producing", "mailed"):
        moved = client.post(f"/v1/admin/applications/{app['id']}/stage", json={"stage": stage}, headers=admin)
        assert moved.status_code == 200, moved.text
    return moved.json()


def test_a_mailed_card_is_activated_with_a_code(chat, client, services):
    c = chat()
    c.bind(WANG)
    assert "卡片寄出后即可激活" in c.say("激活信用卡")  # still under review
    mailed = _mail_wangs_card(client)
    tail = mailed["card_tail"]
    assert f"已寄出" in c.say("信用卡申请进度") and f"尾号{tail}" in c.last["replies"][0]["text"]
    reply = c.say("新卡收到了，帮我激活")
    assert f"请确认激活金卡信用卡 **** {tail}" in reply and "28,000.00 元" in reply
    assert "139****9000" in c.say("确认")
    # A question while the code is awaited is answered, and the code asked for again.
    reply = c.say("信用卡年费是多少")
    assert "年费" in reply and "请回复短信中的 6 位验证码" in reply and c.flow == "card.activate", reply
    assert "验证码不正确" in c.say("000000")
    reply = c.say(c.code(WANG["phone"]))
    assert "激活成功" in reply and f"**** {tail} 已可使用" in reply
    with services.database.read() as db:
        assert db.scalar(select(Card.status).where(Card.tail == tail)) == "active"
    assert "已激活" in c.say("信用卡申请进度")
    assert "均已激活" in c.say("激活信用卡")
    assert "可用额度 28,000.00 元" in c.say("查余额")


def test_only_the_customers_own_card_and_cancel(chat, client):
    tail = _mail_wangs_card(client)["card_tail"]
    z = chat()
    z.bind(ZHANG)
    reply = z.say(f"激活尾号{tail}的信用卡")
    assert "均已激活" in reply and z.flow is None  # 张伟 has no card waiting: not 王芳's
    c = chat()
    c.bind(WANG)
    c.say("开卡")
    assert "先不激活" in c.say("算了")
    assert c.flow is None
    assert "请确认激活" in c.say("激活尾号" + tail)
