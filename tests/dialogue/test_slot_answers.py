"""Issue 15 item 6 (a name must look like a name) and item 8's transfer wording."""
import pytest

ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}


@pytest.mark.parametrize("answer", ["mortgage rate", "房贷利率"])
def test_a_knowledge_question_at_the_name_step_is_answered_not_taken_as_a_name(chat, answer):
    c = chat()
    c.say("绑定账户")
    reply = c.say(answer)
    assert "身份证号码" not in reply  # not accepted as the name
    assert "利率" in reply and "姓名" in reply  # answered, then the name is asked again
    assert c.flow == "account.bind"
    assert "身份证号码" in c.say("张伟")


@pytest.mark.parametrize("answer", ["我叫啥", "银行卡号", "好的呢", "你是谁啊"])
def test_what_is_not_a_name_is_asked_again_politely(chat, answer):
    c = chat()
    c.say("绑定账户")
    reply = c.say(answer)
    assert "身份证号码" not in reply and "姓名" in reply, reply
    assert c.flow == "account.bind"


@pytest.mark.parametrize("name", ["张伟", "欧阳娜娜", "我叫王芳", "买买提·艾力", "阿依古丽•吐尔逊"])
def test_real_names_are_taken(chat, name):
    c = chat()
    c.say("绑定账户")
    assert "18 位身份证号码" in c.say(name)


def test_a_payee_name_is_a_name(chat):
    c = chat()
    c.bind()
    reply = c.say("转500到6222021000584321")
    assert "姓名" in reply
    reply = c.say("房贷利率")
    assert "请核对" not in reply and "姓名" in reply
    reply = c.say("王芳")
    assert "收款人：王芳（账号 **** 4321）" in reply


def test_the_limit_message_is_punctuated_and_asks_once(chat):
    c = chat()
    c.bind()
    reply = c.say("给李娜转6万")
    assert reply == "单笔转账限额为 50,000.00 元，请重新输入金额。"
    assert "请核对转账信息" in c.say("5万")


def test_the_receipt_names_payee_amount_reference_and_balance(chat):
    c = chat()
    c.bind()
    c.say("给李娜转两千五")
    c.say("确认")
    reply = c.say(c.code(ZHANG["phone"]))
    assert reply.startswith("转账成功：已向李娜（账号 **** 8888）转出 2,500.00 元。")
    assert "流水号 T" in reply and "付款卡当前余额 49,880.50 元" in reply
    assert reply.count("2,500.00") == 1 and reply.count("李娜") == 1
