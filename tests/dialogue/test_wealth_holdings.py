"""wealth.holdings: positions with cost, value, return and maturity."""
from tests.dialogue.conftest import WANG, ZHANG


def test_holdings_show_cost_value_return_and_maturity(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("我的理财收益多少")
    assert "示例稳盈半年定开" in reply and "本金 20,000.00 元" in reply and "市值 20,105.21 元" in reply
    assert "+105.21 元" in reply and "+0.53%" in reply and "到期日" in reply and "WM" in reply


def test_no_holdings(chat):
    c = chat()
    c.bind(WANG)
    assert "没有持有中的理财" in c.say("我的持仓")


def test_holdings_need_a_binding(chat):
    c = chat()
    assert "绑定" in c.say("我的理财")
