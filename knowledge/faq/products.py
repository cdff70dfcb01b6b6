"""FAQ look-alikes that differ by product, resolved by what the conversation knows.

Some entries answer the same question for different products: 信用卡 or 贷款 逾期记录多久消除,
a card or a loan refused, a debit account or a credit card closed. Their phrasings are the
same but for the product, so no ranking can tell them apart when the customer names none;
they stay apart (their answers differ) and are declared here, in one table (``GROUPS``),
each entry with its product.

When the FAQ's answer or clarification holds a member of a group, the members are narrowed by,
in order (``narrow``):

1. the question: the product it names ("贷款逾期记录…"), or a word only one member's answer
   is about (``Member.cues``: 管理费 is the debit card's); a question naming two products
   ("信用卡逾期会影响房贷吗") is left to the ranking;
2. the conversation: the product its last flow, intent, named product or answered entry was
   about (``DialogueState.topic_product``, kept by :func:`note` after every turn), or the
   business the current message asks for;
3. the bound customer's holdings (savings card, credit card, loans; read-only), except where
   holding a product says nothing (applying for one, a forgotten password).

One member left is answered; two or more are asked about in one short question naming the
difference ("您是想问信用卡还是贷款的逾期记录？"), with a button per product (numbered too, for
plain channels) and answered by tapping, a number or a word (:func:`picked`). A wrong answer is
worse than one question.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from knowledge.faq.store import FaqEntry

# --- products ------------------------------------------------------------------------------------
# Words that name a product (normalized text: Simplified, lower-case). A loan's kind names the
# loan too; a word only one product has (月供, 账单日) names it as well as its name does.
PRODUCT_WORDS = {
    "借记卡": r"借记卡|储蓄卡|借记|工资卡|存折|金融卡|提款卡|扣账卡|[一二三12]类(?:户|卡|账户)",
    "信用卡": r"信用卡|(?<![a-z])xyk(?![a-z])|贷记卡|白金卡|普卡|金卡|附属卡|副卡|账单日|最低还款|免息期|信用额度",
    "贷款": r"贷款|借款|月供|放款",
    "房贷": r"房贷|房代|按揭|住房贷款|房屋贷款|公积金贷",
    "消费贷": r"消费贷|e贷|信用贷",
    "车贷": r"车贷|汽车贷款|买车贷款|购车贷款",
    "经营贷": r"经营贷|经营性贷款|小微贷款",
    "存款": r"存款|定期|活期|存单|整存整取",
    "手机银行": r"手机银行|网银|网上银行|(?<![a-z])app(?![a-z])|登录密码|登不上",
}
PARENT = {"房贷": "贷款", "消费贷": "贷款", "车贷": "贷款", "经营贷": "贷款"}
_WORDS = {name: re.compile(words) for name, words in PRODUCT_WORDS.items()}
# The product a business is about (intent or flow name prefix).
BUSINESS_PRODUCT = {"card.": "信用卡", "loan.": "贷款"}
# A loan the customer holds, by its product code (data/kg.yaml).
LOAN_CODES = {"mortgage": "房贷", "consumer_loan": "消费贷", "car_loan": "车贷", "business_loan": "经营贷"}


def named_products(text: str) -> frozenset[str]:
    """The products ``text`` names, most specific only ("消费贷款" names 消费贷, not 贷款 too)."""
    text = text.lower()
    found = {name for name, pattern in _WORDS.items() if pattern.search(text)}
    return frozenset(found - {PARENT[name] for name in found if name in PARENT})


def covers(product: str, evidence: str) -> bool:
    """Whether an entry about ``product`` fits a customer known to be about ``evidence``: the same,
    a loan's kind for a loan in general, or a loan in general for any kind."""
    return product == evidence or PARENT.get(product) == evidence or PARENT.get(evidence) == product


def business_product(name: str | None) -> str | None:
    """The product an intent or flow is about ("card.bill" -> 信用卡), if any."""
    return next((product for prefix, product in BUSINESS_PRODUCT.items() if name and name.startswith(prefix)), None)


# --- the look-alike groups ---------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    entry_id: str
    product: str
    label: str = ""          # what the question calls it (default: the product)
    cues: str = ""           # a regex of words only this member's answer is about

    @property
    def name(self) -> str:
        return self.label or self.product


@dataclass(frozen=True)
class LookAlikes:
    """Entries answering one question for different products; ``topic`` ends the question
    asked between them ("您是想问信用卡还是贷款" + "的逾期记录" + "？")."""

    topic: str
    members: tuple[Member, ...]
    by_holdings: bool = True  # whether holding a product makes a member more likely

    def member(self, entry_id: str) -> Member | None:
        return next((m for m in self.members if m.entry_id == entry_id), None)


CARD, CREDIT, LOAN = "借记卡", "信用卡", "贷款"
GROUPS: tuple[LookAlikes, ...] = (
    LookAlikes("的逾期记录", (Member("credit-022", CREDIT), Member("loan-041", LOAN))),
    LookAlikes("逾期的后果", (Member("credit-015", CREDIT), Member("loan-037", LOAN))),
    LookAlikes("晚还几天算不算逾期", (Member("credit-016", CREDIT), Member("loan-038", LOAN, cues="宽限期"))),
    LookAlikes("申请没通过怎么办", (Member("credit-004", CREDIT), Member("loan-046", LOAN))),
    LookAlikes("怎么注销", (Member("account-018", CARD, "借记卡账户", cues="销户"), Member("credit-037", CREDIT))),
    LookAlikes("的年费", (Member("card-024", CARD, cues="管理费|小额账户"),
                         Member("credit-007", CREDIT, cues="减免|免年费|刷.{0,3}次"))),
    LookAlikes("的激活", (Member("card-023", CARD), Member("credit-009", CREDIT))),
    LookAlikes("到期换卡", (Member("card-012", CARD), Member("credit-041", CREDIT))),
    LookAlikes("在境外使用", (Member("card-029", CARD), Member("credit-034", CREDIT, cues="货币转换费|visa|万事达"))),
    LookAlikes("丢了怎么办", (Member("card-001", CARD), Member("credit-039", CREDIT, cues="失卡保障"))),
    LookAlikes("提前还款", (Member("loan-010", "房贷"), Member("loan-028", "消费贷"),
                          Member("credit-025", CREDIT, "信用卡分期", cues="分期"))),
    LookAlikes("怎么还款", (Member("credit-018", CREDIT), Member("loan-027", "消费贷", cues="借多久|随借随还"))),
    LookAlikes("审批要多久", (Member("credit-003", CREDIT), Member("loan-007", "房贷"), Member("loan-025", "消费贷")),
               by_holdings=False),
    LookAlikes("的申请条件", (Member("credit-001", CREDIT), Member("loan-023", "消费贷")), by_holdings=False),
    LookAlikes("需要什么材料", (Member("card-022", CARD), Member("credit-002", CREDIT), Member("loan-006", "房贷"),
                            Member("loan-024", "消费贷"), Member("loan-036", "车贷"), Member("loan-030", "经营贷")),
               by_holdings=False),
    LookAlikes("的利率会不会调整", (Member("deposit-030", "存款"), Member("loan-004", "房贷", cues="lpr|加点|重定价"))),
    LookAlikes("的密码", (Member("account-006", CARD, "银行卡"), Member("credit-042", CREDIT, cues="签名|凭密"),
                        Member("account-009", "手机银行", "手机银行登录")), by_holdings=False),
)
_GROUP_OF = {member.entry_id: group for group in GROUPS for member in group.members}


def group_of(entry_id: str) -> LookAlikes | None:
    return _GROUP_OF.get(entry_id)


def entry_product(entry: FaqEntry) -> str | None:
    """The product an entry is about: its group's, else the one its question names."""
    group = group_of(entry.id)
    if group is not None:
        return group.member(entry.id).product
    named = named_products(entry.question)
    return next(iter(named)) if len(named) == 1 else None


# --- evidence and narrowing ------------------------------------------------------------------------
@dataclass
class Evidence:
    """What is known besides the question's words, in the order it is trusted."""

    text: str                                              # the question, normalized
    conversation: str | None = None                        # the product the conversation is about
    holdings: Callable[[], frozenset[str] | None] = lambda: None   # None: not bound (asked lazily)
    _held: frozenset[str] | None = field(default=None, init=False)
    _asked: bool = field(default=False, init=False)

    def held(self) -> frozenset[str] | None:
        if not self._asked:
            self._held, self._asked = self.holdings(), True
        return self._held


By = Literal["question", "conversation", "holdings"]


def narrow(group: LookAlikes, members: Sequence[Member], evidence: Evidence) -> tuple[list[Member], By | None] | None:
    """The members the evidence leaves, and the last kind of evidence that removed some (None:
    nothing did). None when the question is not about one of these products (it names another,
    or two): the ranking's choice stands."""
    found = _by_question(members, evidence.text)
    if found is None:
        return None
    left, by = found
    sources: list[tuple[By, Callable[[], Iterable[str] | None]]] = [
        ("conversation", lambda: [evidence.conversation] if evidence.conversation else None)]
    if group.by_holdings:
        sources.append(("holdings", evidence.held))
    for kind, source in sources:
        if len(left) == 1:
            break
        known = source()
        kept = [m for m in left if any(covers(m.product, p) for p in known or ())]
        if kept and len(kept) < len(left):
            left, by = kept, kind
    return left, by


def _by_question(members: Sequence[Member], text: str) -> tuple[list[Member], By | None] | None:
    """The members the question's own words leave: the product it names, else a word only one
    member's answer is about; None when it names another product, or two."""
    named = named_products(text)
    if len(named) > 1:
        return None
    if named:
        product = next(iter(named))
        left = [m for m in members if covers(m.product, product)]
        return (left, "question" if len(left) < len(members) else None) if left else None
    cued = [m for m in members if m.cues and re.search(m.cues, text)]
    return (cued, "question") if len(cued) == 1 else (list(members), None)


@dataclass(frozen=True)
class Resolution:
    """What to say instead of the ranking's decision."""

    kind: Literal["answer", "ask", "clarify"]
    entries: tuple[FaqEntry, ...]
    by: By | None = None
    group: LookAlikes | None = None     # what "ask" asks between

    @property
    def names(self) -> list[str]:
        """What the question calls the options ("信用卡", "贷款"): its buttons' words."""
        return [self.group.member(e.id).name for e in self.entries]

    def question(self) -> str:
        """"您是想问信用卡还是贷款的逾期记录？" with the options numbered, for channels without buttons."""
        names = self.names
        both = "还是".join(names) if len(names) == 2 else "、".join(names[:-1]) + "还是" + names[-1]
        lines = [f"您是想问{both}{self.group.topic}？"]
        lines += [f"{number}. {name}" for number, name in enumerate(names, start=1)]
        lines.append("回复序号或直接说即可。")
        return "\n".join(lines)


def resolve(kind: str, chosen: Sequence[FaqEntry], get: Callable[[str], FaqEntry | None],
            evidence: Evidence) -> Resolution | None:
    """Resolve the look-alikes among ``chosen`` (the entry answered, or the options of a
    clarification; ``kind`` says which) by ``evidence``; None when nothing changes."""
    ids = [entry.id for entry in chosen]
    groups = list(dict.fromkeys(g for g in map(group_of, ids) if g is not None))
    if kind not in ("answer", "clarify") or not groups:
        return None
    result, by = list(ids), None
    for group in groups:
        members = [m for m in group.members if get(m.entry_id) is not None]
        narrowed = narrow(group, members, evidence) if len(members) > 1 else None
        one_topic = all(group_of(i) is group for i in ids)  # "年费": which card's, then
        if narrowed is None or (kind == "clarify" and narrowed[1] is None and not one_topic):
            continue  # a clarification of several topics lists what the ranking found, unless evidence says more
        left, by = narrowed[0], narrowed[1] or by
        at = min(result.index(i) for i in ids if i in result and group.member(i))
        result = [i for i in result if not group.member(i)]
        result[at:at] = [m.entry_id for m in left]
    entries = tuple(e for e in map(get, dict.fromkeys(result)) if e is not None)  # None: edited away meanwhile
    unchanged = [e.id for e in entries] == ids
    if not entries or (unchanged and (kind == "answer" or len(entries) == 1)):
        return None
    if len(entries) == 1:
        return Resolution("answer", entries, by)
    group = group_of(entries[0].id)
    if group is not None and all(group.member(e.id) for e in entries):
        return Resolution("ask", entries, by, group)
    return None if unchanged else Resolution("clarify", entries, by)


# --- what the conversation and the customer say ----------------------------------------------------
BUSINESS_SURE = 0.5  # the policy's own bar for taking a message as the business it reads as


def evidence_of(ctx, text: str) -> Evidence:
    """The evidence of a dialogue turn (``ctx``: chatbot.dialogue.context.FlowContext): the
    business this message asks for or the flow under way, else what the conversation was last
    about; the customer's holdings when asked."""
    intent = ctx.parse.intent
    asked = business_product(intent.name) if intent.confidence >= BUSINESS_SURE else None
    conversation = asked or business_product(ctx.state.active_flow) or ctx.state.topic_product
    return Evidence(text, conversation, lambda: holdings(ctx))


def holdings(ctx) -> frozenset[str] | None:
    """The products the bound customer holds (read-only); None when nobody is bound."""
    if ctx.customer_id is None:
        return None
    kinds = {"savings": CARD, "credit": CREDIT}
    held = {kinds[a.kind] for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind in kinds}
    held |= {LOAN_CODES.get(loan.product_code, LOAN) for loan in ctx.bank.loans(ctx.customer_id)
             if loan.status != "closed"}
    return frozenset(held)


def note(ctx) -> None:
    """After a turn: remember the product it was about, if it said (``state.topic_product``).
    The product named in the message, else the FAQ entry answered (the desk notes it), else the
    flow started or under way, else the business the message was read as."""
    named = named_products(ctx.parse.normalized)
    if len(named) == 1:
        ctx.state.topic_product = next(iter(named))
        return
    if any(step["action"] == "faq_answer" for step in ctx.steps):
        return
    started = [step.get("flow") for step in ctx.steps if step["action"] == "flow_started"]
    intent = ctx.parse.intent
    for name in (*reversed(started), ctx.state.active_flow,
                 intent.name if intent.confidence >= BUSINESS_SURE else None):
        if product := business_product(name):
            ctx.state.topic_product = product
            return


# --- the customer's reply ------------------------------------------------------------------------
_FILLER = re.compile(r"我想问的是|我问的是|我想问|就是|是|的|那个|这个|吧|呀|啊|呢|哈|嗯|哦|了|问")


def picked(reply: str, offered: Sequence[FaqEntry]) -> FaqEntry | None:
    """The offered entry a reply names by its product ("贷款", "信用卡的", "问贷款的逾期记录"):
    one entry of the offered whose product the reply names, and nothing else in the reply but
    fillers and words of the question asked. None otherwise ("信用卡账单多少" is a new message)."""
    named = named_products(reply)
    if len(named) != 1:
        return None
    product = next(iter(named))
    fits = [e for e in offered if (p := entry_product(e)) and covers(p, product)]
    if len(fits) != 1:
        return None
    rest = re.sub(r"[\W_]+", "", _FILLER.sub("", _WORDS_ANY.sub("", reply)))
    topics = [group.topic for group in map(group_of, (e.id for e in offered)) if group]
    return fits[0] if set(rest) <= set("".join(e.question for e in offered) + "".join(topics)) else None


_WORDS_ANY = re.compile("|".join(f"(?:{words})" for words in PRODUCT_WORDS.values()))
