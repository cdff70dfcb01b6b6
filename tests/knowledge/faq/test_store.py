"""FAQ file loading: the real file loads; every malformed file names the entry and field."""
import textwrap

import pytest

from chatbot.errors import ChatbotError, InvalidInput
from chatbot.settings import DATA_DIR, Settings
from knowledge.faq.store import FaqEntry, FaqEntryError, FaqFileError, load_faq, validate_entry

GOOD_ENTRY = """\
- id: a-1
  question: 银行卡丢了怎么挂失？
  similar: [卡丢了咋办]
  answer: 请尽快挂失。
  category: 银行卡
  tags: [挂失]
"""


def write(tmp_path, text: str):
    path = tmp_path / "faq.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_repository_faq_loads_strictly():
    entries = load_faq(DATA_DIR / "faq.yaml")
    assert len(entries) >= 300
    assert all(3 <= len(e.similar) <= 8 for e in entries)
    assert len({e.id for e in entries}) == len(entries)
    first = entries[0]
    assert isinstance(first, FaqEntry) and first.id == "card-001"
    assert first.phrasings[0] == first.question and "卡丢了咋办" in first.similar
    assert isinstance(first.similar, tuple) and isinstance(first.tags, tuple)


def test_to_dict_round_trips_through_validate_entry():
    entry = load_faq(DATA_DIR / "faq.yaml")[5]
    assert validate_entry(entry.to_dict()) == entry


def test_optional_lists_default_to_empty_and_text_is_trimmed():
    entry = validate_entry({"id": " x-1 ", "question": " 问题？ ", "answer": "答案", "category": "服务"})
    assert (entry.id, entry.question, entry.similar, entry.tags) == ("x-1", "问题？", (), ())


BAD_ENTRIES = [
    # (yaml of the second entry, field named, words in the message)
    ("- id: b-2\n  similar: [x]\n  answer: a\n  category: c\n", "question", "is missing"),
    ("- id: b-2\n  question: '  '\n  answer: a\n  category: c\n", "question", "is empty"),
    ("- id: b-2\n  question: q\n  answer: ''\n  category: c\n", "answer", "is empty"),
    ("- id: b-2\n  question: q\n  category: c\n", "answer", "is missing"),
    ("- question: q\n  answer: a\n  category: c\n", "id", "is missing"),
    ("- id: 12\n  question: q\n  answer: a\n  category: c\n", "id", "must be text"),
    ("- id: b-2\n  question: q\n  answer: a\n", "category", "is missing"),
    ("- id: b-2\n  question: q\n  similar: 卡丢了\n  answer: a\n  category: c\n", "similar", "list of strings"),
    ("- id: b-2\n  question: q\n  similar: [ok, 3]\n  answer: a\n  category: c\n", "similar", "item 2"),
    ("- id: b-2\n  question: q\n  similar: [ok, '']\n  answer: a\n  category: c\n", "similar", "item 2 is empty"),
    ("- id: b-2\n  question: q\n  answer: a\n  category: c\n  tags: 挂失\n", "tags", "list of strings"),
    ("- id: b-2\n  question: q\n  answer: a\n  category: c\n  answr: typo\n", "answr", "unknown field"),
    ("- id: a-1\n  question: q\n  answer: a\n  category: c\n", "id", "duplicate id (first used by entry 1)"),
]


@pytest.mark.parametrize(("second", "field", "problem"), BAD_ENTRIES)
def test_a_malformed_entry_names_file_entry_and_field(tmp_path, second, field, problem):
    path = write(tmp_path, GOOD_ENTRY + second)
    with pytest.raises(FaqFileError) as caught:
        load_faq(path)
    error = caught.value
    assert isinstance(error, ChatbotError) and error.code == "faq_file_invalid"
    assert str(path) in error.message
    assert "entry 2" in error.message and "at line 7" in error.message
    assert f"'{field}'" in error.message and problem in error.message
    assert (error.index, error.field, error.line) == (2, field, 7)


def test_the_entry_id_is_named_when_there_is_one(tmp_path):
    path = write(tmp_path, GOOD_ENTRY + "- id: b-2\n  question: q\n  answer: a\n")
    with pytest.raises(FaqFileError, match=r"entry 2 \(id 'b-2'\) at line 7: field 'category' is missing"):
        load_faq(path)


def test_an_entry_that_is_not_a_mapping(tmp_path):
    path = write(tmp_path, GOOD_ENTRY + "- just a string\n")
    with pytest.raises(FaqFileError, match=r"entry 2 at line 7: an entry must be a mapping"):
        load_faq(path)


def test_yaml_syntax_errors_give_the_line(tmp_path):
    path = write(tmp_path, GOOD_ENTRY + "- id: b-2\n  question: [unclosed\n  answer: a\n")
    with pytest.raises(FaqFileError) as caught:
        load_faq(path)
    assert str(path) in caught.value.message and "invalid YAML at line" in caught.value.message
    assert caught.value.line is not None and caught.value.line >= 8


def test_a_key_repeated_in_one_entry_is_refused(tmp_path):
    path = write(tmp_path, GOOD_ENTRY.replace("  category: 银行卡\n", "  category: 银行卡\n  answer: 又一个\n"))
    with pytest.raises(FaqFileError, match=r"line 6.*key 'answer' appears twice"):
        load_faq(path)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "id: a-1\nquestion: q\n", "just text\n"])
def test_the_top_level_must_be_a_list(tmp_path, text):
    with pytest.raises(FaqFileError, match="expected a list of FAQ entries"):
        load_faq(write(tmp_path, text))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FaqFileError, match="cannot read the FAQ file"):
        load_faq(tmp_path / "nope.yaml")


def test_validate_entry_is_the_admin_api_check():
    with pytest.raises(FaqEntryError) as caught:
        validate_entry({"id": "n-1", "question": "q", "answer": "a", "category": "c", "extra": 1})
    assert isinstance(caught.value, InvalidInput) and caught.value.field == "extra"
    with pytest.raises(FaqEntryError, match="must be a mapping"):
        validate_entry(["not", "a", "mapping"])


def test_chatbot_faq_path_points_the_service_at_another_file(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD_ENTRY)
    monkeypatch.setenv("CHATBOT_FAQ_PATH", str(path))
    entries = load_faq(Settings().faq_path)
    assert [e.id for e in entries] == ["a-1"]
