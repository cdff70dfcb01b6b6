"""wealth.risk_assessment through POST /v1/chat: questions, corrections, cancel, result kept."""
from datetime import timedelta

from sqlalchemy import func, select

from chatbot.storage.models import EvidenceRecord, RiskAssessment
from chatbot.wealth.evidence import verify
from tests.dialogue.conftest import WANG, ZHANG

ANSWERS = ["B", "2", "50万", "20%", "稳定增值", "5到10年", "继续持有", "C", "20%", "稳步增长"]


def _count(services, model):
    with services.database.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_full_questionnaire_with_corrections_is_stored_with_evidence(chat, services):
    c = chat()
    c.bind(WANG)
    first = c.say("我要做风险测评")
    assert "第 1/10 题" in first and "A." in first and c.flow == "wealth.risk_assessment"
    for answer in ANSWERS[:6]:
        c.say(answer)
    fixed = c.say("上一题改成C")  # question 6 (horizon) to C
    assert "已将第 6 题改为 C" in fixed and "第 7/10 题" in fixed
    for answer in ANSWERS[6:]:
        reply = c.say(answer)
    assert "请核对您的答案" in reply and "6. 这笔资金您计划投资多长时间：C" in reply
    fixed = c.say("第3题选A")
    assert "已将第 3 题改为 A" in fixed and "3. 您的家庭年收入大约是：A" in fixed
    done = c.say("确认")
    # age B 10, experience B 5, income A 2, share B 8, goal B 5, horizon C 8, reaction C 8,
    # knowledge C 8, max loss C 8, outlook C 8 -> 70 -> C4
    assert "C4（进取型）" in done and "R1–R4" in done and "70 分" in done and "2027年11月24日" in done, done
    assert c.flow is None
    with services.database.read() as db:
        newest = db.scalars(select(RiskAssessment).order_by(RiskAssessment.id.desc())).first()
        assert newest.level == "C4" and newest.score == 70 and newest.answers["horizon"] == "C" and newest.answers["income"] == "A"
        record = db.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id.desc())).first()
        assert record.kind == "risk_assessment" and record.payload["level"] == "C4"
        assert verify(db).ok
    again = c.say("我的风险等级是多少")
    assert "C4（进取型）" in again and "重新测评" in again and c.flow is None
    restart = c.say("好的")
    assert "第 1/10 题" in restart


def test_cancel_in_the_middle_keeps_nothing(chat, services):
    before = _count(services, RiskAssessment)
    c = chat()
    c.bind(WANG)
    c.say("风险测评")
    c.say("A")
    c.say("没有")
    reply = c.say("算了")
    assert "不会保存" in reply and c.flow is None
    assert _count(services, RiskAssessment) == before


def test_an_unreadable_answer_is_asked_again_and_a_question_is_answered(chat):
    c = chat()
    c.bind(WANG)
    c.say("风险测评")
    reply = c.say("随便吧")
    assert "没能识别" in reply and "第 1/10 题" in reply
    assert "第 2/10 题" in c.say("35岁")


def test_in_force_level_is_shown_with_a_reassessment_offer(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("查一下我的风险等级")
    assert "C3（平衡型）" in reply and "有效期至" in reply and "重新测评" in reply and c.flow is None
    assert "第 1/10 题" in c.say("重新测评")


def test_expired_assessment_starts_a_new_questionnaire(chat, services, clock):
    clock.advance(days=330)  # 张伟's was taken 40 days before the seed: now 370 days old
    c = chat()
    c.bind(ZHANG)
    reply = c.say("风险测评")
    assert "过期" in reply and "第 1/10 题" in reply


def test_answers_in_the_options_own_words(chat, services):
    """"31–45 岁" (an en dash) was read as 3145 years old; "基本不了解" sounded like a complaint
    to the model and queued the customer for a person."""
    c = chat()
    c.bind(WANG)
    c.say("我要做风险测评")
    assert "第 2/10 题" in c.say("31–45 岁")
    for answer in ANSWERS[1:7]:
        c.say(answer)
    reply = c.say("基本不了解")  # question 8, knowledge: option A
    assert "排队" not in reply and "第 9/10 题" in reply and c.flow == "wealth.risk_assessment", reply
    for answer in ANSWERS[8:]:
        reply = c.say(answer)
    assert "1. 您的年龄是：B" in reply and "8. " in reply and "：A" in reply.split("8. ")[1].split("\n")[0], reply


def test_asking_for_a_level_without_one_says_so_first(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我的风险等级是什么")
    assert reply.startswith("您还没有做过风险测评") and "第 1/10 题" in reply, reply
