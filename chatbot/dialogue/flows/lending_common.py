"""Answers the card and loan application forms share: a monthly income, free-text details
(employer, address, purpose), a choice from a numbered list, the read-back of a refusal."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from chatbot.dialogue.context import FlowContext
from chatbot.nlu.entities.numbers import parse_number
from chatbot.tools.lending import OPEN_STAGES

QUESTION = re.compile(r"[?？]|吗|么|多少|怎么|如何|什么|哪|能不能|可不可以|是否")
NUMBER = r"[0-9.,，万千kK一二两三四五六七八九十百零]+"
BARE_NUMBER = re.compile(rf"^(?:月收入|收入|月薪|工资|税后)?(?:是|为|大概|大约|约)?\s*({NUMBER})"
                         r"\s*(?:元|块钱?)?(?:左右|多|每月|一个月)?[。.!！]*$")
# An amount alone ("8万", "借500块", "12期"): never a purpose, an employer or an address.
AMOUNT_ONLY = re.compile(rf"^(?:借|贷|要|就|是)?\s*{NUMBER}\s*(?:元|块钱?|期|个月)?(?:吧)?[。.!！]*$")
MAX_INCOME = Decimal("10000000")
ORDINAL = re.compile(r"^(?:第)?([1-9一二三四五六七八九])(?:个|张|种|号)?[。.!！]*$")
CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


INCOME_WORDS = re.compile(r"收入|月入|月薪|工资|薪水|薪资|税后|到手|挣|赚")
# The words naming the loan's amount: "借500块" at the income question is an amount, not income.
LOAN_WORDS = re.compile(r"借|贷|金额|额度")
# "我月收入8000", "收入大概8000左右": a number after the income words, with or without a unit
# (a bare "8000" is no amount entity).
INCOME_NUMBER = re.compile(rf"(?:收入|月入|月薪|工资|薪水|薪资|税后|到手)(?:是|为|有|在|大概|大约|约|差不多|每月|一个月|:|：|\s)*"
                           rf"({NUMBER})")


def split_amounts(ctx: FlowContext) -> tuple[list, list]:
    """(other amounts, income amounts) of this message: an amount whose clause names the
    income before it ("借5万，月收入1万") is the income's, the others are the loan's."""
    text, other, income = ctx.parse.text, [], []
    for entity in ctx.parse.entities:
        if entity.entity != "amount":
            continue
        clause = re.split(r"[,，。;；、]", text[:entity.start])[-1]
        (income if INCOME_WORDS.search(clause) else other).append(entity.value)
    return other, income


def extract_income(ctx: FlowContext, slot: str = "monthly_income"):
    """The monthly income this message states: an amount after 收入/月薪/工资/税后 ("我月收入8000",
    "税后一万二"), or a bare number answering the income question ("9600", "8k"). An amount
    the customer says is the loan's ("借500块") is never the income."""
    asked = ctx.state.asking == slot
    if not asked and not INCOME_WORDS.search(ctx.text):
        return None
    other, income = split_amounts(ctx)
    amount = income[0] if income else None
    if amount is None and (match := INCOME_NUMBER.search(ctx.text.replace(" ", ""))):
        amount = parse_number(match.group(1))
    if amount is None and asked and not LOAN_WORDS.search(ctx.text):
        amount = other[0] if other else None
        if amount is None:
            match = BARE_NUMBER.match(ctx.text.replace(" ", ""))
            amount = parse_number(match.group(1)) if match else None
    return str(Decimal(str(amount))) if amount is not None else None


def validate_income(ctx: FlowContext, value) -> str | None:
    try:
        income = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return "月收入格式不正确，请告诉我每月税后收入，如“9600”。"
    if not income.is_finite() or income <= 0 or income >= MAX_INCOME:
        return "请告诉我每月税后收入（元），如“9600”。"
    return None


def keep_income(ctx: FlowContext, value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def free_text(ctx: FlowContext, slot: str, shortest: int = 2, longest: int = 60) -> str | None:
    """The whole message as the answer to the question for `slot`, unless it is a question,
    a bare number or a confirmation word."""
    if ctx.state.asking != slot:
        return None
    text = re.sub(r"^(?:我的|我)?(?:工作单位|单位|公司|地址|通讯地址|用途|借款用途)?(?:是|在|为|:|：)\s*", "",
                  ctx.text.strip()).strip(" 。.!！")
    if not shortest <= len(text) <= longest or QUESTION.search(text) or AMOUNT_ONLY.match(text.replace(" ", "")):
        return None
    return text


def ordinal(ctx: FlowContext, count: int) -> int | None:
    """"2" / "第二个" answering a numbered list of `count` items -> index 1."""
    match = ORDINAL.match(ctx.text.strip())
    if not match:
        return None
    value = match.group(1)
    number = int(value) if value.isdigit() else CN_DIGITS[value]
    return number - 1 if 1 <= number <= count else None


def refused(ctx: FlowContext, flow_name: str, code: str, message: str, keep: bool = False) -> None:
    """Say why the bank said no; the flow ends unless `keep` (the customer may change details)."""
    ctx.outcome = "refused"
    ctx.step("refused", flow=flow_name, code=code)
    if keep:
        ctx.say(message)
        return
    ctx.say(message)
    ctx.state.end_flow(keep_context=False)


def open_application(ctx: FlowContext, kind: str, code: str) -> str | None:
    """"您已有一笔金卡申请（编号 …）正在办理中…" when the customer has an open one for this
    product (the bank refuses a second; said as soon as the product is chosen)."""
    for app in ctx.bank.applications(ctx.customer_id, kind=kind):
        if app.product_code == code and app.stage in OPEN_STAGES[kind]:
            where = "信用卡申请进度" if kind == "card" else "贷款进度"
            return (f"您已有一笔{app.product_name}申请（编号 {app.reference}）正在办理中，当前{app.stage_name}，"
                    f"无需重复申请（回复“{where}”可查看进度）。")
    return None
