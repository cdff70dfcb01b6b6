"""loan.apply over POST /v1/chat: product hints from the graph, real-time range checks,
corrections, the debt-to-income pre-review, code and the application record."""
import re
from decimal import Decimal

from sqlalchemy import select

from chatbot.storage.models import Application
from chatbot.tools.amortization import equal_installment
from tests.dialogue.conftest import WANG, ZHANG

LINA = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


def test_a_consumer_loan_is_applied_for(chat, services):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想贷款")
    assert "消费贷可借 1,000.00 元至 300,000.00 元，期限 3 至 36 期" in reply and "请问申请哪一种" in reply
    reply = c.say("消费贷")
    assert "请问借多少钱" in reply
    reply = c.say("50万")
    assert "300,000.00 元" in reply and "请重新告诉我借款金额" in reply
    assert "分多少期" in c.say("3万")
    assert "期限为 3 至 36 期" in c.say("48期")
    assert "用途" in c.say("两年")
    assert "税后收入" in c.say("装修")
    reply = c.say("9600元")  # the income, not a new amount
    payment = equal_installment(Decimal("30000"), Decimal("0.032"), 24).first_payment
    assert "请核对贷款申请" in reply and "金额：30,000.00 元" in reply and "期限：24 期" in reply
    assert f"每月约 {payment:,.2f} 元" in reply and "储蓄卡 **** 4321" in reply
    assert "139****9000" in c.say("确认")
    reply = c.say(c.code(WANG["phone"]))
    match = re.search(r"申请编号 (LA20261124-\d{6})", reply)
    assert match and "贷款进度" in reply and c.flow is None
    with services.database.read() as db:
        row = db.scalar(select(Application).where(Application.reference == match.group(1)))
        assert (row.kind, row.amount, row.term_months, row.details["purpose"]) == ("loan", Decimal("30000.00"), 24,
                                                                                  "装修")


def test_one_message_and_corrections(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想申请消费贷5万，分12期，用于装修")
    assert "税后收入" in reply
    reply = c.say("月收入一万二")
    assert "金额：50,000.00 元" in reply and "期限：12 期" in reply
    reply = c.say("改成3万")
    assert "已修改金额" in reply and "金额：30,000.00 元" in reply
    reply = c.say("不对，１８期")  # full-width digits
    assert "期限：18 期" in reply
    assert "先不办了" in c.say("不办了")
    assert c.flow is None


def test_debt_to_income_refusal_keeps_the_read_back_for_a_change(chat):
    c = chat()
    c.bind(WANG)
    c.say("申请消费贷10万，12期，装修用")
    reply = c.say("9600")
    assert "请核对贷款申请" in reply
    sent = c.sms_count(WANG["phone"])
    reply = c.say("确认")
    assert "暂不能按此方案提交" in reply and "50%" in reply and "验证码" not in reply
    assert c.sms_count(WANG["phone"]) == sent and c.flow == "loan.apply"
    reply = c.say("改成36期")
    assert "期限：36 期" in reply
    c.say("确认")
    assert "贷款申请已提交" in c.say(c.code(WANG["phone"]))


def test_an_open_application_and_forbidden_purpose(chat):
    c = chat()
    c.bind(LINA)  # the demo bank: 李娜's consumer loan application is submitted
    reply = c.say("申请消费贷2万12期")
    assert "正在办理中" in reply and "LA20261123-" in reply and "请问申请哪一种" in reply
    assert "经营贷" in reply and c.flow == "loan.apply"
    assert "不得用于" in c.say("经营贷，用来炒股")
    assert "税后收入" in c.say("进货")
    reply = c.say("7200")
    assert "产品：经营贷" in reply and "金额：20,000.00 元" in reply


def test_a_mortgage_is_applied_for_elsewhere(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("我要办房贷")
    assert "购房合同" in reply and "网点柜台" in reply and c.flow is None


def _summary_line(reply: str, label: str) -> str:
    return next(line for line in reply.splitlines() if line.startswith(label))


def test_a_bare_amount_after_the_refusal_changes_only_the_amount(chat):
    c = chat()
    c.bind(LINA)
    c.say("申请经营贷")
    c.say("借30万")
    assert "用途" in c.say("36期")  # "经营贷" names the product, not its purpose
    c.say("进货")
    assert "请核对贷款申请" in c.say("8000")
    reply = c.say("确认")
    assert "超过 50% 的上限" in reply and c.flow == "loan.apply"
    reply = c.say("改成8万")
    assert "已修改金额，" in reply and "金额：80,000.00 元" in reply
    assert _summary_line(reply, "用途") == "用途：进货" and _summary_line(reply, "月收入") == "月收入：8,000.00 元"
    reply = c.say("改成5万")
    assert "已修改金额，" in reply and "金额：50,000.00 元" in reply and "月收入：8,000.00 元" in reply
    reply = c.say("收入改成9000")  # named: the income
    assert "已修改月收入，" in reply and "月收入：9,000.00 元" in reply and "金额：50,000.00 元" in reply


def test_values_before_the_product_are_said_back_and_an_amount_is_never_income(chat):
    c = chat()
    c.bind(LINA)
    assert "请问申请哪一种" in c.say("我想贷款")
    reply = c.say("借5万")
    assert "已记下：借款 50,000.00 元" in reply and "请问申请哪一种" in reply
    assert "已记下：12 期" in c.say("分12期")
    reply = c.say("经营贷")
    assert "已记下：借款 50,000.00 元，12 期" in reply and "用途" in reply  # no purpose from the name
    assert "税后收入" in c.say("进货")
    reply = c.say("借500块")
    assert "经营贷可借 1,000.00 元至" in reply and "请核对" not in reply and "月收入" not in reply
    reply = c.say("8000")
    assert "金额：50,000.00 元" in reply and "期限：12 期" in reply and "用途：进货" in reply
    assert "月收入：8,000.00 元" in reply


def test_the_income_question_reads_worded_incomes(chat):
    c = chat()
    c.bind(LINA)
    for said, income in (("我月收入8000", "8,000.00"), ("月薪8千", "8,000.00"), ("税后一万二", "12,000.00"),
                         ("收入大概8000左右", "8,000.00"), ("8k", "8,000.00")):
        c.say("申请经营贷20万，36期，用于进货")
        reply = c.say(said)
        assert f"月收入：{income} 元" in reply and c.flow == "loan.apply", (said, reply)
        c.say("取消")


def test_how_to_apply_for_a_loan_is_answered_and_offered(chat):
    c = chat()
    reply = c.say("怎么申请贷款")
    assert "消费贷可借" in reply and "如需我直接帮您申请贷款" in reply and "需要先绑定您的银行账户。\n" not in reply
    assert c.flow is None
    assert "申请贷款需要先绑定" in c.say("好的")  # the offer taken: binding, then the application
    d = chat()
    assert "申请贷款需要先绑定" in d.say("申请贷款") and d.flow == "account.bind"


def test_early_repayment_is_never_an_application(chat):
    c = chat()
    reply = c.say("我想提前还贷款")
    assert "提前还款" in reply and "绑定" not in reply and c.flow is None
    c.bind(LINA)
    for said in ("我想提前还贷款", "贷款提前还款", "我想把贷款还清"):
        reply = c.say(said)
        assert c.flow is None and "请问申请哪一种" not in reply and "申请贷款" not in reply, (said, reply)
        assert "提前还" in reply, (said, reply)  # about early repayment (an answer, or which loan)


def test_a_worded_income_is_an_answer_not_a_complaint(chat):
    """"我一个月挣六千" reads as a complaint to the model and its 一个月 as a term."""
    c = chat()
    c.bind(LINA)
    c.say("申请消费贷")
    c.say("借3万")
    reply = c.say("我一个月挣六千")
    assert c.flow == "loan.apply" and "排队" not in reply and "1 期" not in reply, reply
    reply = c.say("你们乱扣我500块，我要投诉")  # a complaint with a figure is still one
    assert "排队" in reply or "人工" in reply, reply


def test_details_given_at_the_product_menu_are_noted_and_the_product_asked_in_one_line(chat):
    c = chat()
    c.bind(WANG)
    assert "可在线申请的贷款有" in c.say("我想贷款")
    reply = c.say("月收入8千左右")
    assert "已记下：月收入 8,000.00 元。" in reply and "可在线申请的贷款有" not in reply and "请问申请哪一种" in reply
    reply = c.say("装修用")
    assert "已记下：用途 装修。" in reply and "可在线申请的贷款有" not in reply
    reply = c.say("用途改成买车")
    assert "买车" in reply and "可在线申请的贷款有" not in reply
    reply = c.say("确认")  # a yes at the menu: the product asked in one line, not a failed answer
    assert reply.count("\n") == 0 and "请问申请哪一种" in reply and "没能识别" not in reply
    assert "请问借多少钱" in c.say("消费贷")
    assert "分多少期" in c.say("5万")
    reply = c.say("12期")  # purpose and income were kept: straight to the read-back
    assert "请核对贷款申请" in reply and "用途：买车" in reply and "月收入：8,000.00 元" in reply


def test_an_amount_out_of_range_or_not_positive_is_refused_and_asked_again(chat):
    c = chat()
    c.bind(WANG)
    c.say("我想申请消费贷")
    for _ in range(3):  # refused with the range each time; the flow never ends on it
        reply = c.say("借一百万")
        assert "1,000.00 元至 300,000.00 元" in reply and "请重新告诉我借款金额" in reply
        assert "没能继续办理" not in reply and c.flow == "loan.apply"
    for text in ("借-5000", "借负5000"):
        reply = c.say(text)
        assert "须为正数" in reply and "没能识别" not in reply and c.flow == "loan.apply"
    assert "分多少期" in c.say("5万")


def test_a_what_if_then_apply_carries_its_figures(chat):
    c = chat()
    c.bind(WANG)
    assert "2,916.94 元" in c.say("借10万分36期每月还多少")
    reply = c.say("那我申请吧")
    assert c.flow == "loan.apply" and "消费贷：100,000.00 元，36 期" in reply and "用途" in reply
    c.say("装修")
    reply = c.say("月收入3万")
    assert "金额：100,000.00 元" in reply and "期限：36 期" in reply


def test_an_unbound_customer_binds_then_applies_with_the_what_if(chat):
    c = chat()
    c.say("借10万分36期每月还多少")
    reply = c.say("就按这个申请")
    assert "需要先绑定" in reply and c.flow == "account.bind"
    c.say(WANG["name"])
    c.say(WANG["id"])
    reply = c.say(c.code(WANG["phone"]))
    assert "绑定成功" in reply and "消费贷：100,000.00 元，36 期" in reply and c.flow == "loan.apply"


def test_debt_to_income_at_the_longest_term_suggests_only_a_lower_amount(chat):
    c = chat()
    c.bind(WANG)
    c.say("申请消费贷30万，36期，装修用")
    c.say("9600")
    reply = c.say("确认")
    assert "暂不能按此方案提交" in reply and "延长期限" not in reply and "36期”" not in reply
    largest = re.search(r"金额减至 ([\d,]+\.\d\d) 元", reply).group(1).replace(",", "")
    # 4,800.00 a month is the room (50 % of 9,600.00): the largest whole hundred that fits
    assert equal_installment(Decimal(largest), Decimal("0.032"), 36).first_payment <= Decimal("4800")
    assert equal_installment(Decimal(largest) + 100, Decimal("0.032"), 36).first_payment > Decimal("4800")
    assert "金额：164,500.00 元" in c.say(f"改成{largest}")
    assert "验证码已发送" in c.say("确认")


def test_an_endless_number_is_no_loan_amount(chat):
    c = chat()
    c.bind(LINA)
    c.say("申请消费贷")
    reply = c.say("1" + "0" * 40)
    assert c.flow == "loan.apply", reply
