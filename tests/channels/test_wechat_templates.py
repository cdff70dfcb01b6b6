"""Template messages under WeChat's current rules: one line, short fields, no colours."""
from datetime import datetime
from decimal import Decimal

import pytest

from chatbot.channels.wechat.errors import WeChatNotConfigured
from chatbot.channels.wechat.setup import build_api
from chatbot.channels.wechat.templates import TemplateNotifier, field_value, template_payload
from chatbot.clock import BANK_TZ

AT = datetime(2026, 11, 24, 10, 30, tzinfo=BANK_TZ)


@pytest.fixture
def notifier(settings):
    api = build_api(settings)
    yield TemplateNotifier.from_settings(api, settings)
    api.close()


def test_values_follow_the_keyword_rules():
    assert field_value("thing1", "第一行\n第二行") == "第一行 第二行"
    assert field_value("thing2", "字" * 30) == "字" * 19 + "…"
    assert field_value("phrase3", "审核中") == "审核中"
    assert len(field_value("phrase3", "已提交等待审核")) == 5
    assert field_value("amount4", Decimal("52380.5")) == "52380.50元"
    assert field_value("amount4", "1,000") == "1000.00元"
    assert field_value("time5", AT) == "2026-11-24 10:30"
    assert field_value("thing6", "卡号 6222021234567890123") == "卡号 **** 0123"


def test_payload_has_no_colours_first_or_remark():
    payload = template_payload("o-1", "TPL", {"thing1": "a", "amount2": 1}, url="https://example-bank.cn/r/1")
    assert payload == {"touser": "o-1", "template_id": "TPL", "url": "https://example-bank.cn/r/1",
                       "data": {"thing1": {"value": "a"}, "amount2": {"value": "1.00元"}}}


def test_transfer_receipt_reaches_wechat(notifier, fake_wechat):
    msgid = notifier.transfer_receipt("o-1", payee="李娜", amount=Decimal("2500.00"), at=AT,
                                      reference="TX20261124001", card_tail="1234")
    [sent] = fake_wechat.template_messages
    assert msgid is not None and sent["template_id"] == "TPL-TRANSFER" and sent["touser"] == "o-1"
    assert sent["data"] == {"thing1": {"value": "李娜"}, "amount2": {"value": "2500.00元"},
                            "time3": {"value": "2026-11-24 10:30"}, "character_string4": {"value": "TX20261124001"},
                            "thing5": {"value": "储蓄卡尾号1234"}}


def test_news_push_and_missing_template_ids(notifier, fake_wechat):
    notifier.news("o-1", title="央行下调存款准备金率0.25个百分点，释放长期资金约5000亿元", at=AT, summary="财经早报")
    assert len(fake_wechat.template_messages[0]["data"]["thing1"]["value"]) == 20
    with pytest.raises(WeChatNotConfigured, match="CHATBOT_WECHAT_TEMPLATE_LOAN_PROGRESS"):
        notifier.loan_progress("o-1", product="个人消费贷", stage="已放款", amount=Decimal("30000"), at=AT)
