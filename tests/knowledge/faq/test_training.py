"""Training phrasings: the file beside the FAQ, its validation, and retrieval learning from it."""
import pytest

from chatbot.settings import DATA_DIR
from knowledge.faq.retrieve import FaqRetriever
from knowledge.faq.store import FaqEntry, FaqFileError
from knowledge.faq.training import NO_TRAINING, load_training, load_training_for, training_path

ENTRIES = [
    FaqEntry("lost", "银行卡丢了怎么挂失？", ("卡丢了咋办",), "请尽快挂失。", "银行卡"),
    FaqEntry("fee", "转账手续费是多少？", ("转账收钱吗",), "手机银行转账免费。", "转账"),
    FaqEntry("hours", "网点几点开门？", ("营业时间",), "工作日 9:00-17:00。", "网点"),
]


def write(tmp_path, text, name="faq.training.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_training_file_sits_beside_the_faq_file():
    assert training_path(DATA_DIR / "faq.yaml") == DATA_DIR / "faq.training.yaml"
    assert training_path("/srv/bank/knowledge.yml").name == "knowledge.training.yml"


def test_the_shipped_training_phrasings_belong_to_faq_entries(faq_entries):
    training = load_training_for(DATA_DIR / "faq.yaml")
    ids = {entry.id for entry in faq_entries}
    assert set(training) == ids
    assert all(len(phrasings) >= 10 for phrasings in training.values())


def test_a_missing_training_file_means_none(tmp_path):
    assert load_training_for(tmp_path / "faq.yaml") is NO_TRAINING


def test_phrasings_are_stripped_and_deduplicated(tmp_path):
    training = load_training(write(tmp_path, "lost:\n  - ' 钱包被偷了 '\n  - 钱包被偷了\n  - 卡没了咋整\n"))
    assert training == {"lost": ("钱包被偷了", "卡没了咋整")}


@pytest.mark.parametrize(("text", "problem"), [
    ("- lost\n", "expected a mapping of FAQ id"),
    ("lost: 钱包被偷了\n", "id 'lost' at line 1: expected a list of phrasings"),
    ("fee:\n  - 收钱吗\nlost:\n  - 好的\n  - ''\n", "id 'lost' at line 3: item 2 must be non-empty text"),
    ("lost:\n  - 1\n", "item 1 must be non-empty text"),
    ("lost:\n  - a\nlost:\n  - b\n", "appears twice"),
    ("lost: [a, b\n", "invalid YAML at line"),
])
def test_a_malformed_training_file_names_the_id_and_line(tmp_path, text, problem):
    with pytest.raises(FaqFileError, match=problem):
        load_training(write(tmp_path, text))


def test_retrieval_learns_the_words_of_the_training_phrasings(tmp_path):
    faq = write(tmp_path, "", name="faq.yaml")
    faq.write_text("\n".join(
        f"- {{id: {e.id}, question: '{e.question}', similar: [{e.similar[0]}], answer: '{e.answer}', "
        f"category: {e.category}}}" for e in ENTRIES), encoding="utf-8")
    # Nothing in the FAQ itself says 钱包 or 偷; the training phrasing teaches it.
    write(tmp_path, "lost:\n  - 钱包被小偷偷走了\n  - 出门把卡弄没了\n")
    plain = FaqRetriever(ENTRIES)
    trained = FaqRetriever.from_file(faq)
    assert trained.training == {"lost": ("钱包被小偷偷走了", "出门把卡弄没了")}
    hit = trained.search("钱包被偷了", top_k=1)[0]
    assert hit.entry.id == "lost" and hit.matched == "钱包被小偷偷走了"
    assert hit.score > plain.search("钱包被偷了", top_k=3)[0].score


def test_an_edit_keeps_the_training_and_ignores_ids_the_faq_no_longer_has():
    trained = FaqRetriever(ENTRIES, training={"lost": ("钱包被小偷偷走了",), "gone": ("没有这个条目",)})
    edited = trained.with_entries(ENTRIES[:2])
    assert edited.training is trained.training
    assert edited.search("钱包被偷了", top_k=1)[0].entry.id == "lost"
    assert len(edited.index.texts) == 2 * 2 + 1   # two entries' phrasings and one training phrasing
