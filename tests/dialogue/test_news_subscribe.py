"""news.subscribe through POST /v1/chat: the form, frequency, pause/resume, unsubscribe, query."""
from sqlalchemy import select

from chatbot.storage.models import Customer, NewsSubscription
from tests.dialogue.conftest import ZHANG


def _sub(database, name="张伟"):
    with database.read() as db:
        customer_id = db.scalar(select(Customer.id).where(Customer.name == name))
        row = db.get(NewsSubscription, customer_id)
        return None if row is None else (row.categories, row.frequency, row.status)


def test_needs_binding_then_goes_on(chat, database):
    c = chat()
    reply = c.say("订阅宏观经济和理财产品资讯")
    assert "需要先绑定" in reply
    c.say(ZHANG["name"])
    c.say(ZHANG["id"])
    reply = c.say(c.code(ZHANG["phone"]))
    assert "推送频率选哪种" in reply
    reply = c.say("每天")
    assert "已为您订阅宏观经济、理财产品资讯，每天推送" in reply
    assert _sub(database) == (["宏观经济", "理财产品"], "daily", "active")


def test_form_by_numbers_with_a_correction(chat, database):
    c = chat()
    c.bind()
    assert "想订阅哪些资讯" in c.say("订阅资讯")
    assert "推送频率选哪种" in c.say("1和5")
    reply = c.say("不对，只要理财产品")  # corrects the categories, the frequency is asked again
    assert "推送频率选哪种" in reply and c.flow == "news.subscribe"
    assert "每周三次" in c.say("2")
    assert _sub(database) == (["理财产品"], "thrice_weekly", "active")


def test_all_in_one_message_and_changes(chat, database):
    c = chat()
    c.bind()
    assert "每周一次推送" in c.say("订阅全部资讯，每周推送")
    assert _sub(database) == (["宏观经济", "金融政策", "市场动态", "行业分析", "理财产品"], "weekly", "active")
    reply = c.say("我订阅了什么")
    assert "宏观经济、金融政策、市场动态、行业分析、理财产品" in reply and "每周一次" in reply and "推送中" in reply
    assert "已为您修改订阅" in c.say("改成每天")
    assert _sub(database)[1] == "daily"
    c.say("只订阅理财产品")
    assert _sub(database)[0] == ["理财产品"]
    c.say("加上行业分析")
    assert _sub(database)[0] == ["行业分析", "理财产品"]
    assert "已不再推送行业分析" in c.say("取消订阅行业分析")
    assert _sub(database)[0] == ["理财产品"]


def test_pause_resume_unsubscribe(chat, database):
    c = chat()
    c.bind()
    assert "还没有订阅" in c.say("暂停推送")
    c.say("订阅市场动态资讯，每天")
    assert "已暂停资讯推送" in c.say("暂停推送")
    assert _sub(database)[2] == "paused"
    assert "已暂停" in c.say("我订阅了什么") and "恢复推送" in c.last["replies"][0]["text"]
    assert "已恢复资讯推送" in c.say("恢复推送")
    assert _sub(database)[2] == "active"
    assert "已为您取消财经资讯订阅" in c.say("取消订阅")
    assert _sub(database)[2] == "cancelled"
    assert "还没有订阅" in c.say("我订阅了什么")
    c.say("订阅资讯")  # subscribing again: the form, active with the new choice
    c.say("金融政策")
    c.say("每周")
    assert _sub(database) == (["金融政策"], "weekly", "active")


def test_cancel_in_the_middle(chat, database):
    c = chat()
    c.bind()
    c.say("订阅资讯")
    c.say("宏观经济")
    assert "先不订阅了" in c.say("算了")
    assert c.flow is None and _sub(database) is None



def test_a_bare_resume_right_after_pausing_resumes_the_pushes(chat):
    """"恢复" alone reads as lifting a card loss report; after "暂停推送" it means the pushes."""
    c = chat()
    c.bind()
    c.say("订阅宏观经济资讯")
    c.say("每天")
    assert "已暂停" in c.say("暂停推送")
    reply = c.say("恢复")
    assert "已恢复资讯推送" in reply and "挂失" not in reply, reply
