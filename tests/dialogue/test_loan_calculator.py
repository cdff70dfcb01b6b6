"""loan.repayment_plan as a what-if calculator through POST /v1/chat (no binding needed)."""
from decimal import Decimal

from chatbot.money import format_amount
from chatbot.tools.amortization import equal_installment, equal_principal


def figures(amount: str, percent: str, months: int) -> list[str]:
    """What the answer must state: the monthly payment (等额本息), the first and last payment
    (等额本金) and each method's total interest, formatted as replies format amounts."""
    rate = Decimal(percent) / 100
    installment = equal_installment(Decimal(amount), rate, months)
    principal = equal_principal(Decimal(amount), rate, months)
    return [f"每月 {format_amount(installment.first_payment)}",
            f"总利息 {format_amount(installment.total_interest)}",
            f"首月 {format_amount(principal.first_payment)}",
            f"末月 {format_amount(principal.last_payment)}",
            f"总利息 {format_amount(principal.total_interest)}"]


def assert_calculated(reply: str, amount: str, percent: str, months: int) -> None:
    assert f"借 {format_amount(Decimal(amount))}" in reply
    assert f"按年化 {percent}% 估算，实际以审批为准" in reply
    assert "等额本息" in reply and "等额本金" in reply
    for figure in figures(amount, percent, months):
        assert figure in reply, (figure, reply)


def test_consumer_loan_by_default(chat):
    c = chat()
    reply = c.say("借10万分36期每月还多少")
    assert_calculated(reply, "100000", "3.20", 36)
    # The figures themselves (100,000 at 3.20% over 36 months), checked once by hand.
    assert "每月 2,916.94 元" in reply and "首月 3,044.45 元" in reply and "末月 2,785.11 元" in reply
    assert "消费贷年化利率 3.20% 起" in reply
    assert c.flow is None
    assert c.last["state"]["intent"] == "loan.repayment_plan"
    assert "绑定" not in reply


def test_years_as_the_term(chat):
    reply = chat().say("贷款20万三年月供多少")
    assert_calculated(reply, "200000", "3.20", 36)
    assert "36 期" in reply


def test_traditional_chinese(chat):
    reply = chat().say("貸款20萬36期每月還多少")
    assert_calculated(reply, "200000", "3.20", 36)


def test_a_mortgage_uses_the_mortgage_rate(chat):
    reply = chat().say("房贷100万30年")
    assert_calculated(reply, "1000000", "3.05", 360)
    assert "房贷首套" in reply and "360 期" in reply
    reply = chat().say("二套房贷200万25年月供多少")
    assert_calculated(reply, "2000000", "3.25", 300)


def test_other_products_use_their_rates(chat):
    assert_calculated(chat().say("房贷100万30年等额本金每月还多少"), "1000000", "3.05", 360)
    assert_calculated(chat().say("经营贷100万5年月供多少"), "1000000", "3.00", 60)
    assert_calculated(chat().say("车贷15万3年每月还多少"), "150000", "3.50", 36)


def test_a_missing_term_is_asked_for(chat):
    c = chat()
    assert c.say("借10万每月还多少") == "请问分多少期（或几年）？"
    assert c.flow == "loan.repayment_plan"
    assert_calculated(c.say("36期"), "100000", "3.20", 36)
    assert c.flow is None

    c = chat()
    c.say("借10万每月还多少")
    assert_calculated(c.say("36"), "100000", "3.20", 36)  # a bare number answers 分多少期


def test_an_amount_over_the_product_maximum_says_the_range(chat):
    c = chat()
    reply = c.say("消费贷借50万分36期每月还多少")
    assert "消费贷可借 300,000.00 元以内" in reply and "36 期" in reply
    assert "等额本息" not in reply
    assert_calculated(c.say("20万"), "200000", "3.20", 36)


def test_a_term_over_the_product_maximum_says_the_range(chat):
    c = chat()
    reply = c.say("消费贷借10万分60期每月还多少")
    assert "消费贷期限为 1 至 36 期" in reply
    assert_calculated(c.say("24期"), "100000", "3.20", 24)


def test_cancel(chat):
    c = chat()
    c.say("借10万每月还多少")
    assert c.say("算了") == "好的，先不算了。还有什么可以帮您？"
    assert c.flow is None


def test_a_correction_changes_the_amount(chat):
    c = chat()
    c.say("借10万每月还多少")
    assert "已修改金额" in c.say("改成20万")
    assert_calculated(c.say("三年"), "200000", "3.20", 36)


def test_the_customers_own_loan_is_not_a_calculation(chat):
    reply = chat().say("我这个月月供多少")  # their own loan (tests/dialogue/test_loan_plan.py): binding first
    assert "等额本息" not in reply and "查询还款计划需要先绑定" in reply


def test_a_wish_to_borrow_without_a_term_is_not_a_calculation(chat):
    reply = chat().say("借10万")
    assert "等额本息" not in reply


def test_how_to_questions_about_loans_keep_their_faq_answers(chat):
    c = chat()
    reply = c.say("等额本息和等额本金有什么区别")
    assert c.last["state"]["intent"] == "faq" and "等额本金" in reply
    assert c.flow is None
    reply = c.say("月供怎么算")
    if "您是想问" in reply:  # not sure enough to answer outright: asked about, and 是 answers it
        reply = c.say("是")
    assert "贷款计算器" in reply and c.flow is None


def test_a_follow_up_changes_the_last_what_if(chat):
    """"那分24期呢" recomputes the loan just asked about (it is not a card installment)."""
    c = chat()
    c.say("借10万分36期每月还多少")
    reply = c.say("那分24期呢")
    assert "借 100,000.00 元，分 2 年（24 期）" in reply and c.flow is None, reply
    assert "每月 4,306.97 元" in reply  # the amortization tests check the arithmetic itself
    reply = c.say("要是借20万呢")
    assert "借 200,000.00 元，分 2 年（24 期）" in reply
    reply = c.say("那分48期呢")  # beyond the product: said, and the last figures stay
    assert "36" in reply and "借 200,000.00" not in reply
    assert "期数" in c.say("那分100年呢") and c.flow is None
    assert "借 200,000.00 元，分 1 年（12 期）" in c.say("那12期呢")
    reply = c.say("等额本金呢")  # the method asked about: the same figures, both methods shown
    assert "借 200,000.00 元，分 1 年（12 期）" in reply and "等额本金：首月" in reply, reply


def test_without_a_what_if_before_it_is_not_a_follow_up(chat):
    c = chat()
    c.say("你好")
    assert "借 " not in c.say("那分24期呢")
