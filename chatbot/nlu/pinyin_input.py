"""Read a message typed in pinyin without an input method ("wo yao zhuanzhang").

Customers on a borrowed phone or a keyboard without Chinese input type the syllables. When
every Latin run of a message spells, syllable for syllable, words the bot knows (the banking
dictionary, the canonical words of the synonym table and the everyday words below), the runs
are rewritten to those words (``xinyongka zhangdan`` -> ``信用卡账单``). Anything else is left
alone: English ("call me back"), codes, a single syllable ("en" is also "嗯"), a run that
only partly decodes. Spaces may or may not separate the words; a word spanning a typed space
("zhang dan") costs a little more than one that does not, so the typed boundaries are kept
where the vocabulary allows it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from chatbot.nlu.homophones import readings
from chatbot.nlu.textmap import Edit

# Everyday words of a banking chat, in preference order where two read the same
# (是 before 事, 有 before 又). Domain terms come from the banking dictionary.
EVERYDAY_WORDS = (
    "我 我的 我要 我想 要 想 你 你好 您好 谢谢 再见 请问 麻烦 帮 帮我 给 给我 查 查询 查一下 查下 看 看看 "
    "一下 下 多少 多少钱 怎么 怎么办 怎么弄 什么 为什么 什么时候 哪里 在哪 是 是不是 不是 不 不要 不用 没有 没 有 "
    "能 能不能 可以 可不可以 吗 呢 了 的 还 还钱 还款 办 办理 申请 开 开通 取消 到 到账 到了 钱 卡 我的卡 "
    "转 转钱 转给 存 取 取钱 存钱 今天 明天 昨天 这个月 上个月 本月 下个月 工资 人工 客服 人工客服 真人 电话 "
    "打电话 回电 投诉 好的 对 行 可以的 丢了 被盗 冻结 绑定 解绑 激活 额度 分期 账单 余额 明细 流水 "
    "信用卡 储蓄卡 借记卡 银行卡 贷款 房贷 车贷 理财 基金 利息 利率 手续费 密码 开户 销户 新闻 订阅 转账 汇款 "
    "挂失 解挂 网点 营业时间 最低 还多少 欠 多久 忘了 忘记 元 块 万 能否 如何 办卡 银行 "
    "妈妈 爸爸 老婆 老公 孩子 儿子 女儿 朋友 家人"  # "mama" is 妈妈: one word beats two particles (吗吗)
).split()

_LATIN_RUN = re.compile(r"[a-z]+(?: +[a-z]+)*")
_HAS_LATIN_WORD = re.compile(r"[a-z]{2}")
_MAX_KEY = 24  # letters in the longest word's reading worth trying
_MAX_READINGS = 16
MIN_LETTERS = 5  # "yue", "en": too short to tell from an abbreviation or an interjection
SPACE_CROSSING_COST = 0.5


class PinyinReader:
    """Rewrites all-pinyin Latin runs to Chinese words (readings built at warm-up or on the
    first Latin message)."""

    def __init__(self, dictionary_terms: Iterable[str], extra_words: Iterable[str] = ()) -> None:
        self._terms = tuple(dict.fromkeys([*EVERYDAY_WORDS, *extra_words, *dictionary_terms]))

    @cached_property
    def _words(self) -> dict[str, str]:
        """Toneless reading ("xinyongka") -> word; the first word listed wins a shared reading."""
        words: dict[str, str] = {}
        for term in self._terms:
            if not all("\u4e00" <= char <= "\u9fff" for char in term):
                continue
            # Every reading of every character, one at a time (pypinyin's phrase table reads
            # 还款 "haikuan"; people type "huankuan"); a few words have dozens, capped.
            spelled = [""]
            for options in (sorted(readings(char)) for char in term):
                spelled = [r + o.replace("ü", "v") for r in spelled for o in options][:_MAX_READINGS]
            for reading in spelled:
                words.setdefault(reading, term)
        return words

    def warm_up(self) -> None:
        """Build the readings now (a few milliseconds from the cached pinyin table)."""
        _ = self._words

    def edits(self, text: str) -> list[Edit]:
        """Edits turning every Latin run into Chinese, or none unless all of them decode."""
        if not _HAS_LATIN_WORD.search(text):
            return []
        runs = list(_LATIN_RUN.finditer(text))
        if sum(len(run.group().replace(" ", "")) for run in runs) < MIN_LETTERS:
            return []
        edits: list[Edit] = []
        for run in runs:
            words = self._decode(run.group())
            if words is None:
                return []
            # One edit per word, over the letters it was typed as: its span stays exact.
            where = [run.start() + i for i, char in enumerate(run.group()) if char != " "]
            edits.extend((where[start], where[end - 1] + 1, word) for start, end, word in words)
        return edits

    def _decode(self, run: str) -> list[tuple[int, int, str]] | None:
        """The fewest words whose readings spell the run's letters, as (first letter, end
        letter, word), or None."""
        letters = run.replace(" ", "")
        # boundaries[k]: typed spaces before letters[0..k] (a boundary at k sits before letter k),
        # so a word over letters[start:end] crosses boundaries[end - 1] - boundaries[start].
        boundaries = [0] * (len(letters) + 1)
        position = 0
        for char in run:
            if char == " ":
                boundaries[position] += 1
            else:
                position += 1
        for k in range(1, len(boundaries)):
            boundaries[k] += boundaries[k - 1]
        best: list[tuple[float, int, str] | None] = [None] * (len(letters) + 1)
        best[0] = (0.0, 0, "")
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - _MAX_KEY), end):
                if best[start] is None:
                    continue
                word = self._words.get(letters[start:end])
                if word is None:
                    continue
                crossed = boundaries[end - 1] - boundaries[start]
                cost = best[start][0] + 1 + SPACE_CROSSING_COST * crossed
                if best[end] is None or cost < best[end][0]:
                    best[end] = (cost, start, word)
        if best[-1] is None:
            return None
        words = []
        end = len(letters)
        while end:
            _, start, word = best[end]
            words.append((start, end, word))
            end = start
        return words[::-1]
