"""account.report_loss / cancel_loss: choose, confirm, code, frozen at once, next steps."""


def test_report_loss_with_interruption_then_freeze_and_unfreeze(chat):
    c = chat()
    c.bind()
    reply = c.say("我要挂失")
    assert "储蓄卡 **** 1234" in reply and "信用卡 **** 5678" in reply
    reply = c.say("挂失要收费吗")  # a knowledge question in the middle
    assert "挂失哪一张" in reply
    assert c.flow == "account.report_loss"
    reply = c.say("储蓄卡")
    assert "请确认挂失储蓄卡 **** 1234" in reply
    assert "验证码已发送" in c.say("确认")
    reply = c.say(c.code("13800138000"))
    assert "挂失成功" in reply and "补办" in reply
    assert "已挂失冻结" in c.say("查余额")
    transfer = c.say("给李娜转100")
    assert "冻结" in transfer or "挂失" in transfer
    c.say("取消")
    assert "请确认解除挂失储蓄卡 **** 1234" in c.say("卡找到了，帮我解挂")
    c.say("确认")
    assert "恢复正常" in c.say(c.code("13800138000"))


def test_cancel_mid_flow(chat):
    c = chat()
    c.bind()
    c.say("我要挂失")
    reply = c.say("算了，先不挂了")
    assert "先不办理" in reply and "尽快挂失" in reply
    assert c.flow is None
    assert "可用余额 52,380.50 元" in c.say("余额")
