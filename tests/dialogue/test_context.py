"""Understanding the customer in context (issue 15, items 3, 4, 5, 7 and the binding wording
of 8): "my money" versus "how to", offers the customer can accept, a request that survives
the binding detour, a lost card treated as urgent, emoji and stickers as small talk."""
import pytest

from tests.dialogue.conftest import ZHANG

BALANCE = "52,380.50 元"
HOW_TO_BALANCE = "您可绑定身份后直接问我"  # the FAQ answer to "怎么查询账户余额？"
PREAMBLE = "为了保护您的账户安全"


def bind_detour(c, who=ZHANG) -> str:
    """Answer the binding questions of a detour; returns the reply to the code."""
    assert "身份证" in c.say(who["name"])
    assert "验证码已发送" in c.say(who["id"])
    return c.say(c.code(who["phone"]))


# --- item 3: my money versus how to ---------------------------------------------------------

@pytest.mark.parametrize("text", ["余额多少", "餘額多少", "我卡里还有多少钱", "那我现在余额多少",
                                  "卡里还剩多少钱？", "余额"])
def test_a_bound_customer_asking_about_their_money_gets_it(chat, text):
    c = chat()
    c.bind()
    reply = c.say(text)
    assert BALANCE in reply and HOW_TO_BALANCE not in reply


def test_my_remaining_credit_limit_is_a_balance_question(chat):
    c = chat()
    c.bind()
    reply = c.say("我的额度还有多少")
    assert "可用额度" in reply and "**** 5678" in reply


def test_an_unbound_customer_asking_about_their_money_binds_first_then_gets_it(chat):
    c = chat()
    reply = c.say("我卡里还有多少钱")
    assert "需要先绑定" in reply and HOW_TO_BALANCE not in reply
    assert BALANCE in bind_detour(c)


@pytest.mark.parametrize("text, answer", [("怎么查余额", HOW_TO_BALANCE), ("余额在哪里看", HOW_TO_BALANCE),
                                          ("挂失要收费吗", "工本费")])
def test_a_real_how_to_question_is_still_answered_from_the_faq(chat, text, answer):
    c = chat()
    c.bind()
    reply = c.say(text)
    assert answer in reply and BALANCE not in reply
    assert c.flow is None


@pytest.mark.parametrize("accept", ["是的", "请告诉我", "好啊", "嗯", "可以", "帮我办", "好的呀～", "嗯嗯！"])
def test_accepting_the_bots_offer_does_what_it_offered(chat, accept):
    c = chat()
    c.bind()
    assert "如需我直接帮您查询余额" in c.say("怎么查余额")
    reply = c.say(accept)
    assert BALANCE in reply
    assert c.last["state"]["mode"] == "bot"  # "请告诉我" is not a complaint


def test_an_offer_accepted_by_an_unbound_customer_binds_first(chat):
    c = chat()
    c.say("可以查余额吗")
    reply = c.say("好的")
    assert "需要先绑定" in reply and c.flow == "account.bind"
    assert BALANCE in bind_detour(c)


@pytest.mark.parametrize("decline", ["不用了", "不需要", "先不用了吧"])
def test_declining_the_offer_is_acknowledged(chat, decline):
    c = chat()
    c.bind()
    c.say("怎么查余额")
    reply = c.say(decline)
    assert BALANCE not in reply and "好的" in reply and c.flow is None
    assert c.last["state"]["mode"] == "bot"


def test_an_unrelated_message_drops_the_offer(chat):
    c = chat()
    c.bind()
    c.say("怎么查余额")
    assert "回答不了" in c.say("今天天气怎么样")
    assert BALANCE not in c.say("好的") and c.flow is None


# --- item 4: a request survives the binding detour ----------------------------------------

def test_a_transfer_request_survives_the_binding_detour(chat):
    c = chat()
    reply = c.say("给李娜转两千五")
    assert "需要先绑定" in reply
    reply = bind_detour(c)
    assert "绑定成功" in reply and "转给谁" not in reply and "转多少" not in reply
    assert "李娜" in reply and "2,500.00 元" in reply and "确认" in reply  # straight to the read-back
    assert "验证码已发送" in c.say("确认")
    assert "转账成功" in c.say(c.code(ZHANG["phone"]))


def test_a_question_in_the_middle_of_the_detour_keeps_the_request(chat):
    c = chat()
    c.say("给李娜转500块")
    reply = c.say("转账要手续费吗")
    assert "手续费" in reply or "免费" in reply
    assert c.flow == "account.bind" and "姓名" in reply and PREAMBLE not in reply  # asked again, briefly
    reply = bind_detour(c)
    assert "李娜" in reply and "500.00 元" in reply


def test_a_transactions_query_survives_the_binding_detour(chat):
    c = chat()
    c.say("查一下上个月的明细")
    reply = bind_detour(c)
    assert "2026-10-01 至 2026-10-31" in reply


def test_the_card_of_a_loss_report_survives_the_binding_detour(chat):
    c = chat()
    c.say("尾号5678的信用卡丢了，帮我挂失")
    reply = bind_detour(c)
    assert "请确认挂失信用卡 **** 5678" in reply and "哪一张" not in reply


def test_cancelling_during_the_detour_forgets_the_request(chat):
    c = chat()
    c.say("给李娜转两千五")
    c.say("张伟")
    reply = c.say("算了")
    assert c.flow is None and "不办理" in reply
    c.bind()
    assert c.flow is None and "2,500.00" not in c.last["replies"][-1]["text"]


# --- item 8 (policy wording): the binding detour ------------------------------------------

def test_the_binding_for_a_loss_report_does_not_offer_to_abandon_itself(chat):
    c = chat()
    c.say("我要挂失")
    assert c.flow == "account.bind"
    reply = c.say("我的卡丢了，快点")
    assert "放弃" not in reply and "挂失" in reply and "姓名" in reply
    assert c.flow == "account.bind"
    assert "哪一张" in bind_detour(c)


def test_another_money_request_during_the_detour_is_done_after_binding(chat):
    c = chat()
    c.say("查余额")
    reply = c.say("还是帮我查一下上个月的明细吧")
    assert "放弃" not in reply and "姓名" in reply
    assert "2026-10-01 至 2026-10-31" in bind_detour(c)


def test_the_binding_preamble_is_not_repeated_after_an_interruption(chat):
    c = chat()
    first = c.say("查余额")
    assert first.count(PREAMBLE) == 1
    reply = c.say("挂失要收费吗")
    assert "工本费" in reply and "姓名" in reply and PREAMBLE not in reply
    reply = c.say("好的，谢谢！")
    assert "不客气" in reply and "姓名" in reply and PREAMBLE not in reply
    reply = c.say("🙏")
    assert "姓名" in reply and PREAMBLE not in reply
    assert BALANCE in bind_detour(c)


# --- item 5: a lost card is urgent ---------------------------------------------------------

@pytest.mark.parametrize("text", ["我卡丢了怎么办啊", "卡丢了怎么办", "我的卡不见了咋办", "卡被偷了怎么办",
                                  "我的卡遺失了怎麼辦", "银行卡掉了怎么弄", "卡找不到了怎么办呀"])
def test_a_lost_card_is_offered_a_loss_report_at_once(chat, text):
    c = chat()
    c.bind()
    reply = c.say(text)
    assert "卡片丢失请尽快挂失。需要我现在为您挂失吗？" in reply
    assert "回答不了" not in reply and "手机银行" not in reply
    reply = c.say("好的")
    assert "挂失哪一张" in reply or "请确认挂失储蓄卡 **** 1234" in reply  # "银行卡" is the debit card
    assert c.flow == "account.report_loss"


def test_a_lost_card_of_an_unbound_customer_binds_first_then_reports_the_loss(chat):
    c = chat()
    assert "需要我现在为您挂失吗" in c.say("我卡丢了怎么办啊")
    assert "需要先绑定" in c.say("嗯")
    assert "挂失哪一张" in bind_detour(c)


def test_declining_the_loss_report_is_acknowledged(chat):
    c = chat()
    c.bind()
    c.say("卡丢了怎么办")
    reply = c.say("不用了")
    assert "好的" in reply and c.flow is None


def test_a_fee_question_about_a_loss_report_stays_a_faq_answer(chat):
    c = chat()
    c.bind()
    reply = c.say("挂失要收费吗")
    assert "工本费" in reply and "需要我现在为您挂失吗" not in reply


def test_a_lost_card_during_a_transfer_offers_to_switch(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    reply = c.say("我卡丢了怎么办啊")
    assert "改为挂失" in reply
    assert "挂失哪一张" in c.say("是")


# --- item 7: emoji and stickers are small talk -----------------------------------------------

@pytest.mark.parametrize("sticker", ["😊", "👍", "🙏", "[微笑]", "。。。", "？？", "…", "👍👍", "[OK]"])
def test_a_sticker_after_a_misunderstanding_is_not_a_second_failure(chat, sticker):
    c = chat()
    assert "没太明白" in c.say("搞一下")  # one misunderstanding
    reply = c.say(sticker)
    assert c.last["state"]["mode"] == "bot" and "正在为您转接" not in reply and "没太明白" not in reply
    assert reply  # a short friendly reply


def test_a_sticker_inside_a_flow_re_asks_its_question(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    for sticker in ("🙏", "[微笑]", "？？", "😊"):  # never counted as a failed answer
        assert "转多少" in c.say(sticker)
    assert c.flow == "transfer.create"
    assert "请核对转账信息" in c.say("800")


@pytest.mark.parametrize("sticker", ["👍", "👌", "🆗", "[OK]", "[强]"])
def test_a_thumbs_up_at_a_confirmation_does_not_confirm_money(chat, sticker):
    c = chat()
    c.bind()
    assert "请核对转账信息" in c.say("给李娜转500")
    reply = c.say(sticker)
    assert "验证码已发送" not in reply and "“确认”" in reply
    assert c.sms_count(ZHANG["phone"]) == 1  # only the binding code
    assert "验证码已发送" in c.say("确认")


def test_a_sticker_at_an_offer_keeps_the_offer(chat):
    c = chat()
    c.bind()
    c.say("卡丢了怎么办")
    assert "挂失" in c.say("🙏")
    assert "挂失哪一张" in c.say("好")


# --- off-script phrasings --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["余额？", "我卡里仲有几多钱", "卡里头还有好多钱", "还剩几个钱"])
def test_terse_and_regional_balance_questions(chat, text):
    c = chat()
    c.bind()
    assert BALANCE in c.say(text)


def test_a_cantonese_lost_card_is_offered_a_loss_report(chat):
    c = chat()
    c.bind()
    assert "需要我现在为您挂失吗" in c.say("张卡跌咗点算")
    assert "挂失哪一张" in c.say("系啊")


def test_the_card_named_with_a_lost_card_question_is_carried_into_the_loss_report(chat):
    c = chat()
    c.bind()
    assert "需要我现在为您挂失吗" in c.say("我信用卡被偷了咋整")
    assert "请确认挂失信用卡 **** 5678" in c.say("好的，麻烦了")


def test_thanks_asks_if_anything_else_and_no_says_goodbye(chat):
    c = chat()
    c.bind()
    assert "还有其他需要吗" in c.say("谢谢")
    assert "再见" in c.say("没有了")
    assert "还有其他需要吗" in c.say("谢谢")
    assert "需要办理什么" in c.say("有的")


def test_the_card_named_when_switching_to_a_loss_report_is_kept(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    assert "改为挂失" in c.say("尾号5678的信用卡丢了")
    assert "改为挂失" in c.say("😊")  # the question stays open
    assert "请确认挂失信用卡 **** 5678" in c.say("好的")


def test_switching_to_other_business_starts_it(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    assert "改为购买理财" in c.say("我想买理财")
    reply = c.say("是的")  # was a LookupError while the business had no flow
    assert c.flow == "wealth.buy" and "请问购买哪款产品" in reply, reply


def test_a_complaint_is_told_it_waits_in_the_queue_not_that_it_was_put_through(chat):
    c = chat()
    reply = c.say("你们这什么破系统，转了三次都失败，我要投诉")
    assert "非常抱歉" in reply and "排队等候人工客服" in reply and "第 1 位" in reply
    assert "转接人工客服" not in reply and reply.count("抱歉") == 1
    assert c.last["state"]["mode"] == "queued"


def test_a_sticker_after_thanks_is_not_thanked_again(chat):
    """A trial: 谢谢 → "😭😭" → "不客气，很高兴为您服务…" again."""
    c = chat()
    c.say("谢谢")
    reply = c.say("😭😭")
    assert "不客气" not in reply and "还有其他需要吗" in reply
    assert "再见" in c.say("没有了")  # the offer is still the one answered


def test_tell_me_without_an_offer_is_not_a_complaint(chat):
    """A trial: "请告诉我" after a menu, after "好" and at the binding's name question was
    queued as a complaint."""
    c = chat()
    reply = c.say("请告诉我")
    assert c.last["state"]["mode"] == "bot" and "排队" not in reply and "请问您想了解或办理什么" in reply
    c.say("绑定账户")
    reply = c.say("请告诉我")
    assert c.last["state"]["mode"] == "bot" and "姓名" in reply and "没能识别" not in reply
    assert "验证码已发送" in c.say("王芳") + c.say("310115198806152046")


def test_naming_the_business_offered_as_a_switch_is_a_yes(chat):
    """"消费贷" to "要先放弃，改为申请贷款吗？" starts the loan; it is not an installment item."""
    c = chat()
    c.bind()
    c.say("我要办分期")
    assert "改为申请贷款" in c.say("我想再贷款")
    reply = c.say("消费贷")
    assert c.flow == "loan.apply" and "分期" not in reply, reply


def test_going_on_with_the_current_business_declines_a_switch(chat):
    """"好，继续分期" to "要先放弃，改为查询余额吗？": the 好 is for going on, not for switching."""
    c = chat()
    c.bind()
    c.say("我要办分期")
    assert "要先放弃" in c.say("查一下余额")
    reply = c.say("好，继续分期")
    assert c.flow == "card.installment" and "可用余额" not in reply, reply
