"""card.limit raise requests through POST /v1/chat; querying the limit stays the balance answer."""
from datetime import timedelta

from sqlalchemy import select, update

from chatbot.storage.models import Account, Card, CreditTerms


def test_limit_query_is_the_balance_answer(chat):
    c = chat()
    c.bind()
    reply = c.say("信用卡额度还有多少")
    assert "可用额度" in reply and "总额度 30,000.00 元" in reply and c.flow is None


def test_temporary_raise_approved_and_counts_in_available_credit(chat):
    c = chat()
    c.bind()
    reply = c.say("申请临时额度")
    assert "最高可申请至 45,000.00 元" in reply
    reply = c.say("4万")
    assert "临时额度调整为 40,000.00 元（有效 30 天）" in reply
    reply = c.say("确认")
    assert "申请已通过" in reply and "有效期至 2026-12-23" in reply
    assert "总额度 40,000.00 元" in c.say("我的信用卡额度")


def test_permanent_raise_over_the_maximum_then_corrected_and_once_per_six_months(chat):
    c = chat()
    c.bind()
    reply = c.say("我想提高固定额度到5万")
    assert "最高可申请至 36,000.00 元" in reply and c.flow == "card.limit"
    reply = c.say("3.6万")
    assert "固定额度调整为 36,000.00 元" in reply
    assert "申请已通过" in c.say("确认")
    reply = c.say("提额")  # a second permanent raise today is refused, a temporary one offered
    assert "请问申请" in reply
    reply = c.say("固定")
    assert "每 6 个月可申请一次" in reply and "临时额度" in reply


def test_increment_wording_and_kind_asked(chat):
    c = chat()
    c.bind()
    assert "请问申请" in c.say("额度太低了能调高吗")
    assert "希望调整到多少" in c.say("固定")
    assert "35,000.00 元" in c.say("提高5000")
    assert "先不调整额度" in c.say("算了")


def test_overdue_and_young_cards_are_refused_with_the_reason(chat, database, clock):
    with database.write() as db:
        account_id = db.scalar(select(Card.account_id).where(Card.tail == "5678"))
        db.execute(update(CreditTerms).where(CreditTerms.account_id == account_id).values(overdue_count=1))
    c = chat()
    c.bind()
    reply = c.say("提额")
    assert "不能调整额度" in reply and "逾期" in reply and c.flow is None
    with database.write() as db:
        db.execute(update(CreditTerms).where(CreditTerms.account_id == account_id).values(overdue_count=0))
        db.execute(update(Account).where(Account.id == account_id).values(opened_at=clock.now() - timedelta(days=60)))
    assert "开卡未满" in c.say("提额")


def test_a_wanted_limit_at_the_kind_question_is_taken_and_answered(chat):
    c = chat()
    c.bind()
    assert "请问申请" in c.say("提额")
    reply = c.say("我想把额度提到5万")  # above both maximums: said at once, the kind asked again
    assert "50,000.00 元" in reply and "超过" in reply, reply
    assert "临时额度最高 45,000.00 元" in reply and "固定额度最高 36,000.00 元" in reply
    assert "请问申请" in reply and c.flow == "card.limit"
    assert "希望调整到多少" in c.say("临时")  # the refused amount is not kept
    reply = c.say("我想把额度提到4万")  # a new wish once the kind is known: read back
    assert "临时额度调整为 40,000.00 元（有效 30 天）" in reply


def test_a_wanted_limit_only_one_kind_can_grant(chat):
    c = chat()
    c.bind()
    c.say("提额")
    reply = c.say("额度提到4万")  # only the temporary limit can grant it: offered, read back at once
    assert "40,000.00 元" in reply and "固定额度本次最高可申请至 36,000.00 元" in reply
    assert "可以为您申请临时额度 40,000.00 元（30 天）" in reply and "请问申请" not in reply
    assert "临时额度调整为 40,000.00 元" in reply
    assert "申请已通过" in c.say("确认")


def test_kind_and_wanted_limit_in_one_answer(chat):
    c = chat()
    c.bind()
    c.say("提额")
    assert "临时额度调整为 40,000.00 元（有效 30 天）" in c.say("临时的，提到4万")


def test_asking_the_limit_inside_the_raise_answers_it_and_goes_on(chat):
    c = chat()
    c.bind()
    c.say("提额")
    reply = c.say("我的信用卡额度是多少")
    assert "要先放弃" not in reply and "总额度 30,000.00 元" in reply and "可用额度" in reply, reply
    assert "请问申请" in reply and c.flow == "card.limit"
    c.say("临时")
    reply = c.say("临时额度还有多少")  # a question, not the answer "临时"
    assert "可用额度" in reply and "希望调整到多少" in reply
    c.say("4万")
    reply = c.say("我的额度还有多少")  # at the read-back: answered, the summary again
    assert "可用额度" in reply and "临时额度调整为 40,000.00 元" in reply
    assert "申请已通过" in c.say("确认")


def test_only_one_kind_can_grant_the_wanted_limit_so_that_is_offered_and_a_yes_goes_on(chat):
    c = chat()
    c.bind()
    c.say("提额")
    reply = c.say("提到四万")  # above the permanent 36,000, within the temporary 45,000
    assert "可以为您申请临时额度 40,000.00 元（30 天）" in reply and "回复“临时”或“固定”" not in reply, reply
    reply = c.say("行")
    assert "申请已通过" in reply and "临时额度已调整为 40,000.00 元" in reply, reply


def test_the_raise_asked_again_in_cantonese_or_traditional_goes_on(chat):
    c = chat()
    c.bind()
    c.say("提额")
    reply = c.say("唔該，我想提額")
    assert "没能识别" not in reply and "请问申请" in reply and c.flow == "card.limit", reply
    reply = c.say("點樣提高額度？")
    assert "没能识别" not in reply and "请问申请" in reply and c.flow == "card.limit", reply
    reply = c.say("我想提额")  # a third time: still not a failed answer
    assert "没能继续办理" not in reply and c.flow == "card.limit", reply
    assert "希望调整到多少" in c.say("临时")
