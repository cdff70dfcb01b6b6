"""Wealth products as rich items (chatbot/wealth/cards.py, docs/rich_replies.md): a card per
product of a list with 了解详情 / 购买, a detail card for one product, a comparison table when
the customer asks to compare; the plain text stays the list it always was, and every tap
sends words the bot understands as typed."""
import pytest

from tests.api.test_rich_replies import _bind


@pytest.fixture
def say(client):
    def send(user_id, text):
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text, "rich": True})
        assert response.status_code == 200, response.text
        return response.json()["replies"]
    return send


def _cards(items):
    return [item for item in items if item["type"] == "card"]


def _sends(item):
    return {button["label"]: button.get("send") for button in item.get("buttons", [])}


def test_a_visitor_gets_a_card_per_product_on_sale_with_details_and_buy(say, client):
    items = say("wealth-card-visitor", "有什么理财产品")
    cards = _cards(items)
    assert [card["title"] for card in cards][:2] == ["示例天天宝", "示例安心30天持有"]
    assert "示例商品CTA2号" not in {card["title"] for card in cards}  # paused: never offered
    first = cards[0]
    assert {row["label"] for row in first["rows"]} == {"风险等级", "业绩比较基准", "期限", "起购金额"}
    assert {"label": "风险等级", "value": "R1 低风险"} in first["rows"]
    assert {"label": "起购金额", "value": "1.00 元"} in first["rows"]
    details, buy = first["buttons"]
    assert details == {"label": "了解详情", "url": first["product"]["url"]} and buy["label"] == "购买"
    assert details["url"].startswith("/static/product.html?code=") and first["product"]["kind"] == "wealth"
    assert first["text"].startswith("1. 示例天天宝（R1 低风险）：业绩比较基准")
    # The plain text (what the terminal and plain clients read) is still the whole list.
    plain = "\n".join(item["text"] for item in items)
    assert "业绩比较基准不代表实际收益" in plain and "风险测评" in plain
    again = client.post("/v1/chat", json={"user_id": "wealth-card-plain", "text": "有什么理财产品"}).json()
    assert "\n".join(item["text"] for item in again["replies"]) == plain
    assert all(set(item) == {"type", "text"} for item in again["replies"])


def test_one_product_asked_about_is_a_detail_card_and_the_buy_tap_starts_the_purchase(say, database):
    _bind(database, "wealth-card-zhang")  # C3
    cards = _cards(say("wealth-card-zhang", "推荐理财"))
    titles = [card["title"] for card in cards]
    assert "示例平衡增利" in titles and "示例进取权益精选" not in titles  # R4: above C3, a text line only
    detail_items = say("wealth-card-zhang", "查看理财产品示例天天宝")
    [detail] = _cards(detail_items)
    assert detail["title"] == "示例天天宝" and detail["product"]["code"]
    labels = [row["label"] for row in detail["rows"]]
    assert labels[:5] == ["风险等级", "适合客户", "业绩比较基准", "期限", "起购金额"] and len(labels) <= 6
    assert "可以购买" in detail_items[-1]["text"] and "投资须谨慎" in detail_items[-1]["text"]
    [amount_question] = say("wealth-card-zhang", _sends(detail)["购买"])
    assert "购买多少" in amount_question["text"] and "示例天天宝" in amount_question["text"]
    say("wealth-card-zhang", "取消")


def test_every_buy_button_starts_the_purchase_of_its_product(client, say, database):
    """A tap sends words the bot understands as typed: 买<product> names the product."""
    for n, card in enumerate(_cards(say("wealth-card-all", "有什么理财产品"))):
        user = f"wealth-card-buy-{n}"
        _bind(database, user)
        replies = say(user, _sends(card)["购买"])
        said = "".join(item["text"] for item in replies)
        # 张伟 is C3: a product within it asks the amount, one above it is refused with the reason.
        assert card["title"] in said and ("请问购买多少" in said or "不能购买" in said), said


def test_a_product_above_the_customers_level_has_no_buy_button(say, database):
    _bind(database, "wealth-card-above")  # C3
    items = say("wealth-card-above", "示例量化对冲1号的产品信息")
    [detail] = _cards(items)
    assert "购买" not in _sends(detail) and _sends(detail)["看看其他产品"] == "推荐理财"
    assert "超出您的风险等级" in items[-1]["text"]


def test_asking_to_compare_gives_one_table(say):
    items = say("wealth-card-compare", "在售理财产品比较一下")
    [table] = [item for item in items if item["type"] == "table"]
    assert table["columns"] == ["产品", "风险等级", "业绩比较基准", "期限", "起购金额"]
    assert table["rows"][0][:2] == ["示例天天宝", "R1 低风险"] and len(table["rows"]) >= 8
    assert not _cards(items)
    assert "1. 示例天天宝（R1 低风险）" in table["text"]


@pytest.mark.parametrize("text", ["理财推荐：示例天天宝和示例稳健一年封闭比较一下", "示例天天宝和示例稳健一年封闭对比一下"])
def test_two_products_named_are_compared_in_a_table(say, text):
    """The wealth flow (products as rows) or the knowledge graph (products as columns)."""
    items = say("wealth-card-two", text)
    [table] = [item for item in items if item["type"] == "table"]
    cells = {cell for row in table["rows"] for cell in row} | set(table["columns"])
    assert {"示例天天宝", "示例稳健一年封闭"} <= cells and "示例平衡增利" not in cells


def test_the_wealth_flow_compares_the_products_a_message_names():
    from chatbot.dialogue.flows.wealth_products import _named_products

    class View:
        def __init__(self, name, aliases=()):
            self.name, self.aliases = name, aliases

    a, b, c = View("示例天天宝", ("天天宝",)), View("示例稳健一年封闭", ("稳健一年",)), View("示例稳健", ())
    found = [a, b, c]
    assert _named_products(found, "稳健一年 和 天天宝 比一比") == [a, b]  # the graph's order
    assert _named_products(found, "示例稳健一年封闭") == [b]  # a longer name hides the shorter one inside it
    assert _named_products(found, "理财") == []


@pytest.mark.parametrize("text", ["R9的理财", "理财产品<script>", "一块钱能买什么理财"])
def test_off_script_questions_still_get_an_answer(say, text):
    items = say("wealth-card-odd", text)
    assert items and all(item["text"].strip() for item in items)


def test_the_credit_card_choice_has_a_button_per_card_and_a_tap_picks_it(say, database):
    """card.apply's product question (in WeChat: its numbered text): 普卡 / 金卡 / 白金卡 as buttons."""
    _bind(database, "card-choice")
    question = say("card-choice", "我想办信用卡")[-1]
    assert question["type"] == "buttons" and "请问申请哪一张" in question["text"]
    names = [button["send"] for button in question["buttons"]]
    assert names[:3] == ["普卡", "金卡", "白金卡"]
    after = say("card-choice", "金卡")
    assert "以下信息将按您在本行登记的资料填写" in after[-1]["text"]
    say("card-choice", "取消")


def test_compare_words_understood_as_a_purchase_still_compare_and_buy_nothing(client, database):
    """"对比一下天天宝和安心30天" may reach wealth.buy: it answers the table, no purchase starts."""
    _bind(database, "wealth-card-buy-compare")
    answer = client.post("/v1/chat", json={"user_id": "wealth-card-buy-compare", "text": "对比一下天天宝和安心30天",
                                           "rich": True}).json()
    [table] = [item for item in answer["replies"] if item["type"] == "table"]
    assert {row[0] for row in table["rows"]} >= {"示例天天宝", "示例安心30天持有"} or \
        {"示例天天宝", "示例安心30天持有"} <= set(table["columns"])
    assert answer["state"]["active_flow"] is None
    assert not any("购买多少" in item["text"] for item in answer["replies"])
