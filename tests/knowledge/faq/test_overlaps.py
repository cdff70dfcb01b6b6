"""Look-alike entries: cross-validation over the entries' own phrasings finds the pairs it mixes up."""
import pytest

from knowledge.faq.analyze import TextAnalyzer
from knowledge.faq.overlaps import find_overlaps
from knowledge.faq.store import FaqEntry

# Two entries that say the same thing for two products, and one about something else.
ENTRIES = [
    FaqEntry("credit-late", "信用卡逾期记录多久能消除？",
             ("逾期记录保留几年", "征信上的逾期多久消掉", "逾期记录能删掉吗", "征信不良记录多久没了"),
             "不良记录自还清之日起保存 5 年。", "信用卡"),
    FaqEntry("loan-late", "贷款逾期记录多久能消除？",
             ("逾期记录保留多久", "征信上的逾期记录多久消", "逾期记录可以删除吗", "不良记录多久能没"),
             "不良信息自还清之日起保存 5 年。", "贷款"),
    FaqEntry("hours", "网点几点开门？",
             ("营业时间是几点", "周末网点开门吗", "银行几点下班", "网点上班时间"),
             "工作日 9:00-17:00。", "网点"),
]
TRAINING = {"hours": ("网点早上几点营业", "柜台几点关门")}


def test_entries_that_answer_the_same_question_are_reported_as_a_pair():
    found = find_overlaps(ENTRIES, TextAnalyzer(), TRAINING, min_confusions=1)
    pairs = [{o.first.id, o.second.id} for o in found]
    assert pairs[0] == {"credit-late", "loan-late"}
    assert all("hours" not in pair for pair in pairs)
    assert found[0].confusions >= 2


def test_nothing_is_reported_when_every_held_out_phrasing_finds_its_entry():
    distinct = [ENTRIES[0], ENTRIES[2]]
    assert find_overlaps(distinct, TextAnalyzer(), TRAINING, min_confusions=1) == []


def test_one_fold_is_refused():
    with pytest.raises(ValueError):
        find_overlaps(ENTRIES, TextAnalyzer(), folds=1)
