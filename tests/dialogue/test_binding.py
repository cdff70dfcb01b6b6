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
    assert "验证码已发送" in reply and "8000" not in reply  # the phone on file is not revealed
    reply = c.say(c.code(ZHANG["phone"]))
    assert "绑定成功" in reply
    assert "**** 1234" in reply and "52,380.50 元" in reply  # the balance it asked for first
    assert c.flow is None


def test_name_and_id_in_one_message(chat):
    c = chat()
    c.say("绑定")
    reply = c.say(f"我叫王芳，身份证{WANG['id']}")
    assert "验证码已发送" in reply and c.sms_count(WANG["phone"]) == 1


def test_an_id_number_typed_with_spaces_binds(chat):
    """A trial customer typed "310115 19880615 2046" and was told it was not understood."""
    c = chat()
    c.say("绑定")
    c.say("王芳")
    spaced = f"{WANG['id'][:6]} {WANG['id'][6:14]} {WANG['id'][14:]}"
    assert "验证码已发送" in c.say(spaced) and c.sms_count(WANG["phone"]) == 1


def test_wrong_identity_is_not_told_apart_and_sends_no_code(chat):
    right, wrong = chat(), chat()
    right.say("绑定账户")
    right.say("王芳")
    right_reply = right.say(WANG["id"])
    wrong.say("绑定账户")
    wrong.say("王芳")
    wrong_reply = wrong.say(ZHANG["id"])  # someone else's ID number
    assert wrong_reply == right_reply and "验证码已发送" in wrong_reply
    assert c_sms(wrong, ZHANG) == 0 and c_sms(wrong, WANG) == 1  # only the right one's code
    assert wrong.say("123456") == "验证码不正确，您还可以再试 4 次。"
    assert right.say("123456" if right.code(WANG["phone"]) != "123456" else "654321") == "验证码不正确，您还可以再试 4 次。"


def c_sms(c, who) -> int:
    return c.sms_count(who["phone"])


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
