"""loan.status over POST /v1/chat: stages with dates; a loan in repayment with its next due date."""
from tests.dialogue.conftest import WANG, ZHANG

LINA = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


def _admin(client):
    token = client.post("/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_a_submitted_application_and_then_its_disbursement(chat, client):
    c = chat()
    c.bind(LINA)
    reply = c.say("我的贷款批了没")
    assert "消费贷申请" in reply and "已提交 11-23" in reply and "50,000.00 元，12 期" in reply
    assert "1–3 个工作日" in reply  # the graph's review time
    admin = _admin(client)
    app = next(a for a in client.get("/v1/admin/applications", params={"kind": "loan", "stage": "submitted"},
                                     headers=admin).json()["applications"] if a["customer"] == "李*")
    for stage in ("reviewing", "approved", "disbursed"):
        assert client.post(f"/v1/admin/applications/{app['id']}/stage", json={"stage": stage},
                            headers=admin).status_code == 200
    reply = c.say("贷款進度")
    assert "已放款 11-24" in reply and "贷款编号 LN20261124-" in reply
    assert "还款日 2026-12-24" in reply and "剩余本金 50,000.00 元" in reply
    assert "51,000.00 元" in c.say("查余额")  # 1,000.00 + the loan


def test_a_loan_in_repayment(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("贷款进度")
    assert "已放款" in reply and "下期（第 5/24 期）还款日 2026-11-27" in reply


def test_nothing_to_show(chat):
    c = chat()
    c.bind(WANG)
    assert "暂无贷款申请或贷款" in c.say("放款了吗")


def test_when_is_it_paid_out_answers_from_the_open_application(chat):
    c = chat()
    c.bind({"name": "李娜", "id": "440305199511203311", "phone": "13700137000"})
    for text in ("什么时候能放款", "多久放款", "啥时候到账"):
        reply = c.say(text)
        assert "消费贷申请（编号 LA20261123-" in reply and "房贷" not in reply, text
        assert "审批时间一般为" in reply and "放款至您的储蓄卡" in reply


def test_when_is_it_paid_out_unbound_is_the_faq(chat):
    reply = chat().say("什么时候能放款")
    assert "房贷" in reply and "需要先绑定" not in reply
