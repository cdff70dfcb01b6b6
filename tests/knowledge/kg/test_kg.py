"""Knowledge graph: the file, entity linking, and answers of each kind (or None)."""
import re
import textwrap

import pytest

from chatbot.settings import DATA_DIR
from knowledge.kg.answer import KgAnswerer
from knowledge.kg.link import EntityLinker, term_months
from knowledge.kg.load import KgFileError, KnowledgeGraph


# --- the file -------------------------------------------------------------------------------

def test_graph_is_a_typed_multidigraph(graph):
    import networkx as nx

    assert isinstance(graph, nx.MultiDiGraph)
    assert set(graph.sources("credit_card", "is_a")) == {"classic_card", "gold_card", "platinum_card"}
    assert set(graph.sources("loan", "is_a")) == {"mortgage", "consumer_loan", "business_loan", "car_loan"}
    relations = {key for _, _, key in graph.edges(keys=True)}
    assert {"is_a", "has_fee", "has_rate", "requires", "requires_material", "applies_via",
            "risk_level", "has_benefit", "has_term", "has_minimum", "has_yield"} <= relations
    assert graph.nodes[graph.facts("platinum_card", "annual_fee")[0]]["amount"] == 600


def test_wealth_products_cover_every_risk_level(graph):
    wealth = graph.sources("wealth", "is_a")
    assert len(wealth) >= 8
    levels = {graph.targets(p, "risk_level")[0] for p in wealth}
    assert levels == {"R1", "R2", "R3", "R4", "R5"}
    for product in wealth:
        for kind in ("expected_yield", "term", "minimum", "redemption"):
            assert graph.facts(product, kind), (product, kind)


def test_figures_match_the_faq(graph, faq_entries):
    """Where the FAQ gives a number, the graph gives the same one (both are demo data)."""
    answers = {e.id: e.answer for e in faq_entries}
    fee = {p: graph.nodes[graph.facts(p, "annual_fee")[0]]["amount"] for p in graph.sources("credit_card", "is_a")}
    assert "普卡 100 元、金卡 200 元、白金卡 600 元" in answers["credit-007"]
    assert fee == {"classic_card": 100, "gold_card": 200, "platinum_card": 600}
    rates = {graph.nodes[f]["term_months"]: graph.nodes[f]["percent"] for f in graph.facts("time_deposit", "rate")}
    assert rates == {3: 0.90, 6: 1.10, 12: 1.30, 24: 1.40, 36: 1.75, 60: 1.80}
    assert "3 年 1.75%" in answers["deposit-002"]
    assert "30 万元" in answers["loan-021"] and "3.20%" in answers["loan-022"]
    assert "20 万元起存" in answers["deposit-013"]


def write(tmp_path, text):
    path = tmp_path / "kg.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


MINIMAL = """\
categories:
  - {id: loan, name: 贷款}
nodes:
  material:
    - {id: mat_id, name: 身份证}
products:
  - id: mortgage
    name: 房贷
    is_a: loan
    requires_material: [mat_id]
    facts:
      rate: {percent: 3.05}
"""


@pytest.mark.parametrize(("old", "new", "message"), [
    ("requires_material: [mat_id]", "requires_material: [mat_passport]",
     r"products 'mortgage': field 'requires_material': unknown node 'mat_passport'"),
    ("is_a: loan", "is_a: mat_id", r"field 'is_a': 'mat_id' is a material, not a category"),
    ("rate: {percent: 3.05}", "ratee: {percent: 3.05}", r"facts.ratee: unknown fact kind"),
    ("rate: {percent: 3.05}", "rate: {colour: red}", r"facts.rate: expected a mapping"),
    ("rate: {percent: 3.05}", "rate: {note: 只有备注}", r"facts.rate: no value"),
    ("    name: 房贷\n", "", r"products 'mortgage': field 'name' is missing"),
    ("    is_a: loan\n", "    is_a: loan\n    colour: red\n", r"products 'mortgage': unknown field 'colour'"),
    ("  - {id: loan, name: 贷款}", "  - {id: mat_id, name: 贷款}", r"nodes.material 'mat_id': duplicate id"),
    ("products:", "product:", r"top level: unknown key 'product'"),
    ("    rate: {percent: 3.05}", "    rate: {percent: [3.05", r"cannot read the knowledge graph"),
])
def test_malformed_graph_files_name_the_node_and_field(tmp_path, old, new, message):
    assert old in MINIMAL
    with pytest.raises(KgFileError, match=message):
        KnowledgeGraph.load(write(tmp_path, MINIMAL.replace(old, new)))


def test_an_alias_naming_two_nodes_is_refused(tmp_path):
    text = MINIMAL.replace("{id: mat_id, name: 身份证}", "{id: mat_id, name: 身份证, aliases: [房贷]}")
    with pytest.raises(KgFileError, match="alias '房贷' names both"):
        EntityLinker(KnowledgeGraph.load(write(tmp_path, text)))


# --- linking --------------------------------------------------------------------------------

def test_longest_alias_wins(graph):
    linker = EntityLinker(graph)
    assert [m.node for m in linker.link("白金卡和金卡")] == ["platinum_card", "gold_card"]
    assert [m.node for m in linker.link("零存整取和整存整取")] == ["installment_deposit", "time_deposit"]
    assert [(m.start, m.end) for m in linker.link("二手车贷款")] == [(2, 4)]


@pytest.mark.parametrize(("text", "months"), [
    ("三年定期", [36]), ("3年期", [36]), ("半年", [6]), ("六个月", [6]), ("十二个月", [12]), ("定期", []),
])
def test_term_months(text, months):
    assert term_months(text) == months


# --- answers --------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "expected"), [
    ("白金卡年费多少", ["白金卡年费 600 元（示例数据）", "年消费满 6 万元"]),
    ("白金卡怎么免年费", ["600 元", "6 万积分"]),
    ("借記卡有年費嗎", ["借记卡年费 免收"]),
    ("金卡额度多少", ["1 万元至 5 万元"]),
    ("房贷要什么材料", ["申请房贷一般需要", "户口本", "购房合同", "近 6 个月银行流水"]),
    ("经营贷要准备哪些资料", ["营业执照", "经营流水"]),
    ("三年定期利率", ["整存整取利率：3 年 1.75%（示例数据）"]),
    ("大额存单一年期利率多少", ["大额存单利率：1 年 1.45%"]),
    ("活期利率是多少", ["0.05%"]),
    ("首套房贷利率多少", ["首套 约 3.05%"]),
    ("消费贷最多能贷多少", ["30 万元"]),
    ("车贷最长几年", ["新车 5 年", "二手车 3 年"]),
    ("房贷审批要多久", ["5–7 个工作日"]),
    ("申请消费贷需要什么条件", ["年满 18 周岁", "征信良好"]),
    ("房贷在哪里申请", ["网点柜台", "手机银行"]),
    ("大额存单多少钱起存", ["20 万元"]),
    ("天天宝是什么风险等级", ["R1（低风险）", "C1（谨慎型）"]),
    ("稳盈半年定开收益多少", ["2.40%–3.20%"]),
    ("量化对冲1号怎么赎回", ["每季度开放日", "冷静期"]),
    ("白金卡有什么权益", ["机场贵宾厅", "道路救援"]),
    ("经营贷额度、期限和利率是多少", ["100 万元", "10 年", "3.00% 起"]),
])
def test_attribute_questions(kg, question, expected):
    answer = kg.answer(question)
    assert answer is not None and answer.kind == "attribute", question
    for fragment in expected:
        assert fragment in answer.text, (question, answer.text)


def test_attribute_answers_name_the_nodes_they_state(kg):
    answer = kg.answer("三年定期利率")
    assert answer.nodes == ("time_deposit", "time_deposit.rate.5")


@pytest.mark.parametrize(("question", "products", "lines"), [
    ("金卡和白金卡有什么区别", ("gold_card", "platinum_card"),
     ["年费：金卡 200 元；白金卡 600 元", "信用额度：金卡 1 万元至 5 万元；白金卡 5 万元至 30 万元"]),
    ("普卡、金卡、白金卡有什么区别", ("classic_card", "gold_card", "platinum_card"),
     ["年费：普卡 100 元；金卡 200 元；白金卡 600 元"]),
    ("房贷和车贷利率哪个低", ("mortgage", "car_loan"), ["利率：房贷 首套 约 3.05%、二套 约 3.25%；车贷 3.50% 起"]),
    ("天天宝跟稳盈半年定开比较", ("wm_tiantianbao", "wm_wenying_half_year"),
     ["风险等级：示例天天宝 R1（低风险）；示例稳盈半年定开 R2（中低风险）"]),
])
def test_comparisons_are_short_aligned_lines(kg, question, products, lines):
    answer = kg.answer(question)
    assert answer.kind == "comparison" and answer.nodes == products
    text_lines = answer.text.splitlines()
    assert text_lines[0].endswith("的对比（示例数据）：")
    for line in lines:
        assert line in text_lines


@pytest.mark.parametrize(("question", "heading", "products"), [
    ("哪些理财是R2的", "R2（中低风险）理财产品有", {"wm_wenying_half_year", "wm_wenjian_one_year"}),
    ("R5的理财产品有哪些", "R5（高风险）理财产品有", {"wm_quant", "wm_cta"}),
    ("有哪些贷款", "贷款产品有", {"mortgage", "consumer_loan", "business_loan", "car_loan"}),
    ("哪些贷款要营业执照", "需要营业执照的贷款产品有", {"business_loan"}),
    ("存款产品有哪些？", "存款产品有", {"demand_deposit", "time_deposit", "certificate_deposit",
                                    "installment_deposit", "notice_deposit"}),
])
def test_lists(kg, graph, question, heading, products):
    answer = kg.answer(question)
    assert answer.kind == "list" and answer.text.startswith(heading + "：")
    listed = {n for n in answer.nodes if graph.nodes[n]["type"] == "product"}
    assert listed == products
    for product in products:
        assert graph.name(product) in answer.text


@pytest.mark.parametrize("question", [
    "信用卡年费是多少",            # a category, not a product: the FAQ's table answers it
    "银行卡丢了怎么挂失", "房贷可以提前还款吗", "以前办的房贷利率能降吗", "房贷利息可以抵扣个税吗",
    "LPR 是什么？我的房贷利率会跟着变吗？", "大额存单可以转让吗", "零存整取是什么？怎么存？",
    "手机银行存定期和网点存利率一样吗", "消费贷怎么还？最长借多久？", "理财有哪些费用",
    "R1 等级的理财是什么意思？", "我的风险等级能买哪些产品？", "外币定期利率", "活期利息几号到账",
    "可以设置定期自动转账吗", "今天天气怎么样", "你好", "",
    "白金卡", "我想办房贷",           # a product alone asks nothing the graph holds
])
def test_non_graph_questions_are_left_to_the_faq(kg, question):
    assert kg.answer(question) is None


def test_faq_questions_outside_product_facts_are_never_hijacked(kg, faq_entries):
    procedural = {"转账汇款", "账户服务", "安全防骗", "网点", "服务", "外汇"}
    hijacked = [(e.id, p) for e in faq_entries if e.category in procedural
                for p in e.phrasings if kg.answer(p) is not None]
    assert hijacked == []


def test_graph_answers_on_faq_phrasings_are_attribute_comparison_or_list(kg, faq_entries):
    """Whatever the graph does answer among FAQ phrasings carries demo-data wording."""
    for entry in faq_entries:
        for phrasing in entry.phrasings:
            answer = kg.answer(phrasing)
            if answer is not None:
                assert answer.kind in {"attribute", "comparison", "list"}
                assert re.search(r"示例|可通过", answer.text), (phrasing, answer.text)


def test_pre_normalized_text_is_accepted(kg):
    assert kg.answer("白金卡年费多少", normalized=True).kind == "attribute"


def test_answerer_from_the_file_path():
    answerer = KgAnswerer(KnowledgeGraph.load(DATA_DIR / "kg.yaml"))
    assert answerer.answer("有哪些贷款") is not None
