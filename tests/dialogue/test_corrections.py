"""Issue 15 item 1: a correction inside a flow updates the detail and reads the whole summary back.

Whatever the phrasing (改成3000, 不对，是…, 换成王芳, 用尾号5678的卡, a bare number at the read-back,
Traditional characters, full-width digits, emoji), the bot never sends a code for, or confirms, an old
value; a code sent before the correction is void; a refused value keeps the old one and says why.
"""
import pytest

ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
WANG = {"name": "王芳", "id": "310115198806152046", "phone": "13900139000"}


def _sms(c, phone):
    return c.client.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"]


def _read_back(reply, amount, capital=None, payee="李娜（账号 **** 8888）"):
    assert "请核对转账信息" in reply, reply
    assert f"收款人：{payee}" in reply and "付款卡：储蓄卡 **** 1234" in reply, reply
    assert f"金额：{amount}" in reply, reply
    if capital:
        assert capital in reply, reply


@pytest.mark.parametrize("correction", [
    "改成3000",  # parses as news.subscribe with no amount entity
    "改為三千",  # Traditional
    "改成３０００",  # full-width digits
    "不对，是3000",
    "不對，應該是3000元",
    "金额错了，是3000",
    "金额改成3k",
    "改成3000👍",
    "3000",  # a bare number at the read-back is the amount
    "不是2500，是3000",
])
def test_an_amount_correction_is_read_back_in_full_and_coded_for_the_new_amount(chat, correction):
    c = chat()
    c.bind()
    _read_back(c.say("给李娜转2500"), "2,500.00 元")
    reply = c.say(correction)
    _read_back(reply, "3,000.00 元", "叁仟元整")
    assert "2,500.00" not in reply
    assert "验证码已发送" in c.say("确认")
    assert "3,000.00 元" in _sms(c, ZHANG["phone"])[0]["text"]
    reply = c.say(c.code(ZHANG["phone"]))
    assert "转账成功" in reply and "3,000.00 元" in reply and "49,380.50 元" in reply


def test_two_thousand_five_in_words(chat):
    c = chat()
    c.bind()
    c.say("给李娜转3000")
    _read_back(c.say("改成两千五"), "2,500.00 元", "贰仟伍佰元整")


def test_a_correction_after_the_code_was_sent_retires_it_and_reads_back(chat, clock):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    assert "验证码已发送" in c.say("确认")
    old_code = c.code(ZHANG["phone"])
    _read_back(c.say("改成3000"), "3,000.00 元", "叁仟元整")
    reply = c.say(old_code)  # the code sent for 2,500.00 confirms nothing now
    assert "转账成功" not in reply
    clock.advance(seconds=61)
    c.say("确认")
    assert "3,000.00 元" in _sms(c, ZHANG["phone"])[0]["text"]
    reply = c.say(c.code(ZHANG["phone"]))
    assert "转账成功" in reply and "49,380.50 元" in reply
    assert "可用余额 49,380.50 元" in c.say("余额")


def test_a_refused_correction_keeps_the_old_value_and_says_why(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("改成6万")
    assert "金额未修改" in reply and "单笔转账限额为 50,000.00 元" in reply
    _read_back(reply, "2,500.00 元", "贰仟伍佰元整")
    assert "验证码已发送" in c.say("确认")
    assert "2,500.00 元" in _sms(c, ZHANG["phone"])[0]["text"]


def test_changing_the_payee_asks_for_the_new_account_and_keeps_the_amount(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("换成王芳")
    assert "已修改收款人" in reply and "没有王芳" in reply and "卡号" in reply
    reply = c.say("6222021000584321")
    _read_back(reply, "2,500.00 元", payee="王芳（账号 **** 4321）")


def test_the_payee_named_in_the_correction(chat):
    c = chat()
    c.bind()
    c.say("给王芳转500，卡号6222021000584321")
    reply = c.say("收款人改成李娜")
    _read_back(reply, "500.00 元")
    assert "王芳" not in reply


def test_a_card_that_cannot_pay_is_refused_and_the_old_card_stays(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("用尾号5678的卡")
    assert "付款卡未修改" in reply and "不是储蓄卡" in reply
    _read_back(reply, "2,500.00 元")


def test_an_unclear_change_is_asked_about_never_confirmed(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    assert "请问要修改收款人、付款卡还是金额" in c.say("我要改一下")
    assert "转多少" in c.say("金额")
    _read_back(c.say("3000"), "3,000.00 元")
    assert "请问要修改收款人、付款卡还是金额" in c.say("不对")
    _read_back(c.say("两千"), "2,000.00 元")


def test_a_question_at_the_read_back_is_not_a_correction(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("转错了怎么办")
    assert "已修改" not in reply and "请问要修改" not in reply
    assert "验证码已发送" in c.say("确认")
    assert "2,500.00 元" in _sms(c, ZHANG["phone"])[0]["text"]


def test_a_correction_in_the_cooling_off_starts_again_from_the_read_back(chat):
    c = chat()
    c.bind()
    c.say("给王芳转8000，卡号6222021000584321")
    assert "冷静" in c.say("确认")
    reply = c.say("改成3000")
    _read_back(reply, "3,000.00 元", payee="王芳（账号 **** 4321）")
    assert "验证码已发送" in c.say("确认")  # below the large-amount line: no cooling-off


def test_the_name_corrected_mid_binding(chat):
    c = chat()
    c.say("绑定账户")
    c.say("张伟")
    reply = c.say("不对，是王芳")
    assert "已修改姓名" in reply and "身份证" in reply
    assert "验证码已发送" in c.say(WANG["id"])
    assert "王芳" in c.say(c.code(WANG["phone"]))
    assert "8,000.00 元" in c.say("余额")


def test_a_new_id_number_after_the_binding_code_was_sent(chat, clock):
    c = chat()
    c.say("绑定账户")
    c.say("王芳")
    assert "验证码已发送" in c.say(ZHANG["id"])  # not 王芳's: a decoy code nobody receives
    reply = c.say(f"不对，身份证号是{WANG['id']}")
    assert "已修改身份证号码" in reply and "验证码已发送" in reply
    assert "绑定成功" in c.say(c.code(WANG["phone"]))


def test_another_card_in_the_loss_report_even_after_the_code(chat, clock):
    c = chat()
    c.bind()
    c.say("我要挂失")
    assert "请确认挂失储蓄卡 **** 1234" in c.say("储蓄卡")
    assert "请确认挂失信用卡 **** 5678" in c.say("不对，是信用卡")
    assert "验证码已发送" in c.say("确认")
    old_code = c.code(ZHANG["phone"])
    reply = c.say("换成尾号1234的卡")
    assert "请确认挂失储蓄卡 **** 1234" in reply
    assert "挂失成功" not in c.say(old_code)
    clock.advance(seconds=61)
    assert "验证码已发送" in c.say("确认")
    assert "储蓄卡 **** 1234 已冻结" in c.say(c.code(ZHANG["phone"]))


@pytest.mark.parametrize("stale_code", ["500000", "000000", "250000"])
def test_a_stale_code_at_a_read_back_is_not_other_business(chat, stale_code):
    """A round code typed at a read-back once read as a transfer of 500,000 and offered to drop
    the loss report; it is an answer to the flow, never a switch."""
    c = chat()
    c.bind()
    c.say("我要挂失")
    c.say("储蓄卡")
    reply = c.say(stale_code)
    assert "改为转账" not in reply and "确认" in reply
    assert "验证码已发送" in c.say("确认")


@pytest.mark.parametrize("answer", ["确认无误", "是不是要手续费"])
def test_no_correction_is_read_where_there_is_none(chat, answer):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say(answer)
    assert "请问要修改" not in reply and "已修改" not in reply and "未修改" not in reply


def test_the_paying_card_asked_for_when_the_customer_wants_to_change_it(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    assert "哪张储蓄卡" in c.say("付款卡改一下")
    reply = c.say("1234")  # a card tail here, not an amount
    _read_back(reply, "2,500.00 元")


def test_a_new_account_number_is_a_payee_not_an_amount(chat):
    c = chat()
    c.bind()
    c.say("给李娜转500")
    reply = c.say("换成6222021000584321")
    assert "未修改" not in reply and "姓名" in reply
    _read_back(c.say("王芳"), "500.00 元", payee="王芳（账号 **** 4321）")
    reply = c.say("改成五百块")  # the same amount: read back, no payee called 五百块
    _read_back(reply, "500.00 元", payee="王芳（账号 **** 4321）")
    assert "已修改" not in reply


def test_a_lone_no_before_the_new_amount_changes_it(chat):
    """"不是，还500" at the repayment read-back: the amount is 500 (it was asked which detail)."""
    c = chat()
    c.bind()
    assert "300.00 元" in c.say("信用卡还300")
    reply = c.say("不是，还500")
    assert "500.00 元" in reply and "还是" not in reply, reply


def test_yes_to_which_detail_to_change_is_never_a_confirmation(chat):
    c = chat()
    c.bind()
    c.say("信用卡还300")
    reply = c.say("不对")
    assert "付款卡还是金额" in reply or "请问要修改" in reply, reply
    reply = c.say("是的")
    assert "还款成功" not in reply and "直接告诉我要修改的内容" in reply, reply
    assert "还款成功" in c.say("确认")  # said again, plainly: now it is one
