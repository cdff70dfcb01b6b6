"""account.balance and account.transactions: filters, paging, follow-ups, export links."""
import re

ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
WANG = {"name": "王芳", "id": "310115198806152046", "phone": "13900139000"}


def test_balance_of_all_accounts_and_by_card(chat):
    c = chat()
    c.bind()
    reply = c.say("余额")
    assert "储蓄卡 **** 1234：可用余额 52,380.50 元" in reply
    assert "信用卡 **** 5678" in reply and "30,000.00 元" in reply
    reply = c.say("尾号5678的卡还能用多少")
    assert "5678" in reply and "1234" not in reply
    assert "没有尾号 9999" in c.say("查下尾号9999的余额")


def test_transactions_paging_follow_up_and_export(chat, client):
    c = chat()
    c.bind()
    reply = c.say("查一下上个月的交易明细")
    assert "2026-10-01 至 2026-10-31" in reply and "共" in reply
    assert "更多" in reply
    first_page = reply
    second = c.say("更多")
    assert second != first_page and "已显示 10/" in second
    reply = c.say("那这个月的呢？")
    assert "2026-11-01 至 2026-11-24" in reply
    reply = c.say("导出")
    links = re.findall(r"/v1/exports/\S+", reply)
    assert len(links) == 2
    xlsx = client.get(links[0])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(links[1]).content.decode("utf-8-sig").startswith("时间")


def test_transactions_by_type(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("最近三个月的工资收入")
    assert "北京星辰科技有限公司" in reply
    assert "美团外卖" not in reply


def test_loan_balance_names_what_is_still_owed(chat):
    c = chat()
    c.bind()
    reply = c.say("贷款余额")
    assert "消费贷" in reply and "剩余本金 50,346.10 元" in reply and "2026-11-27" in reply, reply
    everything = c.say("查一下所有账户余额")
    assert "**** 1234" in everything and "**** 5678" in everything and "剩余本金" in everything


def test_no_loan_is_said_plainly(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("贷款余额")
    assert reply == "您名下没有在还的贷款。"
    assert "剩余本金" not in c.say("查余额")
