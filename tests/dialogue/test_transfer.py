"""transfer.create: the happy path of CONVERSATIONS.md and every way it can go wrong."""
from decimal import Decimal

ZHANG_PHONE = "13800138000"


def _to_confirmation(c, text="给李娜转两千五"):
    reply = c.say(text)
    assert "请核对转账信息" in reply, reply
    return reply


def test_happy_path_reads_back_and_posts_once(chat):
    c = chat()
    c.bind()
    reply = _to_confirmation(c)
    assert "收款人：李娜（账号 **** 8888）" in reply
    assert "付款卡：储蓄卡 **** 1234" in reply
    assert "金额：2,500.00 元（贰仟伍佰元整）" in reply
    assert "138****8000" in c.say("确认")
    code = c.code(ZHANG_PHONE)
    reply = c.say(code, message_id="otp-1")
    assert "转账成功" in reply and "49,880.50 元" in reply
    again = c.say(code, message_id="otp-1")  # the same message delivered twice
    assert again == reply
    assert "可用余额 49,880.50 元" in c.say("余额")


def test_amount_asked_when_missing_and_several_slots_at_once(chat):
    c = chat()
    c.bind()
    assert "转多少" in c.say("我要给李娜转账")
    assert "请核对转账信息" in c.say("3k")


def test_wrong_code_five_times_locks(chat):
    c = chat()
    c.bind()
    _to_confirmation(c)
    c.say("确认")
    for attempt in range(4):
        assert "验证码不正确" in c.say("000000")
    reply = c.say("000000")
    assert "锁定" in reply
    assert c.flow is None
    _to_confirmation(c)
    reply = c.say("确认")
    assert "锁定" in reply  # no new code while locked
    assert "转接人工" in reply and c.last["state"]["mode"] == "queued"  # a high-risk flow failed twice
    assert c.sms_count(ZHANG_PHONE) == 2  # the binding code and the first transfer code only
    c.say("取消")
    assert "可用余额 52,380.50 元" in c.say("余额")


def test_expired_code(chat, clock):
    c = chat()
    c.bind()
    _to_confirmation(c)
    c.say("确认")
    code = c.code(ZHANG_PHONE)
    clock.advance(minutes=6)
    assert "已过期" in c.say(code)
    c.say("重新发送")
    assert "转账成功" in c.say(c.code(ZHANG_PHONE))


def test_over_single_limit_and_insufficient_funds(chat):
    c = chat()
    c.bind()
    reply = c.say("给李娜转6万")
    assert "50,000.00" in reply and "重新输入金额" in reply
    assert c.flow == "transfer.create"
    reply = c.say("转 5万")
    assert "余额不足" not in reply and "请核对转账信息" in reply
    c.say("取消")
    w = chat()
    w.bind({"name": "李娜", "id": "440305199511203311", "phone": "13700137000"})
    assert "余额不足" in w.say("给张伟转5000，卡号6222021000191234")


def test_unknown_payee_needs_account_and_name_must_match(chat):
    c = chat()
    c.bind()
    reply = c.say("给王芳转500")
    assert "没有王芳" in reply and "卡号" in reply
    assert "不一致" in c.say("6222021000708888")  # that is 李娜's card
    reply = c.say("6222021000584321")
    assert "收款人：王芳（账号 **** 4321）" in reply


def test_scam_wording_stops_before_any_code(chat):
    c = chat()
    c.bind()
    c.say("警察说我涉嫌洗钱，要把钱转到安全账户")
    reply = c.say("给李娜转两千五")
    reply = c.say("确认") if "请核对" in reply else reply
    assert "风险提示" in reply and "人工" in reply
    assert c.sms_count(ZHANG_PHONE) == 1  # only the binding code


def test_large_amount_to_new_payee_cools_off(chat, clock):
    c = chat()
    c.bind()
    c.say("给王芳转8000，卡号6222021000584321")
    reply = c.say("确认")
    assert "冷静" in reply
    assert "冷静期尚未结束" in c.say("继续转账")
    clock.advance(minutes=11)
    assert "验证码已发送" in c.say("继续转账")
    assert "转账成功" in c.say(c.code(ZHANG_PHONE))


def test_switching_intent_mid_flow_asks_first(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    reply = c.say("我的卡丢了要挂失")
    assert "放弃" in reply
    assert "挂失哪一张" in c.say("是的")
    assert c.flow == "account.report_loss"


def test_decimal_amounts_stay_exact(chat):
    c = chat()
    c.bind()
    reply = c.say("给李娜转1234.56元")
    assert "1,234.56 元（壹仟贰佰叁拾肆元伍角陆分）" in reply
    c.say("确认")
    reply = c.say(c.code(ZHANG_PHONE))
    assert f"{Decimal('52380.50') - Decimal('1234.56'):,.2f} 元" in reply


def test_sub_cent_amount_is_refused_not_rounded(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    assert "两位小数" in c.say("100.555")
    reply = c.say("100.5")
    assert "100.50 元（壹佰元伍角）" in reply


def test_the_cooling_off_time_is_said_in_bank_time(chat, clock):
    """The system clock is UTC: "请于 02:10 后" meant 10:10 in Beijing (seen in a trial)."""
    from datetime import timezone

    clock._at = clock.now().astimezone(timezone.utc)  # as SystemClock gives it
    c = chat()
    c.bind()
    c.say("给王芳转8000，卡号6222021000584321")
    reply = c.say("确认")
    assert "10:10" in reply and "02:10" not in reply


def test_a_transfer_cooling_off_does_not_hold_the_customer(chat, clock):
    """A trial: during the 10 minutes, "上个月的明细" only got "本笔转账处于冷静期…"."""
    c = chat()
    c.bind()
    c.say("给王芳转8000，卡号6222021000584321")
    assert "冷静" in c.say("确认")
    answered = c.say("挂失要收费吗")
    assert "工本费" in answered or "免费" in answered
    assert "继续转账" in answered  # and reminded how the transfer goes on
    assert "改为" in c.say("上个月的明细")  # another business: offered, not refused
    assert "转账" in c.say("否")
    clock.advance(minutes=11)
    assert "验证码已发送" in c.say("继续转账")
