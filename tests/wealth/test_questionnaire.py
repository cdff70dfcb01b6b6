"""The risk questionnaire: reading answers, scoring, levels and what each level may buy."""
import pytest

from chatbot.settings import DATA_DIR
from chatbot.wealth import questionnaire as q
from knowledge.kg.load import KnowledgeGraph


def test_at_least_eight_questions_of_four_options():
    keys = [question.key for question in q.QUESTIONS]
    assert len(keys) >= 8 and len(set(keys)) == len(keys)
    for needed in ("age", "experience", "income", "share", "goal", "horizon", "reaction", "knowledge"):
        assert needed in keys
    assert all(len(question.options) == 4 for question in q.QUESTIONS)


@pytest.mark.parametrize("key,text,letter", [
    ("age", "B", "B"), ("age", "选d", "D"), ("age", "2", "B"), ("age", "第三个", "C"),
    ("age", "35岁", "B"), ("age", "35", "B"), ("age", "60岁以上", "D"), ("age", "30岁以下", "A"),
    ("experience", "没有", "A"), ("experience", "两年以内", "B"), ("experience", "3年", "C"),
    ("income", "50万", "C"), ("income", "十万以下", "A"), ("income", "年收入二十万左右", "B"),
    ("share", "20%", "B"), ("share", "一半以上", "D"),
    ("goal", "保本", "A"), ("goal", "追求高收益", "D"),
    ("horizon", "5到10年", "D"), ("horizon", "三年以上", "C"), ("horizon", "一年以内", "A"),
    ("horizon", "6个月", "A"), ("horizon", "长期", "D"),
    ("reaction", "继续持有", "C"), ("reaction", "加仓", "D"), ("reaction", "全部卖出", "A"),
    ("knowledge", "股票", "D"), ("max_loss", "10%以内", "B"), ("outlook", "稳步增长", "C"),
])
def test_answers_by_letter_number_and_words(key, text, letter):
    index = next(i for i, question in enumerate(q.QUESTIONS) if question.key == key)
    assert q.read_answer(index, text) == letter


@pytest.mark.parametrize("text", ["你好", "A股", "5", "", "随便"])
def test_no_answer_is_invented(text):
    assert q.read_answer(0, text) is None


def test_scores_and_levels():
    every = lambda letter: {question.key: letter for question in q.QUESTIONS}  # noqa: E731
    assert q.level_for(q.score(every("A"))) == "C1"
    assert q.level_for(q.score(every("D"))) == "C5"
    assert q.level_for(52) == "C3"  # the seed's paper questionnaire
    assert [q.level_for(s) for s in (20, 35, 36, 50, 51, 65, 66, 82, 83, 100)] == \
        ["C1", "C1", "C2", "C2", "C3", "C3", "C4", "C4", "C5", "C5"]
    with pytest.raises(ValueError):
        q.score({"age": "A"})


def test_what_each_level_may_buy():
    assert q.may_buy("C1") == ("R1",)
    assert q.may_buy("C3") == ("R1", "R2", "R3")
    assert q.may_buy("C5") == ("R1", "R2", "R3", "R4", "R5")
    assert q.suits("C2", "R2") and not q.suits("C2", "R3")


def test_level_names_match_the_graphs_suits_wording():
    graph = KnowledgeGraph.load(DATA_DIR / "kg.yaml")
    for node in graph.of_type("risk_level"):
        level = "C" + node[1:]
        assert graph.nodes[node]["suits"].startswith(q.describe(level)), graph.nodes[node]["suits"]
