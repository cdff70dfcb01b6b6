"""account.bind and the binding gate in front of a customer's own money."""
ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
WANG = {"name": "王芳", "id": "310115198806152046", "phone": "13900139000"}


def test_unbound_user_asking_for_balance_binds_first_then_gets_it(chat):
    c = chat()
    reply = c.say("查一下我的余额")
    assert "需要先绑定" in reply and "姓名" in reply
    assert c.flow == "account.bind"
    assert "身份证" in c.say("张伟")
    reply = c.say(ZHANG["id"])
    assert "138****8000" in reply and "13800138000" not in reply
    reply = c.say(c.code(ZHANG["phone"]))
    assert "绑定成功" in reply
    assert "**** 1234" in reply and "52,380.50 元" in reply  # the balance it asked for first
    assert c.flow is None


def test_name_and_id_in_one_message(chat):
    c = chat()
    c.say("绑定")
    reply = c.say(f"我叫王芳，身份证{WANG['id']}")
    assert "139****9000" in reply


def test_wrong_identity_is_not_told_apart_and_sends_no_code(chat):
    c = chat()
    c.say("绑定账户")
    c.say("王芳")
    reply = c.say(ZHANG["id"])  # someone else's ID number
    assert "核验未通过" in reply
    assert c.sms_count(ZHANG["phone"]) == 0 and c.sms_count(WANG["phone"]) == 0


def test_wrong_checksum_id_is_reasked(chat):
    c = chat()
    c.say("绑定账户")
    c.say("张伟")
    reply = c.say("110105199003071238")
    assert "身份证" in reply and "校验未通过" in reply
    assert c.flow == "account.bind"


def test_already_bound_and_unbind(chat):
    c = chat()
    c.bind()
    reply = c.say("绑定账户")
    assert "已绑定" in reply and "1101**********1239" in reply
    assert "已解除绑定" in c.say("解绑")
    assert "需要先绑定" in c.say("查余额")
