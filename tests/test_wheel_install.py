"""The installed package: build the wheel, install it into a fresh virtual environment and run
`chatbot db upgrade`, `seed` and a chat turn from another directory, with a temporary home.

Cheap by design (issue 23): the new environment installs the wheel alone (`--no-deps
--no-index`) and sees the dependencies already installed here through a `.pth` file; the home
starts with the session's trained model and FAQ index (first-run training is `chatbot chat`'s
and `serve`'s own code, tested from the checkout). Deselect with `-m "not wheel"`.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Not part of the package, or built from it: left out of the source the wheel is built from.
NOT_SOURCE_AT_TOP = {".venv", ".git", "var", "tests", "bench", "build", "dist", "test-artifacts", ".pytest_cache"}

pytestmark = pytest.mark.wheel


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the checkout (a build in place would leave build/ here, shared
    by whoever builds next). Without an isolated build environment when this one can build
    wheels: it saves installing setuptools for every run."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_not_source)
    local = importlib.util.find_spec("wheel") or _setuptools_builds_wheels()
    command = [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(tmp_path / "dist"), "--no-deps",
               "--quiet", *(["--no-build-isolation"] if local else [])]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if built.returncode and "setuptools" in built.stderr and "No matching distribution" in built.stderr:
        pytest.skip(f"no package index to install the build requirements from: {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("bank_chatbot-*.whl")
    return wheel


def _not_source(directory: str, names: list[str]) -> list[str]:
    top = Path(directory) == ROOT
    return [name for name in names
            if (top and name in NOT_SOURCE_AT_TOP) or name == "__pycache__" or name.endswith(".egg-info")]


def _setuptools_builds_wheels() -> bool:
    try:
        return importlib.util.find_spec("setuptools.command.bdist_wheel") is not None
    except ImportError:
        return False


def _install(wheel: Path, venv: Path) -> Path:
    """A virtual environment holding the wheel, that imports the dependencies from this one's
    site-packages (a `.pth` line: that directory's own `.pth` files, among them the editable
    install of this checkout, are not run, so `chatbot` can only come from the wheel)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                                "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(here)), encoding="utf-8")
    return venv / "bin"


def _prepared_home(home: Path, model_dir: Path, faq_index_dir: Path) -> Path:
    """The session's promoted model and FAQ index where the installed package looks by default."""
    shutil.copytree(model_dir, home / "models", ignore=shutil.ignore_patterns("*.lock"))
    shutil.copytree(faq_index_dir, home / "models" / "faq_index")
    return home


def test_installed_wheel_migrates_seeds_and_chats_from_another_directory(tmp_path, model_dir, faq_index_dir):
    wheel = _build_wheel(tmp_path)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data_files = {p.name for p in (ROOT / "data").iterdir() if p.is_file() and not p.name.startswith(".")}
    assert {f"chatbot/default_data/{name}" for name in data_files} <= shipped
    assert {"api/static/index.html", "chatbot/storage/migrations/env.py"} <= shipped
    bin_dir = _install(wheel, tmp_path / "venv")
    home = _prepared_home(tmp_path / "home", model_dir, faq_index_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHATBOT_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(CHATBOT_HOME=str(home), CHATBOT_ENV="sandbox", COLUMNS="200")

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(bin_dir / args[0]), *args[1:]], input=stdin, capture_output=True, text=True,
                              env=env, cwd=elsewhere, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    origins = run("python", "-c", "import api, chatbot, knowledge, training; "
                                  "print('\\n'.join(m.__file__ for m in (api, chatbot, knowledge, training)))")
    assert all(Path(line).is_relative_to(tmp_path / "venv") for line in origins.split()), origins
    assert "数据库已迁移到" in run("chatbot", "db", "upgrade")
    assert "演示银行已创建" in run("chatbot", "seed")
    chat = run("chatbot", "chat", stdin="你好\n挂失要收费吗\nexit\n").replace("\n", "")
    assert "您好" in chat and "工本费" in chat, chat
    assert not any(elsewhere.iterdir())  # everything it wrote is in the home
    assert (home / "chatbot.db").is_file()
    assert (home / "faq.yaml").read_bytes() == (ROOT / "data" / "faq.yaml").read_bytes()
