"""The `chatbot` command: migrate, seed, chat; errors are one line and a non-zero exit."""
import os
import subprocess
import sys

import pytest

CHATBOT = [sys.executable, "-m", "chatbot.cli"]


def run(args, env_extra, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(env_extra)
    return subprocess.run(CHATBOT + args, input=stdin, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def cli_env(tmp_path, model_dir, faq_index_dir):
    return {"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATBOT_ENV": "sandbox",
            "CHATBOT_MODEL_DIR": str(model_dir), "CHATBOT_FAQ_INDEX_DIR": str(faq_index_dir)}


def test_upgrade_seed_twice_and_chat(cli_env):
    assert run(["db", "upgrade"], cli_env).returncode == 0
    first = run(["seed"], cli_env)
    assert first.returncode == 0 and "客户 3 位" in first.stdout
    second = run(["seed"], cli_env)
    assert second.returncode == 0 and "未做改动" in second.stdout
    chat = run(["chat", "--user-id", "t1"], cli_env, stdin="你好\n谢谢\nexit\n")
    assert chat.returncode == 0
    assert "您好" in chat.stdout and "不客气" in chat.stdout


def test_unreachable_database_is_one_line_error():
    result = run(["db", "upgrade"], {"CHATBOT_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：数据库不可用"), result.stderr


def test_unmigrated_database_refuses_to_seed(cli_env):
    result = run(["seed"], cli_env)
    assert result.returncode == 1 and "chatbot db upgrade" in result.stderr


def test_seed_outside_sandbox_is_refused(cli_env):
    result = run(["seed"], {**cli_env, "CHATBOT_ENV": "production", "CHATBOT_SECRET_KEY": "q7Vd-2mXo9LpZt4rWc8yNb1KfHs6JgEa",
                            "CHATBOT_DATA_KEY": "Zr4-kPq8sLw2Nx6Vb0Tc9Hy3Fm5Dj7Ga",
                            "CHATBOT_SMS_GATEWAY": "webhook", "CHATBOT_SMS_WEBHOOK_URL": "https://sms.bank.example/send",
                            "CHATBOT_SMS_WEBHOOK_TOKEN": "t"})
    assert result.returncode == 1 and "sandbox" in result.stderr


def test_bad_setting_is_one_line(cli_env):
    result = run(["seed"], {**cli_env, "CHATBOT_ENV": "moon"})
    assert result.returncode == 1 and result.stderr.startswith("错误：配置有误")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_command_exits_non_zero(cli_env):
    assert run(["fly"], cli_env).returncode != 0


def test_nlu_parse_and_faq_search_print_json(cli_env):
    import json

    parsed = json.loads(run(["nlu", "parse", "给李娜转两千五"], cli_env).stdout)
    assert parsed["intent"]["name"] == "transfer.create"
    assert {"entity": "amount", "value": "2500.00", "start": 4, "end": 7} in parsed["entities"]
    found = json.loads(run(["faq", "search", "ATM吞卡了"], cli_env).stdout)
    assert "吞卡" in found["results"][0]["question"]
    empty = run(["nlu", "parse", " "], cli_env)
    assert empty.returncode == 1 and empty.stderr.startswith("错误：")


def test_train_list_and_promote(tmp_path, cli_env):
    env = {**cli_env, "CHATBOT_MODEL_DIR": str(tmp_path / "models")}
    trained = run(["train"], env)
    assert trained.returncode == 0 and "（已发布）" in trained.stdout
    listing = run(["models", "list"], env).stdout
    assert "✓" in listing
    bad = run(["models", "promote", "no-such-version"], env)
    assert bad.returncode == 1 and "no-such-version" in bad.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("greet\t你好\nnot.an.intent\t什么\n", "第 2 行：未知意图 not.an.intent"),
    ("greet\t你好\n\nbroken line\n", "第 3 行格式错误"),
])
def test_evaluate_refuses_a_bad_test_file_with_its_line(tmp_path, cli_env, content, message):
    bad = tmp_path / "bad.tsv"
    bad.write_text(content, encoding="utf-8")
    result = run(["evaluate", "--test", str(bad), "--out", str(tmp_path / "report")], cli_env)
    assert result.returncode == 1 and message in result.stderr
    assert not (tmp_path / "report").exists()  # failed before training anything


def test_serve_refuses_a_malformed_faq_file_naming_entry_and_field(tmp_path, cli_env):
    assert run(["db", "upgrade"], cli_env).returncode == 0
    bad = tmp_path / "faq.yaml"
    bad.write_text("- id: fee-1\n  question: 年费多少\n  answer: ''\n  category: 信用卡\n", encoding="utf-8")
    result = run(["serve", "--port", "1"], {**cli_env, "CHATBOT_FAQ_PATH": str(bad)})
    assert result.returncode == 1
    assert "fee-1" in result.stderr and "answer" in result.stderr


def test_serve_refuses_a_malformed_training_file_naming_the_id(tmp_path, cli_env):
    assert run(["db", "upgrade"], cli_env).returncode == 0
    faq = tmp_path / "faq.yaml"
    faq.write_text("- id: fee-1\n  question: 年费多少\n  answer: 100 元\n  category: 信用卡\n", encoding="utf-8")
    (tmp_path / "faq.training.yaml").write_text("fee-1: 年费贵不贵\n", encoding="utf-8")
    result = run(["serve", "--port", "1"], {**cli_env, "CHATBOT_FAQ_PATH": str(faq)})
    assert result.returncode == 1
    assert "fee-1" in result.stderr and "list of phrasings" in result.stderr


@pytest.mark.parametrize("host, configured, expected", [
    ("127.0.0.1", None, "http://127.0.0.1:8765"),
    ("0.0.0.0", None, "http://127.0.0.1:8765"),
    ("127.0.0.1", "https://bank.example", "https://bank.example"),
])
def test_serve_points_download_links_where_it_listens(cli_env, monkeypatch, host, configured, expected):
    """Statement and schedule links must reach this server: without CHATBOT_PUBLIC_BASE_URL
    they follow --host/--port (the trial found them on 8000 while serving on 8765)."""
    import uvicorn
    from typer.testing import CliRunner

    from chatbot.cli import app

    assert run(["db", "upgrade"], cli_env).returncode == 0
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    # Also when unset: serve writes it into the environment, and teardown must take it out.
    monkeypatch.setenv("CHATBOT_PUBLIC_BASE_URL", configured or "")
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(base=os.environ["CHATBOT_PUBLIC_BASE_URL"]))
    result = CliRunner().invoke(app, ["serve", "--host", host, "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert seen["base"] == expected


SERVE_PARENT = """
import sys
import uvicorn

def report(target, **options):
    heavy = sorted(name for name in ("chatbot.service", "knowledge.faq.index", "sklearn", "scipy", "numpy", "jieba")
                   if name in sys.modules)
    print(target, options["workers"], "heavy:", ",".join(heavy) or "none")

uvicorn.run = report
import chatbot.spread_workers
chatbot.spread_workers.run = report  # several workers on Linux: one socket each
from chatbot.cli import app
app(["serve", "--workers", "2"])
"""


def test_serve_parent_checks_the_artifacts_without_loading_the_engine(cli_env):
    """Before its workers start, `chatbot serve` checks the schema, the saved FAQ index and the
    compiled intent model; with them in place it loads none of them (each worker does), so
    the first answer does not wait for the parent to load what it never uses."""
    assert run(["db", "upgrade"], cli_env).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | cli_env
    first = subprocess.run([sys.executable, "-c", SERVE_PARENT], capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr  # may have built the index (a cold start)
    again = subprocess.run([sys.executable, "-c", SERVE_PARENT], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("api.worker:create_app 2 heavy: none"), again.stdout


def test_a_terminal_chat_swaps_to_a_newly_promoted_model_between_messages(tmp_path, model_dir, capsys):
    """`chatbot chat` has no watcher thread: it looks at the pointer before each message."""
    import shutil
    from types import SimpleNamespace

    from chatbot.cli import _use_promoted_model
    from chatbot.nlu.model_store import PromotedModel
    from training.registry import promote

    models = tmp_path / "models"
    shutil.copytree(model_dir, models)
    classifier = PromotedModel(models)
    first = classifier.version
    services = SimpleNamespace(parser=SimpleNamespace(classifier=classifier))
    _use_promoted_model(services)
    assert classifier.version == first and capsys.readouterr().err == ""

    second = f"{first[:-1]}{'0' if first[-1] != '0' else '1'}"
    shutil.copytree(models / first, models / second)
    promote(models, second)
    _use_promoted_model(services)
    assert classifier.version == second and second in capsys.readouterr().err

    (models / "promoted.json").write_text('{"version": "20990101-000000-deadbeef"}', encoding="utf-8")
    _use_promoted_model(services)  # a version that cannot load: the old one keeps answering
    assert classifier.version == second and "继续使用原模型" in capsys.readouterr().err
