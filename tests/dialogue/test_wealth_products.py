"""wealth.products: filters, suitability for a bound customer, everything for a visitor."""
from tests.dialogue.conftest import WANG, ZHANG


def test_visitor_sees_all_on_sale_and_hears_an_assessment_is_needed(chat):
    reply = chat().say("有什么理财产品")
    assert "示例天天宝" in reply and "示例量化对冲1号" in reply
    assert "示例商品CTA2号" not in reply  # paused
    assert "风险测评" in reply and "业绩比较基准不代表实际收益" in reply


def test_filters_by_term_and_risk(chat):
    reply = chat().say("有没有三个月以内的稳健理财")
    assert "示例天天宝" in reply and "示例安心30天持有" in reply
    assert "示例稳盈半年定开" not in reply and "示例平衡增利" not in reply


def test_filters_by_amount(chat):
    reply = chat().say("一千块有什么理财推荐")
    assert "示例天天宝" in reply and "示例稳健一年封闭" not in reply  # 10,000.00 起购


def test_bound_customer_sees_suitable_first_and_the_rest_marked(chat):
    c = chat()
    c.bind(ZHANG)  # C3
    reply = c.say("推荐几款理财")
    suitable, _, above = reply.partition("超出您的风险等级")
    assert "C3（平衡型）" in suitable and "示例平衡增利" in suitable and "示例稳盈半年定开" in suitable
    assert "示例进取权益精选" not in suitable and "示例进取权益精选" in above and "示例量化对冲1号" in above


def test_bound_customer_without_assessment_is_told(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("有什么理财产品")
    assert "还没有做过风险测评" in reply and "示例天天宝" in reply
