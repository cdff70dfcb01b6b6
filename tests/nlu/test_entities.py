"""chatbot.nlu.entities: every extractor, overlap resolution and original-text spans."""

import json
from datetime import date
from decimal import Decimal

import pytest

from chatbot.nlu.entities import Entity, extractor
from chatbot.nlu.entities.id_number import id_checksum_ok
from chatbot.nlu.entities.registry import UnknownExtractorError, get_extractor

JAN_5 = date(2026, 1, 5)  # a Monday
MAR_31 = date(2026, 3, 31)
DEC_31 = date(2026, 12, 31)
LEAP_DAY = date(2028, 2, 29)


def _range(start: str, end: str) -> dict:
    return {"start": date.fromisoformat(start), "end": date.fromisoformat(end)}


# --- amount ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五千块", "5000"),
        ("两千五", "2500"),
        ("一万二", "12000"),
        ("3万5", "35000"),
        ("1.5万", "15000"),
        ("2.5w", "25000"),
        ("3k", "3000"),
        ("¥800", "800"),
        ("￥800", "800"),
        ("800元", "800"),
        ("800块", "800"),
        ("800块钱", "800"),
        ("５０００元", "5000"),
        ("兩千元", "2000"),
        ("一千二百三十四元五角", "1234.5"),
        ("三百块", "300"),
        ("十万", "100000"),
        ("1,200", "1200"),
        ("五十元", "50"),
        ("五十块", "50"),
        ("转500", "500"),
        ("给李娜转两千五", "2500"),
        ("我要还信用卡3000", "3000"),
        ("存五十", "50"),
        ("五块五", "5.5"),
        ("3元5角2分", "3.52"),
        ("我想借五十万分36期", "500000"),
        # A numeral right after 万 that a counter follows is the term, not more money.
        ("贷款20万三年月供多少", "200000"),
        ("贷款20万36期每月还多少", "200000"),
        ("借20万5千3年", "205000"),
        ("转2万3", "23000"),
        ("给张三五百块", "500"),
        ("买两千五天天宝", "2500"),  # 天天宝 is a product, not 五天
        ("买1万5天天宝", "15000"),
        # 分 without 角 (found in review: 100元5分 was read as 100.00), spaces, 零
        ("转100元5分给李娜", "100.05"),
        ("转100元零5分", "100.05"),
        ("转 100元 5 分", "100.05"),
        ("100 元 5 角 2 分", "100.52"),
        ("100元5角零2分", "100.52"),
        ("转100块五分", "100.05"),
        ("转100元5分钟后到账吗", "100"),  # minutes, not fen
        ("转100块 5号到账", "100"),  # a date after a space, not 角
        # found in review: 零 before 角, 大写 digits, a digit after 毛 is 分, 05分
        ("一百元零五角", "100.5"),
        ("转1680元零3角2分", "1680.32"),
        ("壹佰元伍角贰分", "100.52"),
        ("转三块五毛五", "3.55"),
        ("转100块5毛5", "100.55"),
        ("转100元5角5", "100.55"),
        ("转100元 零 5分", "100.05"),
        ("转100元05分", "100.05"),
        # 分 that is time or a rate, not fen
        ("转账100元 5分后到账", "100"),
        ("借1000元5分利", "1000"),
        ("转800块2分30秒", "800"),
        ("100元5角5天", "100.5"),
    ],
)
def test_amounts(values_of, text, expected):
    found = values_of(text, "amount")
    assert found == [Decimal(expected)]
    assert isinstance(found[0], Decimal)
    assert found[0].as_tuple().exponent == -2  # quantized to fen


@pytest.mark.parametrize(
    "text",
    [
        "五十",  # bare, no money context
        "转100元55分",  # 分 left unread: asked again, never read as 100.00
        "尾号1234",
        "手机13800138000",
        "身份证110105199003071239",
        "验证码是482913",
        "3月的账单",
        "2024年的流水",
        "分36期",
        "存3年",
        "我有3张卡",
        "利率3.5%",
        "转一下",  # a bare numeral without a unit character
        "万一卡丢了",
        "千万别转",
        "第3期",
        "10:30转账",
        "还款日是15号",
        # A sign or an exponent: never the bare digits as a positive sum.
        "还-100",
        "借-5万",
        "还负100元",
        "提到−5000",
        "还1e30",
        "还1E3块",
        "转2e5",
    ],
)
def test_numbers_that_are_not_amounts(values_of, text):
    assert values_of(text, "amount") == []


def test_amount_span_includes_currency_sign_and_unit(extract):
    (entity,) = [e for e in extract("请转￥800给他") if e.entity == "amount"]
    assert entity.text == "￥800"
    (entity,) = [e for e in extract("一共800块钱吧") if e.entity == "amount"]
    assert entity.text == "800块钱"


def test_amounts_are_exact_where_float_would_not_be(values_of):
    # 1.15 * 10000 in binary floating point is 11499.999999999998.
    assert values_of("转1.15万", "amount") == [Decimal("11500.00")]
    assert values_of("转0.07万", "amount") == [Decimal("700.00")]


# --- date_range -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("今天", MAR_31, _range("2026-03-31", "2026-03-31")),
        ("昨天", MAR_31, _range("2026-03-30", "2026-03-30")),
        ("前天", MAR_31, _range("2026-03-29", "2026-03-29")),
        ("本周", MAR_31, _range("2026-03-30", "2026-03-31")),
        ("这周", MAR_31, _range("2026-03-30", "2026-03-31")),
        ("上周", MAR_31, _range("2026-03-23", "2026-03-29")),
        ("本月", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("这个月", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("上个月", MAR_31, _range("2026-02-01", "2026-02-28")),
        ("上月", MAR_31, _range("2026-02-01", "2026-02-28")),
        ("最近三个月", MAR_31, _range("2026-01-01", "2026-03-31")),
        ("近三个月", MAR_31, _range("2026-01-01", "2026-03-31")),
        ("近3个月", MAR_31, _range("2026-01-01", "2026-03-31")),
        ("最近一个月", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("近7天", MAR_31, _range("2026-03-25", "2026-03-31")),
        ("最近一周", MAR_31, _range("2026-03-25", "2026-03-31")),
        ("最近7天", MAR_31, _range("2026-03-25", "2026-03-31")),
        ("最近半年", MAR_31, _range("2025-10-01", "2026-03-31")),
        ("今年", MAR_31, _range("2026-01-01", "2026-03-31")),
        ("去年", MAR_31, _range("2025-01-01", "2025-12-31")),
        ("今年3月", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("3月份", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("5月份", MAR_31, _range("2025-05-01", "2025-05-31")),  # May is still to come
        ("2026年3月", MAR_31, _range("2026-03-01", "2026-03-31")),
        ("2024年", MAR_31, _range("2024-01-01", "2024-12-31")),
        ("2026-03-01到2026-03-15", MAR_31, _range("2026-03-01", "2026-03-15")),
        ("3月1日到3月15日", MAR_31, _range("2026-03-01", "2026-03-15")),
        ("3月1号至15号", MAR_31, _range("2026-03-01", "2026-03-15")),
        ("3月1日", MAR_31, _range("2026-03-01", "2026-03-01")),
        ("三个月内", MAR_31, _range("2026-01-01", "2026-03-31")),
        # Jan 5 (a Monday): year and month boundaries
        ("上个月", JAN_5, _range("2025-12-01", "2025-12-31")),
        ("本周", JAN_5, _range("2026-01-05", "2026-01-05")),
        ("上周", JAN_5, _range("2025-12-29", "2026-01-04")),
        ("今年", JAN_5, _range("2026-01-01", "2026-01-05")),
        ("前天", JAN_5, _range("2026-01-03", "2026-01-03")),
        ("近7天", JAN_5, _range("2025-12-30", "2026-01-05")),
        ("最近三个月", JAN_5, _range("2025-10-06", "2026-01-05")),
        ("3月份", JAN_5, _range("2025-03-01", "2025-03-31")),
        ("12月", JAN_5, _range("2025-12-01", "2025-12-31")),
        ("今年3月", JAN_5, _range("2026-03-01", "2026-03-31")),
        ("12月20日到1月3日", JAN_5, _range("2025-12-20", "2026-01-03")),
        # Dec 31
        ("本周", DEC_31, _range("2026-12-28", "2026-12-31")),
        ("上个月", DEC_31, _range("2026-11-01", "2026-11-30")),
        ("最近三个月", DEC_31, _range("2026-10-01", "2026-12-31")),
        ("今年", DEC_31, _range("2026-01-01", "2026-12-31")),
        ("12月份", DEC_31, _range("2026-12-01", "2026-12-31")),
        # leap year
        ("本月", LEAP_DAY, _range("2028-02-01", "2028-02-29")),
        ("上个月", LEAP_DAY, _range("2028-01-01", "2028-01-31")),
        ("最近一个月", LEAP_DAY, _range("2028-01-30", "2028-02-29")),
        ("最近一年", LEAP_DAY, _range("2027-03-01", "2028-02-29")),
        ("近7天", LEAP_DAY, _range("2028-02-23", "2028-02-29")),
        ("昨天", date(2028, 3, 1), _range("2028-02-29", "2028-02-29")),
        ("上个月", date(2028, 3, 31), _range("2028-02-01", "2028-02-29")),
        ("2月份", date(2028, 3, 31), _range("2028-02-01", "2028-02-29")),
    ],
)
def test_date_ranges(values_of, text, today, expected):
    assert values_of(text, "date_range", today=today) == [expected]


def test_last_n_months_rule_from_a_month_end(values_of):
    # Same day three months back is Feb 31 -> clamped to Feb 28; the window starts the day after.
    assert values_of("最近三个月", "date_range", today=date(2026, 5, 31)) == [_range("2026-03-01", "2026-05-31")]


def test_date_range_inside_a_sentence(extract):
    (entity,) = [e for e in extract("我想查一下上个月的信用卡账单") if e.entity == "date_range"]
    assert entity.text == "上个月"
    assert entity.to_dict()["value"] == {"start": "2026-02-01", "end": "2026-02-28"}


def test_impossible_dates_are_not_ranges(values_of):
    assert values_of("2026-02-30", "date_range") == []
    assert values_of("2026-13-01到2026-13-05", "date_range") == []


# --- card_tail, phone, id_number, otp -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["尾号1234", "尾号是1234", "末四位1234", "后四位1234", "卡号后4位1234", "1234那张卡", "**** 1234", "尾数1234"],
)
def test_card_tails(extract, text):
    (entity,) = extract(text)
    assert (entity.entity, entity.value, entity.text) == ("card_tail", "1234", "1234")


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("我的手机13800138000", "13800138000"),
        ("手机号138-0013-8000", "138-0013-8000"),
        ("电话 138 0013 8000", "138 0013 8000"),
        ("+86 13800138000", "+86 13800138000"),
        ("+8613800138000", "+8613800138000"),
    ],
)
def test_phones(extract, text, written):
    (entity,) = extract(text)
    assert (entity.entity, entity.value, entity.text) == ("phone", "13800138000", written)


def test_not_phones(values_of):
    assert values_of("12800138000", "phone") == []  # 12x is not a mobile prefix
    assert values_of("138001380001", "phone") == []  # twelve digits


@pytest.mark.parametrize("number", ["110105199003071239", "310115198806152046", "440305199511203311"])
def test_valid_id_numbers(extract, number):
    assert id_checksum_ok(number)
    (entity,) = extract(f"身份证号{number}")
    assert (entity.entity, entity.value) == ("id_number", number)


def test_id_check_character_x_is_uppercased(extract):
    number = "11010519491231002x"
    assert id_checksum_ok(number)
    (entity,) = extract(f"身份证{number}")
    assert (entity.value, entity.text) == ("11010519491231002X", number)


@pytest.mark.parametrize("number", ["110105199003071238", "310115198806152045", "44030519951120331X"])
def test_wrong_checksum_is_no_id_and_no_phone_or_amount(extract, number):
    assert not id_checksum_ok(number)
    assert extract(f"身份证{number}") == []
    assert extract(f"转{number}") == []


def test_bank_card_numbers_are_not_split_into_entities(extract):
    assert extract("卡号6222020200112233445") == []


@pytest.mark.parametrize(
    ("text", "code"), [("482913", "482913"), ("验证码是482913", "482913"), ("验证码:000123", "000123")]
)
def test_otps(extract, text, code):
    (entity,) = extract(text)
    assert (entity.entity, entity.value) == ("otp", code)


@pytest.mark.parametrize("text", ["4829131", "转100000", "100000元", "我的密码是123456", "48291"])
def test_not_otps(values_of, text):
    assert values_of(text, "otp") == []


# --- term_months ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("36期", 36),
        ("分24期", 24),
        ("分二十四期", 24),
        ("三年", 36),
        ("5年期", 60),
        ("半年", 6),
        ("6个月", 6),
        ("十二期", 12),
        ("贷款一年半", 18),
        ("借10万分12个月还多少", 12),
        ("分12期每月还多少", 12),
        ("借5万一年还清", 12),
    ],
)
def test_terms(values_of, text, months):
    assert values_of(text, "term_months") == [months]


@pytest.mark.parametrize("text", ["2024年", "三年前", "第3期", "最近三个月", "3月",
                                  # the period of a rate, not a term
                                  "我一个月挣六千", "每年收入20万", "一年能赚十万", "一个月还多少", "每个月还3000"])
def test_not_terms(values_of, text):
    assert values_of(text, "term_months") == []


# --- account_type, txn_type --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("储蓄卡余额", "savings"),
        ("借记卡", "savings"),
        ("活期账户", "savings"),
        ("我的银行卡", "savings"),
        ("信用卡账单", "credit"),
        ("贷款", "loan"),
        ("房贷", "loan"),
        ("车贷", "loan"),
        ("定期", "fixed_deposit"),
        ("理财", "wealth"),
    ],
)
def test_account_types(values_of, text, kind):
    assert values_of(text, "account_type") == [kind]


def test_bank_card_is_not_savings_when_talking_about_credit(values_of):
    assert values_of("信用卡也是银行卡吗", "account_type") == ["credit"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("收入", "income"),
        ("入账", "income"),
        ("进账", "income"),
        ("转入", "income"),
        ("收款", "income"),
        ("支出", "expense"),
        ("花了多少", "expense"),
        ("消费", "expense"),
        ("扣款", "expense"),
        ("转出", "expense"),
        ("工资", "salary"),
        ("转账记录", "transfer"),
        ("取现", "cash"),
        ("取款", "cash"),
        ("ATM", "cash"),
        ("还款", "repayment"),
        ("手续费", "fee"),
        ("利息", "interest"),
        ("工资入账", "salary"),  # specific beats generic
        ("利息收入", "interest"),
    ],
)
def test_txn_types(values_of, text, kind):
    assert values_of(text, "txn_type") == [kind]


def test_payee_word_is_not_a_txn_type(values_of):
    assert values_of("收款人是张伟", "txn_type") == []


# --- payee -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("给李娜转两千五", "李娜"),
        ("转500给王芳", "王芳"),
        ("帮我给我妈转1000", "我妈"),
        ("转账给张伟吧", "张伟"),
        ("汇给张伟五千", "张伟"),
        ("向王芳转账200", "王芳"),
        ("收款人是张伟", "张伟"),
        ("打给欧阳娜娜", "欧阳娜娜"),
        ("给王五转1000", "王五"),
    ],
)
def test_payees(values_of, text, name):
    assert values_of(text, "payee") == [name]


@pytest.mark.parametrize("text", ["给我转500", "给我发验证码", "给客服打电话", "向银行申请", "给他转200"])
def test_not_payees(values_of, text):
    assert values_of(text, "payee") == []


def test_known_payees_are_found_anywhere(values_of):
    assert values_of("李娜那边收到了吗", "payee", known_payees=["李娜"]) == ["李娜"]
    assert values_of("李娜那边收到了吗", "payee") == []


def test_known_payee_in_traditional_script(extract):
    (payee,) = [e for e in extract("轉給張偉500", known_payees=["张伟"]) if e.entity == "payee"]
    assert (payee.value, payee.text) == ("张伟", "張偉")


# --- overlaps, spans, serialization, registry ----------------------------------------------


def test_full_sentence_with_overlapping_candidates(extract):
    found = extract("给李娜转两千五，验证码482913，手机13800138000，尾号8888，上个月")
    assert [(e.entity, e.value) for e in found] == [
        ("payee", "李娜"),
        ("amount", Decimal("2500.00")),
        ("otp", "482913"),
        ("phone", "13800138000"),
        ("card_tail", "8888"),
        ("date_range", _range("2026-02-01", "2026-02-28")),
    ]


def test_id_digits_are_not_a_phone_and_phone_digits_are_not_an_otp(extract):
    kinds = [e.entity for e in extract("身份证110105199003071239，电话13800138000")]
    assert kinds == ["id_number", "phone"]


def test_spans_point_into_the_original_text(extract):
    text = "請給張偉轉帳５０００元😀，尾號１２３４，上個月"
    found = extract(text, known_payees=["张伟"])
    assert [e.entity for e in found] == ["payee", "amount", "card_tail", "date_range"]
    for entity in found:
        assert text[entity.start : entity.end] == entity.text
    assert [e.text for e in found] == ["張偉", "５０００元", "１２３４", "上個月"]


def test_to_dict_is_json_safe(extract):
    found = extract("上个月给李娜转了2500元")
    payload = json.loads(json.dumps([e.to_dict() for e in found], ensure_ascii=False))
    assert {"entity": "amount", "value": "2500.00", "start": 8, "end": 13} in payload
    last_month = {"start": "2026-02-01", "end": "2026-02-28"}
    assert {"entity": "date_range", "value": last_month, "start": 0, "end": 3} in payload
    assert set(payload[0]) == {"entity", "value", "start", "end"}


def test_entity_is_a_frozen_value():
    entity = Entity("card_tail", "1234", 2, 6, "1234")
    with pytest.raises(AttributeError):
        entity.value = "0000"  # type: ignore[misc]


def test_unknown_extractor_error_lists_the_registered_ones():
    with pytest.raises(UnknownExtractorError, match="amount"):
        get_extractor("iban")


def test_registering_a_second_extractor_for_a_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        extractor("amount")(lambda ctx: [])


@pytest.mark.parametrize(("text", "expected"), [
    ("310115 19880615 2046", ["310115198806152046"]),
    ("身份证 110105-19900307-1239", ["110105199003071239"]),
    ("110105　19900307　1239", ["110105199003071239"]),  # ideographic spaces
    ("310115 19880615 2047", []),  # wrong check digit
    ("13800138000 1234567", []),  # a phone and another number are not an ID
])
def test_id_numbers_spaced_as_people_write_them(values_of, text, expected):
    assert values_of(text, "id_number") == expected
