"""card.apply over POST /v1/chat: products from the graph, the pre-filled form, read-back,
code, pre-review (refusals say why) and the application record."""
import re

from sqlalchemy import select

from chatbot.storage.models import Application, ApplicationEvent
from tests.dialogue.conftest import WANG, ZHANG

LINA = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


def _to_readback(c, first="我想办张信用卡"):
    reply = c.say(first)
    if "请问申请哪一张" in reply:
        reply = c.say("普卡")
    assert "信息无误请回复“是”" in reply, reply
    assert "3101**********2046" in reply and "139****9000" in reply and "310115198806152046" not in reply
    assert "工作单位" in c.say("是")
    assert "税后收入" in c.say("上海浦江贸易有限公司")
    assert "通讯地址" in c.say("9600")
    return c.say("上海市浦东新区张杨路100号")


def test_products_come_from_the_graph_and_the_application_is_recorded(chat, services):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想办张信用卡")
    for name, fee in (("普卡", "100.00 元"), ("金卡", "200.00 元"), ("白金卡", "600.00 元")):
        assert name in reply and fee in reply
    assert "机场贵宾厅" in reply and "请问申请哪一张" in reply
    assert "信息无误" in c.say("1")  # by its number in the list
    assert "工作单位" in c.say("是")
    c.say("上海浦江贸易有限公司")
    c.say("一万二")
    reply = c.say("上海市浦东新区张杨路100号")
    assert "请核对信用卡申请信息" in reply and "卡种：普卡" in reply and "月收入：12,000.00 元" in reply
    assert "139****9000" in c.say("确认")
    reply = c.say(c.code(WANG["phone"]))
    match = re.search(r"申请编号 (CA20261124-\d{6})", reply)
    assert match and "初步核定额度 20,000.00 元" in reply and "7–15 个工作日" in reply
    assert c.flow is None
    with services.database.read() as db:
        row = db.scalar(select(Application).where(Application.reference == match.group(1)))
        assert (row.kind, row.product_code, row.stage) == ("card", "classic_card", "submitted")
        assert row.details["employer"] == "上海浦江贸易有限公司" and row.details["monthly_income"] == "12000.00"
        assert "310115198806152046" not in str(row.details) and "13900139000" not in str(row.details)
        events = db.scalars(select(ApplicationEvent.stage).where(ApplicationEvent.application_id == row.id)).all()
        assert events == ["submitted"]


def test_an_open_application_for_the_same_card_is_said_when_it_is_chosen(chat):
    c = chat()
    c.bind(WANG)  # the demo bank: 王芳's 金卡 application is under review
    sent = c.sms_count(WANG["phone"])
    reply = c.say("办金卡")
    assert "正在办理中" in reply and "CA20261121-" in reply and "审核中" in reply and "请问申请哪一张" in reply
    assert c.flow == "card.apply"
    reply = _to_readback(c, "普卡")  # another card is fine
    assert "卡种：普卡" in reply
    assert c.sms_count(WANG["phone"]) == sent


def test_income_too_low_for_the_card_is_refused_with_the_reason(chat):
    c = chat()
    c.bind(WANG)
    c.say("申请白金卡")
    c.say("是")
    c.say("上海浦江贸易有限公司")
    c.say("月收入9600")
    c.say("上海市浦东新区张杨路100号")
    reply = c.say("确认")
    assert "暂不符合白金卡的申请条件" in reply and "28,000.00 元" in reply and "50,000.00 元" in reply
    assert "普卡" in reply and "金卡" in reply  # what the customer could apply for instead
    assert c.flow is None


def test_corrections_traditional_characters_and_full_width_digits(chat):
    c = chat()
    c.bind(LINA)
    assert "请问申请哪一张" in c.say("申請信用卡")
    c.say("普卡")
    c.say("是")
    c.say("深圳南山教育培训中心")
    c.say("７２００")
    reply = c.say("深圳市南山区科技园1号")
    assert "月收入：7,200.00 元" in reply
    reply = c.say("收入改成8000")
    assert "已修改月收入" in reply and "月收入：8,000.00 元" in reply
    reply = c.say("地址改成深圳市福田区深南大道2号")
    assert "通讯地址：深圳市福田区深南大道2号" in reply
    c.say("确认")
    assert "申请已提交" in c.say(c.code(LINA["phone"]))


def test_cancel_and_a_question_on_the_way(chat, services):
    c = chat()
    c.bind(ZHANG)
    c.say("办信用卡")
    c.say("金卡")
    reply = c.say("信用卡年费多少")  # a question: answered, then the form goes on
    assert "信息无误" in reply
    assert "先不办了" in c.say("算了")
    assert c.flow is None
    with services.database.read() as db:
        assert db.scalar(select(Application).where(Application.product_code == "gold_card",
                                                   Application.stage == "submitted")) is None


def test_unbound_customer_binds_first(chat):
    c = chat()
    reply = c.say("我要办信用卡")
    assert "申请信用卡需要先绑定" in reply
    c.say(WANG["name"])
    c.say(WANG["id"])
    reply = c.say(c.code(WANG["phone"]))
    assert "绑定成功" in reply and "请问申请哪一张" in reply


def test_how_to_apply_for_a_card_is_answered_and_offered(chat):
    c = chat()
    reply = c.say("怎么申请信用卡")
    assert "金卡" in reply and "如需我直接帮您申请信用卡" in reply and c.flow is None
    assert "申请信用卡需要先绑定" in c.say("好的") and c.flow == "account.bind"
    d = chat()
    assert "申请信用卡需要先绑定" in d.say("我要申请信用卡") and d.flow == "account.bind"


def test_the_income_question_reads_a_worded_income(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想办张信用卡")
    if "请问申请哪一张" in reply:
        c.say("普卡")
    c.say("是")
    assert "税后收入" in c.say("上海浦江贸易有限公司")
    assert "通讯地址" in c.say("我月收入8000") and c.flow == "card.apply"
    assert "月收入：8,000.00 元" in c.say("上海市浦东新区张杨路100号")


def test_an_address_said_wrong_is_corrected_without_the_words_around_it(chat):
    c = chat()
    c.bind(WANG)
    _to_readback(c, "我想办张普卡")
    reply = c.say("地址写错了，是深圳市福田区福华路8号")
    assert "通讯地址：深圳市福田区福华路8号" in reply and "了" not in reply.split("通讯地址：")[1][:2], reply


def test_zan_ban_li_is_how_to_apply(chat):
    for text in ("信用卡咋办理", "信用卡怎么办理"):  # 咋 = 怎么; each in a new conversation
        reply = chat().say(text)
        assert "暂时回答不了" not in reply and "信用卡可以直接在这里申请" in reply, text
        assert "如需我直接帮您申请信用卡" in reply
