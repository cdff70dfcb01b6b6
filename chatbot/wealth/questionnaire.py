"""The risk-tolerance questionnaire: questions, how an answer is read, and the level it gives.

Ten questions (age, experience, income, share of assets, goal, horizon, reaction to a loss,
knowledge, the largest loss accepted, income outlook), four options each worth 2–10 points,
so a score runs from 20 to 100. Bands: C1 20–35, C2 36–50, C3 51–65, C4 66–82, C5 83–100.

Level names follow the graph's R-level `suits` wording (data/kg.yaml): C1 谨慎型, C2 稳健型,
C3 平衡型, C4 进取型, C5 激进型; a level may buy products up to the R-level of the same number
(C1: R1; C3: R1–R3; C5: everything).

An answer is read as an option letter ("B", "选b"), an option number ("2", "第二个"), the
option's words ("继续持有"), or, where a question is about a quantity, the quantity itself
("35岁", "5到10年", "三年以上", "年收入50万", "20%"). Pure functions, no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.nlu.entities.numbers import parse_number

LETTERS = "ABCD"
LEVELS = ("C1", "C2", "C3", "C4", "C5")
LEVEL_NAMES = {"C1": "谨慎型", "C2": "稳健型", "C3": "平衡型", "C4": "进取型", "C5": "激进型"}
BANDS = ((35, "C1"), (50, "C2"), (65, "C3"), (82, "C4"), (100, "C5"))  # highest score of each level
VALID_MONTHS = 12
RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")


@dataclass(frozen=True)
class Option:
    text: str
    points: int
    words: tuple[str, ...] = ()  # other ways of saying it


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[Option, Option, Option, Option]
    # A quantity the customer may state instead: (unit pattern, upper bounds of options A..C).
    unit: str | None = None
    bounds: tuple[float, float, float] | None = None


QUESTIONS: tuple[Question, ...] = (
    Question("age", "您的年龄是？", (
        Option("18–30 岁", 8, ("18到30", "三十岁以下", "30岁以下", "年轻")),
        Option("31–45 岁", 10, ("31到45",)),
        Option("46–60 岁", 6, ("46到60",)),
        Option("60 岁以上", 2, ("六十岁以上", "退休", "老年")),
    ), unit="岁", bounds=(30.5, 45.5, 60.5)),
    Question("experience", "您有多长时间的投资经验（存款除外）？", (
        Option("没有投资经验", 2, ("没有", "没投资过", "无经验", "没经验", "从来没有", "只存过款", "只存款")),
        Option("2 年以内", 5, ("两年以内", "刚开始", "不到两年")),
        Option("2–5 年", 8, ("两到五年", "2到5年")),
        Option("5 年以上", 10, ("五年以上", "很多年", "很久")),
    ), unit="年|个?月", bounds=(0.001, 2, 5)),
    Question("income", "您的家庭年收入大约是？", (
        Option("10 万元以下", 2, ("十万以下", "10万以下", "不到10万")),
        Option("10 万–30 万元", 5, ("十万到三十万", "10到30万")),
        Option("30 万–100 万元", 8, ("三十万到一百万", "30到100万")),
        Option("100 万元以上", 10, ("一百万以上", "百万以上")),
    ), unit="万|元|块", bounds=(100000, 300000, 1000000)),
    Question("share", "准备投资的金额占您家庭金融资产的比例是？", (
        Option("10% 以下", 10, ("一成以下", "很少", "一小部分")),
        Option("10%–30%", 8, ("一到三成",)),
        Option("30%–50%", 5, ("三到五成",)),
        Option("50% 以上", 2, ("一半以上", "大部分", "全部", "一多半")),
    ), unit="%|成", bounds=(10, 30, 50)),
    Question("goal", "您投资的主要目标是？", (
        Option("保住本金，不能亏损", 2, ("保本", "不能亏", "不亏", "本金安全", "保值")),
        Option("稳定增值，可承受小幅波动", 5, ("稳定增值", "稳健增值", "小幅波动", "稳一点", "稳定收益")),
        Option("追求较高收益，可承受较大波动", 8, ("较高收益", "较大波动")),
        Option("追求高收益，可承受大幅亏损", 10, ("高收益", "大幅亏损", "收益最大化", "博一把")),
    )),
    Question("horizon", "这笔资金您计划投资多长时间？", (
        Option("1 年以内", 2, ("一年以内", "短期", "几个月", "半年")),
        Option("1–3 年", 5, ("一到三年", "1到3年", "两年")),
        Option("3–5 年", 8, ("三到五年", "3到5年")),
        Option("5 年以上", 10, ("五年以上", "长期", "很多年", "不着急用")),
    ), unit="年|个月|月", bounds=(1, 3, 5)),
    Question("reaction", "如果投资在短期内亏损了 20%，您会？", (
        Option("立即全部卖出", 2, ("全部卖出", "全卖", "马上卖", "清仓", "赎回")),
        Option("卖出一部分", 5, ("卖一部分", "部分卖出", "减仓", "卖掉一些")),
        Option("继续持有，等待回升", 8, ("继续持有", "持有", "不动", "拿着", "等回本", "等待回升")),
        Option("加仓买入", 10, ("加仓", "补仓", "多买", "买入更多", "抄底")),
    )),
    Question("knowledge", "您对金融投资产品的了解程度是？", (
        Option("基本不了解", 2, ("不了解", "不懂", "不太懂", "完全不懂")),
        Option("了解存款和银行理财", 5, ("存款和理财", "一般", "了解一点", "懂一点")),
        Option("了解基金、债券等", 8, ("基金", "债券", "比较了解")),
        Option("熟悉股票、期货、衍生品", 10, ("股票", "期货", "衍生品", "非常熟悉", "很熟悉", "精通")),
    )),
    Question("max_loss", "您能接受的最大亏损是本金的多少？", (
        Option("不能亏损", 2, ("不能亏", "一分都不能亏", "不接受亏损", "零")),
        Option("10% 以内", 5, ("一成以内",)),
        Option("10%–30%", 8, ("一到三成",)),
        Option("30% 以上", 10, ("三成以上", "都可以", "无所谓")),
    ), unit="%|成", bounds=(0.001, 10, 30)),
    Question("outlook", "未来几年您的收入预期是？", (
        Option("可能减少", 2, ("减少", "下降", "变少", "不稳定")),
        Option("基本不变", 5, ("不变", "差不多", "持平", "稳定")),
        Option("稳步增长", 8, ("稳步增长", "增长", "会涨", "增加")),
        Option("大幅增长", 10, ("大幅增长", "快速增长", "大涨", "翻倍")),
    )),
)

_CN_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_LETTER = re.compile(r"^(?:我)?(?:选|选择|答|是|就)?\s*(?:选项)?\s*([a-dA-D])\s*(?:选项|项|吧|啊|的|。|\.|!|！)*$")
_NUMBER = re.compile(r"^(?:我)?(?:选|选择|答|是)?\s*(?:第)?\s*([1-4一二两三四])\s*(?:个|项|条|种|号|吧|。|\.)*$")
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万]+)\s*(?:个)?")
_BELOW = re.compile(r"以内|以下|之内|不到|不足|少于|低于|内$|之下|不超过")
_ABOVE = re.compile(r"以上|多于|超过|开外|往上")
_SEP = re.compile(r"[\s，,。.!！~～]+")


def level_for(score: int) -> str:
    """The level C1..C5 a score gives."""
    for top, level in BANDS:
        if score <= top:
            return level
    return BANDS[-1][1]


def score(answers: dict[str, str]) -> int:
    """The total of the options chosen; every question must be answered."""
    total = 0
    for question in QUESTIONS:
        letter = answers.get(question.key)
        if letter is None or letter not in LETTERS:
            raise ValueError(f"question {question.key} has no answer")
        total += question.options[LETTERS.index(letter)].points
    return total


def may_buy(level: str) -> tuple[str, ...]:
    """The product risk levels a customer level may buy: C3 -> (R1, R2, R3)."""
    return RISK_LEVELS[:LEVELS.index(level) + 1]


def suits(level: str, risk_level: str) -> bool:
    return risk_level in may_buy(level)


def describe(level: str) -> str:
    """"C3（平衡型）"."""
    return f"{level}（{LEVEL_NAMES[level]}）"


def may_buy_text(level: str) -> str:
    """"R1–R3 级（低至中风险）产品" in words for a reply."""
    allowed = may_buy(level)
    return "R1 级产品" if len(allowed) == 1 else f"R1–{allowed[-1]} 级产品"


def ask(index: int) -> str:
    """Question `index` (0-based) with its options, as a reply."""
    question = QUESTIONS[index]
    options = "\n".join(f"{LETTERS[i]}. {option.text}" for i, option in enumerate(question.options))
    return f"第 {index + 1}/{len(QUESTIONS)} 题：{question.text}\n{options}"


def read_answer(index: int, text: str) -> str | None:
    """The option letter a message chooses for question `index`, or None."""
    question = QUESTIONS[index]
    raw = text.strip()
    if not raw:
        return None
    if match := _LETTER.match(raw):
        return match.group(1).upper()
    if match := _NUMBER.match(raw):
        number = match.group(1)
        position = int(number) if number.isdigit() else _CN_ORDINALS[number]
        return LETTERS[position - 1]
    compact = _SEP.sub("", raw).lower()
    by_quantity = _by_quantity(question, compact)
    if by_quantity is not None:
        return by_quantity
    return _by_words(question, compact)


def _by_words(question: Question, compact: str) -> str | None:
    """The option whose words the message says (the longest match wins; a tie is no answer)."""
    best, length, tie = None, 0, False
    for i, option in enumerate(question.options):
        for word in (option.text, *option.words):
            word = _SEP.sub("", word).lower()
            if word and word in compact:
                if len(word) > length:
                    best, length, tie = LETTERS[i], len(word), False
                elif len(word) == length and LETTERS[i] != best:
                    tie = True
    return None if tie else best


def _by_quantity(question: Question, compact: str) -> str | None:
    """"35岁", "5到10年", "三年以上", "半年", "20%", "50万": the option whose range holds it.

    `bounds` are the lowest values of options B, C and D; a range ("5到10年") counts from its
    first number; "以上" lifts the value just over it, "以内/以下" just under it."""
    if question.unit is None or question.bounds is None:
        return None
    if not re.search(question.unit, compact) and not (question.key == "age" and compact.isdigit()
                                                        and 16 <= int(compact) <= 120):
        return None  # a bare number is an age, never an amount or a term
    if compact.startswith("半年"):
        value, tail = 0.5, compact[2:]
    else:
        match = _QUANTITY.search(compact)
        if match is None:
            return None
        number = match.group(1)
        parsed = float(number) if re.fullmatch(r"\d+(?:\.\d+)?", number) else parse_number(number)
        if parsed is None:
            return None
        value, tail = float(parsed), compact[match.end():]
        if question.key == "income" and tail.startswith("万"):
            value *= 10000
        if question.key == "horizon" and re.match(r"个?月", tail):
            value /= 12
        if tail.startswith("成"):
            value *= 10
    if _BELOW.search(compact):
        value -= 0.6
    elif _ABOVE.search(compact):
        value += 0.6
    chosen = 0
    for i, low in enumerate(question.bounds, start=1):
        if value >= low:
            chosen = i
    return LETTERS[chosen]
