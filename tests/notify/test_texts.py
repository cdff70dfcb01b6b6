"""The words of notifications: masked numbers, `1,234.50 元`, dates as people say them, and
template values that fit WeChat's limits."""
from datetime import date, datetime
from decimal import Decimal

from chatbot.channels.wechat.templates import template_payload
from chatbot.clock import BANK_TZ
from chatbot.notify import texts

AT = datetime(2026, 11, 24, 9, 30, tzinfo=BANK_TZ)


def facts(**kwargs) -> texts.ApplicationFacts:
    base = dict(kind="card", stage="submitted", product="金卡", reference="CA20261121-000002", at=AT)
    return texts.ApplicationFacts(**{**base, **kwargs})


def test_the_submitted_card_text_of_the_brief():
    wording = texts.application(facts())
    assert wording.text == "【示例银行】您的金卡申请已提交（编号 CA20261121-000002），审核结果会通知您。"
    assert wording.template == {"kind": "card_progress", "values": ["金卡", "已提交", "2026-11-24 09:30", "审核结果会通知您"]}


def test_a_refusal_gives_the_reason_masked_or_none_at_all():
    with_reason = texts.application(facts(stage="rejected", reason="名下信用卡 6258800000335678 有逾期。"))
    assert "原因：名下信用卡 **** 5678 有逾期。如有疑问，回复“人工”咨询客服。" in with_reason.text
    assert "6258800000335678" not in with_reason.text and "6258800000335678" not in str(with_reason.template)
    plain = texts.application(facts(stage="rejected"))
    assert "未通过审核（编号 CA20261121-000002）。如有疑问" in plain.text


def test_loan_templates_carry_the_amount_and_fit_wechat_limits():
    wording = texts.application(facts(kind="loan", stage="approved", product="消费贷", amount=Decimal("50000.00"),
                                      term_months=12))
    assert wording.text == ("【示例银行】您的消费贷申请（50,000.00 元，12 期）已审核通过（编号 CA20261121-000002），"
                            "放款后会通知您。")
    payload = template_payload("openid", "TPL", dict(zip(("thing1", "phrase2", "amount3", "time4"),
                                                         wording.template["values"])))
    assert payload["data"]["amount3"] == {"value": "50000.00元"}
    for stage in texts.STAGE_LABELS.values():
        assert len(stage) <= 5  # WeChat's `phrase` keyword


def test_due_reminders_say_today_tomorrow_or_how_many_days():
    def reminder(today: str, paid: str = "0.00") -> str:
        return texts.statement_due(texts.StatementFacts(
            card_no="6258800000335678", due_date=date(2026, 12, 9), today=date.fromisoformat(today),
            new_balance=Decimal("2345.67"), minimum_payment=Decimal("234.57"), paid=Decimal(paid),
            installed=Decimal("0.00"))).text

    assert reminder("2026-12-06") == ("【示例银行】您的信用卡 **** 5678 本期账单 2,345.67 元将于 12月9日到期（还有 3 天），"
                                      "最低还款 234.57 元。回复“还信用卡”即可还款。")
    assert "本期账单 2,345.67 元明天（12月9日）到期" in reminder("2026-12-08")
    assert "本期账单尚需还款 2,245.67 元今天（12月9日）到期，最低还款 134.57 元" in reminder("2026-12-09", "100.00")
