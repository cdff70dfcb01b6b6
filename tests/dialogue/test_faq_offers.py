"""An FAQ answer about business the chat can do ends with the offer to do it (the entry's
`offers`), whichever way the question reached the FAQ; "好的" starts it, "不用了" does not."""
import pytest

import chatbot.dialogue.flows  # noqa: F401 (registers the flows)
from chatbot.dialogue.forms import FLOWS
from chatbot.settings import DATA_DIR
from knowledge.faq.store import FaqEntryError, load_faq, validate_entry


def test_every_offered_business_is_a_flow_of_the_chat():
    offered = {entry.id: entry.offers for entry in load_faq(DATA_DIR / "faq.yaml") if entry.offers}
    assert len(offered) >= 20
    assert {k: v for k, v in offered.items() if v not in FLOWS} == {}


def test_offers_must_name_an_intent():
    entry = {"id": "x", "question": "q", "answer": "a", "category": "c"}
    assert validate_entry({**entry, "offers": "card.repay"}).offers == "card.repay"
    assert validate_entry({**entry, "offers": None}).offers is None
    with pytest.raises(FaqEntryError, match="offers"):
        validate_entry({**entry, "offers": "还信用卡"})


def test_how_to_answer_offers_the_business_and_yes_starts_it(chat):
    c = chat()
    reply = c.say("怎么查询账户余额？")
    assert "如需我直接帮您查询余额，请告诉我。" in reply
    reply = c.say("好的")
    assert "需要先绑定" in reply and c.flow == "account.bind"


def test_declining_the_offer_starts_nothing(chat):
    c = chat()
    c.bind()
    assert "如需我直接帮您转账，请告诉我。" in c.say("转账需要知道对方哪些信息？")
    reply = c.say("不用了")
    assert c.flow is None and "还有什么可以帮您" in reply


def test_a_bound_customer_is_not_offered_binding_again(chat):
    c = chat()
    assert "如需我直接帮您绑定账户，请告诉我。" in c.say("怎么在本公众号绑定我的银行身份？")
    c.say("不用了")
    c.bind()
    reply = c.say("怎么在本公众号绑定我的银行身份？")
    assert "直接帮您绑定账户" not in reply and c.flow is None


def test_an_answer_without_business_offers_nothing(chat):
    c = chat()
    reply = c.say("网点几点开门？")
    assert "如需我直接帮您" not in reply and c.last["state"].get("active_flow") is None
