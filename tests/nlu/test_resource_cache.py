"""Derived NLU data saved between starts (chatbot/nlu/resource_cache.py): jieba's prefix
dictionary, the lexicon and the pinyin readings load from the cache exactly as computed,
and a damaged or foreign cache file is rebuilt, never used."""
from __future__ import annotations

import logging

import pytest

from chatbot.nlu import homophones, resource_cache
from chatbot.nlu.lexicon import Lexicon
from chatbot.nlu.normalize import Normalizer
from chatbot.nlu.segment import Segmenter, _import_jieba, prefix_dictionary

SENTENCES = ["我要挂失", "信用卡最低还款是多少", "帮我把账单分12期", "ATM吞卡了怎么办", "给李娜转两千五"]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "nlu_cache"
    monkeypatch.setenv(resource_cache.ENVIRONMENT_VARIABLE, str(directory))
    homophones._reading_table.cache_clear()
    homophones.readings.cache_clear()
    yield directory
    homophones._reading_table.cache_clear()
    homophones.readings.cache_clear()


def entries(directory, name):
    return sorted(directory.glob(f"{name}-*{resource_cache.SUFFIX}"))


def test_without_a_directory_nothing_is_cached(monkeypatch):
    monkeypatch.delenv(resource_cache.ENVIRONMENT_VARIABLE, raising=False)
    assert prefix_dictionary(_import_jieba()) is None
    calls = []
    assert resource_cache.load_or_build("x", {}, lambda: calls.append(1) or b"made") == b"made"
    assert calls == [1]


def test_jieba_prefix_dictionary_is_the_one_jieba_builds(cache_dir):
    jieba = _import_jieba()
    reference = jieba.Tokenizer()
    reference.initialize()
    built = prefix_dictionary(jieba)  # built now and saved
    assert len(entries(cache_dir, "jieba_prefix")) == 1
    loaded = prefix_dictionary(jieba)  # read back
    for freq, total in (built, loaded):
        assert total == reference.total
        assert freq == reference.FREQ


def test_a_segmenter_on_the_cache_cuts_like_one_without(cache_dir, monkeypatch):
    cached = Segmenter()
    cached.initialize()
    monkeypatch.delenv(resource_cache.ENVIRONMENT_VARIABLE)
    plain = Segmenter()
    for text in SENTENCES:
        assert cached.cut(text) == plain.cut(text)


def test_the_lexicon_from_the_cache_is_the_scanned_one(cache_dir, monkeypatch):
    def keep(word):
        return word.startswith("信用")

    cached = Lexicon(keep_long=keep, cache_key="starts-with-xinyong")
    words = cached._load()
    assert len(entries(cache_dir, "lexicon")) == 1
    again = Lexicon(keep_long=keep, cache_key="starts-with-xinyong")._load()
    monkeypatch.delenv(resource_cache.ENVIRONMENT_VARIABLE)
    assert words == again == Lexicon(keep_long=keep)._load()
    assert "信用卡" in words and "账单" in words
    # Another filter is another entry, never the first one's words.
    monkeypatch.setenv(resource_cache.ENVIRONMENT_VARIABLE, str(cache_dir))
    assert "信用卡" not in Lexicon(cache_key="keep-none")._load()


def test_the_readings_table_is_what_pypinyin_says(cache_dir):
    table = homophones._reading_table()
    assert len(entries(cache_dir, "pinyin_readings")) == 1
    assert len(table) == homophones._TABLE_END - homophones._TABLE_START + 1
    for code in range(homophones._TABLE_START, homophones._TABLE_END + 1, 7):
        char = chr(code)
        assert frozenset(table[code - homophones._TABLE_START].split(",")) == homophones._pypinyin_readings(char)
    assert homophones.readings("于") >= {"yu"} and homophones.readings("绿") == {"lu", "lv"}


def test_typos_are_corrected_the_same_with_the_cache(cache_dir, monkeypatch):
    texts = ["我的卡要挂时", "查一下于额", "关于额外的费用", "验证吗收不到"]
    cached = [Normalizer().normalize(text).text for text in texts]
    monkeypatch.delenv(resource_cache.ENVIRONMENT_VARIABLE)
    homophones._reading_table.cache_clear()
    homophones.readings.cache_clear()
    assert cached == [Normalizer().normalize(text).text for text in texts]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "foreign", "garbage"])
def test_a_damaged_entry_is_rebuilt(tmp_path, caplog, damage):
    built = []

    def build():
        built.append(1)
        return "payload 负载".encode() * 100

    first = resource_cache.load_or_build("thing", {"v": 1}, build, where=tmp_path)
    (path,) = entries(tmp_path, "thing")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[:-10])
    elif damage == "flipped":
        path.write_bytes(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
    elif damage == "foreign":  # another key's file under this name
        header, _, payload = data.partition(b"\n")
        parts = header.split(b" ")
        parts[1] = b"0" * 64
        path.write_bytes(b" ".join(parts) + b"\n" + payload)
    else:
        path.write_bytes(b"\x00" * 40)
    with caplog.at_level(logging.WARNING, logger="chatbot.nlu.resource_cache"):
        again = resource_cache.load_or_build("thing", {"v": 1}, build, where=tmp_path)
    assert again == first and built == [1, 1] and "building it again" in caplog.text
    assert resource_cache.load_or_build("thing", {"v": 1}, build, where=tmp_path) == first
    assert built == [1, 1]  # saved again, read since


def test_other_parts_are_another_entry_and_old_entries_are_pruned(tmp_path):
    for version in range(4):
        assert resource_cache.load_or_build("thing", {"v": version}, lambda v=version: str(v).encode(),
                                            where=tmp_path) == str(version).encode()
    assert len(entries(tmp_path, "thing")) == resource_cache.KEEP
    assert resource_cache.load_or_build("thing", {"v": 3}, lambda: b"rebuilt", where=tmp_path) == b"3"


def test_an_unwritable_directory_still_answers(tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="chatbot.nlu.resource_cache"):
        assert resource_cache.load_or_build("thing", {}, lambda: b"made", where=blocked / "cache") == b"made"
    assert "could not be saved" in caplog.text
