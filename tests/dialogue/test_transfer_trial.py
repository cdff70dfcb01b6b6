"""transfer.create: what a blind customer trial found (corrections, cancelling, a frozen card)."""
from tests.dialogue.conftest import ZHANG

LINA = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


def test_a_correction_inside_the_first_message_wins(chat):
    c = chat()
    c.bind()
    reply = c.say("给李娜转2500，哦不对是250")
    assert "金额：250.00 元（贰佰伍拾元整）" in reply and "2,500.00" not in reply
    c.say("取消")
    reply = c.say("给李娜转250元，不对，2500元")
    assert "金额：2,500.00 元（贰仟伍佰元整）" in reply and "250.00 元（" not in reply.replace("2,500.00", "")
    c.say("取消")
    reply = c.say("给王芳转300，不对，给李娜")  # the payee after the correction wins too
    assert "收款人：李娜（账号 **** 8888）" in reply and "金额：300.00 元" in reply


def test_two_amounts_without_a_correction_are_asked_about(chat):
    c = chat()
    c.bind()
    assert c.say("给李娜转500转1000") == "请问转账金额是 500.00 元还是 1,000.00 元？"
    reply = c.say("1000")
    assert "金额：1,000.00 元（壹仟元整）" in reply
    c.say("取消")
    assert "请问转给谁" in c.say("转500转1000")  # the payee first, then which amount
    assert c.say("李娜") == "请问转账金额是 500.00 元还是 1,000.00 元？"
    assert "金额：500.00 元" in c.say("第一个")


def test_an_amount_change_says_nothing_about_cards(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("改成3000")
    assert reply.startswith("已修改金额，请核对转账信息") and "金额：3,000.00 元" in reply
    assert "付款卡未修改" not in reply and "尾号3000" not in reply
    reply = c.say("改成尾号3000的卡")  # a card named: its refusal is said, the amount stays
    assert "付款卡未修改：您名下没有尾号3000的卡" in reply and "金额：3,000.00 元" in reply


def test_no_thanks_at_the_confirmation_cancels(chat):
    c = chat()
    c.bind()
    for words in ("不用了", "不需要了", "不转了", "不用了，谢谢"):
        assert "请核对转账信息" in c.say("给李娜转2500")
        reply = c.say(words)
        assert "转账先不办理了" in reply and "请问要修改" not in reply, words
        assert c.flow is None
    assert "可用余额 52,380.50 元" in c.say("余额")


def test_no_thanks_still_declines_the_bots_offers(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    assert "要先放弃" in c.say("我的卡丢了")  # a switch offered inside the transfer
    assert "我们继续" in c.say("不用了")
    assert c.flow == "transfer.create"
    c.say("取消")
    assert "还有其他需要吗" in c.say("谢谢")
    assert c.say("不用了") == "感谢您的咨询，祝您生活愉快，再见！"  # the offer declined, nothing else


def test_a_new_payee_with_name_and_account_in_one_message(chat):
    c = chat()
    c.bind()
    c.say("给李娜转2500")
    reply = c.say("不对，是王芳，卡号6222021000584321")
    assert "姓名" not in reply
    assert reply.startswith("已修改收款人，请核对转账信息")
    assert "收款人：王芳（账号 **** 4321）" in reply and "金额：2,500.00 元" in reply
    assert "验证码已发送" in c.say("确认")
    assert "转账成功" in c.say(c.code(ZHANG["phone"]))


def test_paying_from_a_frozen_only_card_ends_the_transfer(chat):
    c = chat()
    c.bind(LINA)
    c.say("我要挂失")
    c.say("确认")
    assert "挂失成功" in c.say(c.code(LINA["phone"]))
    reply = c.say("给王芳转100")
    assert "尾号8888的卡已挂失或冻结" in reply and "解挂" in reply
    assert "卡号" not in reply and "请提供" not in reply
    assert c.flow is None
    assert c.last["replies"][-1]["text"] == reply  # one reply, no question after it
