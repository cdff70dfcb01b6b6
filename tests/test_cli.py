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
def cli_env(tmp_path):
    return {"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATBOT_ENV": "sandbox"}


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
    result = run(["seed"], {**cli_env, "CHATBOT_ENV": "production", "CHATBOT_SECRET_KEY": "x" * 32})
    assert result.returncode == 1 and "sandbox" in result.stderr


def test_bad_setting_is_one_line(cli_env):
    result = run(["seed"], {**cli_env, "CHATBOT_ENV": "moon"})
    assert result.returncode == 1 and result.stderr.startswith("错误：配置有误")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_command_exits_non_zero(cli_env):
    assert run(["fly"], cli_env).returncode != 0
