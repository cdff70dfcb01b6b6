"""Clarification wording and reading the customer's pick (number or words)."""
import pytest

from knowledge.faq.clarify import format_clarification, format_not_found, resolve_choice

OFFERED = ["card-006", "card-014", "card-009"]


def test_clarification_lists_numbered_questions(faq_entries):
    by_id = {e.id: e for e in faq_entries}
    text = format_clarification([by_id[i] for i in OFFERED])
    assert text == ("您是想问：\n1. ATM 吞卡后如何取回？\n2. 银行卡被司法冻结了怎么办？\n"
                    "3. 卡片消磁无法使用怎么办？\n回复序号即可。")


def test_clarification_accepts_hits(retriever):
    hits = retriever.decide("吞卡的事情").options
    assert hits
    assert format_clarification(hits).splitlines()[1] == f"1. {hits[0].entry.question}"


def test_not_found_is_kind_and_offers_a_person():
    text = format_not_found()
    assert text.startswith("抱歉") and "人工" in text


@pytest.mark.parametrize(("reply", "expected"), [
    ("1", "card-006"), ("2.", "card-014"), ("②", "card-014"), ("二", "card-014"),
    ("第二个", "card-014"), ("３", "card-009"), ("选3", "card-009"), ("我选第一个吧", "card-006"),
    ("（2）", "card-014"), ("1。", "card-006"), ("最后一个", "card-009"), ("第3条", "card-009"),
    ("吞卡那个", "card-006"), ("冻结", "card-014"), ("是消磁的问题", "card-009"),
])
def test_resolve_choice(faq_entries, reply, expected):
    assert resolve_choice(reply, OFFERED, faq_entries).id == expected


@pytest.mark.parametrize("reply", ["4", "第五个", "0", "卡", "你好", "two", "", "？"])
def test_no_choice_or_an_ambiguous_one_is_none(faq_entries, reply):
    assert resolve_choice(reply, OFFERED, faq_entries) is None


def test_a_choice_from_a_list_that_changed_is_none(faq_entries):
    by_id = {e.id: e for e in faq_entries}
    del by_id["card-014"]  # an admin removed it after the question was offered
    assert resolve_choice("1", OFFERED, by_id) is None
