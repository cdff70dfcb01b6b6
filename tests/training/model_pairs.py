"""Two small saved model versions trained on different data, for comparison, gate and swap tests.

`good` knows three intents; `bad` was trained without `thanks`, so on the held-out data its
`thanks` accuracy falls to 0 and its overall accuracy by about a third. Training both takes a
couple of seconds; nothing is promoted afterwards (tests promote what they need).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

INTENTS = {
    "account.balance": ["余额", "查余额", "卡里还有多少钱", "余额多少", "帮我查下余额", "我还剩多少钱",
                        "账户余额", "看看余额", "储蓄卡余额", "查一下卡里的钱", "余额查询", "还有多少钱"],
    "greet": ["你好", "您好", "在吗", "hello", "hi", "早上好", "晚上好", "哈喽", "嗨", "有人吗",
              "你好呀", "下午好"],
    "thanks": ["谢谢", "多谢", "感谢", "谢谢你", "非常感谢", "太感谢了", "谢啦", "thanks", "thank you",
               "辛苦了", "感谢感谢", "谢了"],
}
HELD_OUT = {
    "account.balance": ["卡上余额多少", "查查余额", "帮我看看余额", "我卡里还有多少钱", "余额是多少"],
    "greet": ["你好啊", "您好呀", "早上好呀", "晚上好啊", "在吗在吗"],
    "thanks": ["谢谢您", "多谢多谢", "非常感谢你", "太感谢你了", "谢谢啦"],
}


@dataclass(frozen=True)
class Pair:
    data_dir: Path  # intents.yaml (all three intents) and intents_test.tsv
    model_dir: Path
    good: str
    bad: str

    def copy(self, target: Path) -> "Pair":
        """The same versions in a model directory of their own (as saved: nothing cached)."""
        shutil.copytree(self.model_dir, target, ignore=shutil.ignore_patterns("heldout"))  # no cached predictions
        return Pair(self.data_dir, target, self.good, self.bad)


def write_intents(path: Path, intents: dict[str, list[str]]) -> Path:
    lines = []
    for intent, texts in intents.items():
        lines.append(f"{intent}:")
        lines += [f'  - "{text}"' for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_data(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_intents(directory / "intents.yaml", INTENTS)
    rows = [f"{intent}\t{text}" for intent, texts in HELD_OUT.items() for text in texts]
    (directory / "intents_test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return directory


def train_pair(root: Path) -> Pair:
    from chatbot.nlu import model_store
    from training.train import train

    data_dir = write_data(root / "data")
    model_dir = root / "models"
    good = train(data_dir / "intents.yaml", model_dir).version
    without_thanks = {k: v for k, v in INTENTS.items() if k != "thanks"}
    bad = train(write_intents(root / "without_thanks.yaml", without_thanks), model_dir).version
    (model_dir / model_store.PROMOTED_FILE).unlink()
    return Pair(data_dir, model_dir, good, bad)
