"""FAQ retrieval: paraphrases, calibrated scores, the three outcomes, index swaps."""
import dataclasses

import pytest

from chatbot.errors import InvalidInput
from knowledge.faq.retrieve import ANSWER_THRESHOLD, CLARIFY_OPTION_MIN, CLARIFY_THRESHOLD, FaqRetriever
from knowledge.faq.store import FaqEntry


@pytest.mark.parametrize(("text", "expected"), [
    ("我的卡丢了要怎么挂失", "card-001"),          # paraphrase, not in the file
    ("忘记银行卡密码了怎么办", "account-006"),
    ("转错账了能追回吗", "transfer-011"),
    ("附近有网点吗", "branch-004"),
    ("理财会亏本吗", "wealth-019"),
    ("大额存单起存金额是多少", "deposit-013"),
    ("銀行卡遺失要怎麼掛失", "card-001"),            # Traditional, normalized first
    ("ＡＴＭ吞卡怎么拿回来", "card-006"),            # full-width letters
    ("ATM把我的卡吞了", "card-006"),                # own or another bank's ATM: one entry since issue 21
    ("办xyk要满足啥", "credit-001"),
])
def test_paraphrases_find_their_entry(retriever, text, expected):
    hits = retriever.search(text, top_k=3)
    assert hits[0].entry.id == expected


def test_hits_are_ranked_calibrated_and_shaped_for_the_http_route(retriever):
    hits = retriever.search("信用卡年费多少", top_k=5)
    assert len(hits) == 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    entry = hits[0].entry
    assert hits[0].matched in (*entry.phrasings, *retriever.training[entry.id])
    assert set(hits[0].to_dict()) == {"id", "question", "answer", "score"}


def test_an_exact_phrasing_is_near_certain(retriever, faq_entries):
    for entry in faq_entries[::40]:
        hit = retriever.search(entry.question, top_k=1)[0]
        assert hit.entry.id == entry.id and hit.score >= ANSWER_THRESHOLD


def test_pre_normalized_text_and_tokens_give_the_same_hits(retriever):
    from chatbot.nlu.normalize import default_normalizer
    from chatbot.nlu.segment import default_segmenter

    normalized = default_normalizer().normalize("卡被吞了咋辦").text
    tokens = default_segmenter().cut(normalized)
    direct = retriever.search("卡被吞了咋辦")
    reused = retriever.search(normalized, tokens=tokens)
    assert [(h.entry.id, h.score) for h in reused] == [(h.entry.id, h.score) for h in direct]


@pytest.mark.parametrize("top_k", [0, -1, 51])
def test_top_k_out_of_range_is_invalid_input(retriever, top_k):
    with pytest.raises(InvalidInput):
        retriever.search("年费", top_k=top_k)


def test_answer_outcome(retriever):
    decision = retriever.decide("卡丢了咋办")
    assert decision.kind == "answer" and decision.entry.id == "card-001"
    assert decision.hits[0].score >= ANSWER_THRESHOLD and decision.options == ()


def test_clarify_outcome_offers_the_plausible_questions(retriever):
    # A topic, not a question: fetch the card (card-006, from our ATM or another bank's) or too
    # late to fetch it (card-008). The filler words (的事情) must not sink it to "not found".
    decision = retriever.decide("吞卡的事情")
    assert decision.kind == "clarify" and decision.entry is None
    assert {"card-006", "card-008"} <= {h.entry.id for h in decision.options}
    assert CLARIFY_THRESHOLD <= decision.hits[0].score < ANSWER_THRESHOLD
    assert all(h.score >= CLARIFY_OPTION_MIN for h in decision.options)


def test_a_bare_keyword_is_clarified_not_answered(retriever):
    decision = retriever.decide("年费")
    assert decision.kind == "clarify"
    assert "credit-007" in {h.entry.id for h in decision.options}  # the fee and its waiver: one entry (issue 21)


@pytest.mark.parametrize("text", ["今天天气怎么样", "帮我写个python排序", "？？？", ""])
def test_not_found_outcome_keeps_candidates_for_analysts(retriever, text):
    decision = retriever.decide(text)
    assert decision.kind == "not_found" and decision.options == ()
    record = decision.to_dict()
    assert record["kind"] == "not_found" and len(record["candidates"]) == len(decision.hits) <= 3
    assert all(0 <= c["score"] < CLARIFY_THRESHOLD for c in record["candidates"])


# Each rebuild refits the ranking over every entry it holds (seconds for the whole file): the
# rebuild tests below work on the first few dozen entries.
SOME = 40


def test_with_entries_adds_an_entry_without_touching_the_running_index(retriever, faq_entries):
    new = FaqEntry("new-001", "数字人民币钱包怎么开通？", ("怎么开数字人民币", "数币钱包在哪开"),
                   "在示例银行手机银行“数字人民币”页面即可开通。", "账户服务", ("数字人民币",))
    updated = retriever.with_entries([*faq_entries[:SOME], new])
    assert updated is not retriever and updated.get("new-001") == new
    assert updated.search("数字人民币钱包在哪里开通", top_k=1)[0].entry.id == "new-001"
    assert retriever.get("new-001") is None
    assert all(h.entry.id != "new-001" for h in retriever.search("数字人民币钱包在哪里开通"))


def test_with_entries_drops_a_removed_or_edited_entry(retriever, faq_entries):
    kept = [e for e in faq_entries[:SOME] if e.id != "card-006"]
    edited = [dataclasses.replace(e, answer="新答案") if e.id == "card-001" else e for e in kept]
    updated = retriever.with_entries(edited)
    assert updated.get("card-006") is None
    assert all(h.entry.id != "card-006" for h in updated.search("ATM 吞卡后如何取回？", top_k=10))
    assert updated.search("卡丢了咋办", top_k=1)[0].entry.answer == "新答案"


def test_a_rebuild_reuses_the_analysis_of_unchanged_texts(retriever, faq_entries):
    first = retriever.with_entries(faq_entries[:SOME])
    second = first.with_entries(faq_entries[1:SOME])
    skipped = len(faq_entries[0].phrasings) + len(retriever.training.get(faq_entries[0].id, ()))
    assert second.index.phrasings[0] is first.index.phrasings[skipped]
    fresh = retriever.analyzer.analyze(faq_entries[1].question)
    assert second.index.phrasings[0] == fresh


def test_duplicate_ids_and_an_empty_faq_are_refused(faq_entries, retriever):
    with pytest.raises(InvalidInput, match="duplicate FAQ id 'card-001'"):
        FaqRetriever([faq_entries[0], faq_entries[0]])
    with pytest.raises(InvalidInput, match="at least one entry"):
        retriever.with_entries([])


def test_a_tiny_index_still_works():
    entries = [FaqEntry("a", "挂失怎么办理？", (), "答案一", "c"), FaqEntry("b", "转账限额是多少？", (), "答案二", "c")]
    retriever = FaqRetriever(entries)
    assert retriever.search("转账限额多少", top_k=1)[0].entry.id == "b"
    single = FaqRetriever(entries[:1])
    assert single.search("挂失怎么办理", top_k=5)[0].entry.id == "a"
