"""FAQ look-alikes by product (knowledge/faq/products.py): the table, the evidence, the reply.

No index is built: the decisions are given as the ranking would make them.
"""
import pytest

from knowledge.faq import products
from knowledge.faq.clarify import resolve_choice, says_neither
from knowledge.faq.products import GROUPS, Evidence, named_products, narrow, picked, resolve


@pytest.fixture(scope="module")
def by_id(faq_entries):
    return {entry.id: entry for entry in faq_entries}


def test_every_member_is_an_entry_of_the_shipped_faq_and_in_one_group_only(by_id):
    members = [member for group in GROUPS for member in group.members]
    assert [m.entry_id for m in members if m.entry_id not in by_id] == []
    assert len({m.entry_id for m in members}) == len(members)
    for group in GROUPS:
        names = [m.name for m in group.members]
        assert len(set(names)) == len(names) and all(m.product in products.PRODUCT_WORDS for m in group.members)


def test_every_member_answers_for_its_own_product(by_id):
    """A member whose question names a product names its own (or a kind of it)."""
    for group in GROUPS:
        for member in group.members:
            named = named_products(by_id[member.entry_id].question.lower())
            assert all(products.covers(member.product, p) for p in named), (member, named)


@pytest.mark.parametrize(("text", "named"), [
    ("逾期记录多久能消除", set()),
    ("信用卡逾期记录多久能消除", {"信用卡"}),
    ("消费贷款逾期了", {"消费贷"}),           # the kind, not 贷款 as well
    ("按揭晚还了两天", {"房贷"}),
    ("月供晚还了两天", {"贷款"}),
    ("xyk逾期了会怎样", {"信用卡"}),
    ("信用卡逾期会影响房贷吗", {"信用卡", "房贷"}),
    ("信用贷被拒了", {"消费贷"}),           # 信用 is not 信用卡
])
def test_named_products(text, named):
    assert named_products(text) == named


def group(topic):
    return next(g for g in GROUPS if g.topic == topic)


RECORDS = group("的逾期记录")
APPROVAL = group("审批要多久")
BOTH = frozenset({"借记卡", "信用卡", "消费贷"})


def left(found):
    return None if found is None else ([m.entry_id for m in found[0]], found[1])


@pytest.mark.parametrize(("text", "conversation", "held", "expected"), [
    ("逾期记录多久能消除", None, None, (["credit-022", "loan-041"], None)),
    ("贷款逾期记录多久能消除", "信用卡", BOTH, (["loan-041"], "question")),      # the question first
    ("房贷逾期记录多久能消", None, None, (["loan-041"], "question")),             # a kind of loan
    ("逾期记录多久能消除", "信用卡", frozenset({"借记卡", "消费贷"}), (["credit-022"], "conversation")),
    ("逾期记录多久能消除", "理财", frozenset({"借记卡", "消费贷"}), (["loan-041"], "holdings")),
    ("逾期记录多久能消除", None, BOTH, (["credit-022", "loan-041"], None)),    # holds both: ask
    ("逾期记录多久能消除", None, frozenset({"借记卡"}), (["credit-022", "loan-041"], None)),  # neither
    ("信用卡逾期会影响房贷吗", None, None, None),                                  # two products: the ranking's
    ("存款逾期记录", None, None, None),                                            # another product
])
def test_narrowing_by_question_conversation_and_holdings(text, conversation, held, expected):
    members = RECORDS.members
    assert left(narrow(RECORDS, members, Evidence(text, conversation, lambda: held))) == expected


def test_holding_a_product_says_nothing_about_applying_for_one():
    found = narrow(APPROVAL, APPROVAL.members, Evidence("审批要多久", "贷款", lambda: BOTH))
    assert left(found) == (["loan-007", "loan-025"], "conversation")


def test_a_word_only_one_answer_is_about_pins_it():
    fees = group("的年费")
    found = narrow(fees, fees.members, Evidence("小额账户管理费收吗", "信用卡", lambda: BOTH))
    assert left(found) == (["card-024"], "question")


def test_holdings_are_asked_only_when_needed():
    asked = []
    evidence = Evidence("信用卡逾期记录多久能消除", None, lambda: asked.append(1) or BOTH)
    narrow(RECORDS, RECORDS.members, evidence)
    assert asked == []


def test_resolve_answers_asks_or_leaves_the_ranking_alone(by_id):
    get = by_id.get
    entry = by_id["loan-041"]
    card = Evidence("逾期记录多久能消除", "信用卡")
    assert resolve("answer", [entry], get, card).entries == (by_id["credit-022"],)
    assert resolve("answer", [entry], get, Evidence("逾期记录多久能消除", "贷款")) is None  # already right
    asked = resolve("answer", [entry], get, Evidence("逾期记录多久能消除"))
    assert asked.kind == "ask" and [e.id for e in asked.entries] == ["credit-022", "loan-041"]
    assert asked.question() == "您是想问信用卡还是贷款的逾期记录？\n1. 信用卡\n2. 贷款\n回复序号或直接说即可。"
    assert resolve("answer", [by_id["card-006"]], get, card) is None          # no look-alikes
    assert resolve("not_found", [], get, card) is None


def test_a_clarification_keeps_its_options_unless_evidence_says_more(by_id):
    get = by_id.get
    options = [by_id["credit-015"], by_id["loan-037"], by_id["card-006"]]
    assert resolve("clarify", options, get, Evidence("逾期了会怎样")) is None
    narrowed = resolve("clarify", options, get, Evidence("逾期了会怎样", "贷款"))
    assert narrowed.kind == "clarify" and [e.id for e in narrowed.entries] == ["loan-037", "card-006"]
    only_group = resolve("clarify", options[:2], get, Evidence("逾期了会怎样"))
    assert only_group.kind == "ask" and only_group.group.topic == "逾期的后果"


def test_an_entry_edited_away_is_never_offered(by_id):
    get = {k: v for k, v in by_id.items() if k != "loan-041"}.get
    assert resolve("answer", [by_id["credit-022"]], get, Evidence("逾期记录多久能消除")) is None


@pytest.mark.parametrize(("reply", "expected"), [
    ("贷款", "loan-041"), ("信用卡的", "credit-022"), ("我问的是贷款的逾期记录", "loan-041"),
    ("信用卡逾期记录会在征信上保留多久", "credit-022"),   # a button sending the entry's question
    ("信用卡账单多少", None),                            # another question
    ("信用卡和贷款", None), ("理财", None),
])
def test_a_reply_naming_the_product(by_id, reply, expected):
    found = picked(reply, [by_id["credit-022"], by_id["loan-041"]])
    assert (found.id if found else None) == expected


def test_the_choice_reads_a_number_then_a_product_then_words(by_id):
    offered = ["credit-022", "loan-041"]
    assert resolve_choice("2", offered, by_id, by_product=picked).id == "loan-041"
    assert resolve_choice("贷款", offered, by_id, by_product=picked).id == "loan-041"
    assert resolve_choice("贷款逾期记录几年消", offered, by_id, by_product=picked).id == "loan-041"


@pytest.mark.parametrize(("reply", "neither"), [("都不是", True), ("两个都不是。", True), ("不是", True),
                                               ("不是这个是那个", False), ("贷款", False)])
def test_neither(reply, neither):
    assert says_neither(reply) is neither


def test_a_clarification_of_one_topic_asks_which_product(by_id):
    """"年费" alone: the ranking offers the credit card's fee; whose fee is the question."""
    asked = resolve("clarify", [by_id["credit-007"]], by_id.get, Evidence("年费"))
    assert asked.kind == "ask" and [e.id for e in asked.entries] == ["card-024", "credit-007"]
    assert resolve("clarify", [by_id["credit-007"]], by_id.get, Evidence("年费", "信用卡")) is None  # as offered
