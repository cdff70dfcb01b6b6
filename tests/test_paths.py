"""Where data is read and files are written: a source checkout, an installed package, the
CHATBOT_HOME and CHATBOT_DATA_DIR settings (chatbot/paths.py)."""
import shutil
from pathlib import Path

import pytest

from chatbot import paths
from chatbot.cli import _settings
from chatbot.errors import InvalidInput
from chatbot.settings import DATA_DIR, Settings
from chatbot.storage.seed import load_demo_bank

ROOT = Path(__file__).resolve().parents[1]


def test_a_checkout_reads_its_data_and_writes_its_var():
    settings = Settings()
    assert settings.data_dir == DATA_DIR == ROOT / "data"
    assert settings.home == ROOT / "var"
    assert settings.database_url == f"sqlite:///{ROOT / 'var' / 'chatbot.db'}"
    assert settings.model_dir == ROOT / "var" / "models"
    assert settings.faq_path == ROOT / "data" / "faq.yaml"


def test_the_home_holds_the_database_and_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHATBOT_HOME", "deploy")  # relative: from the working directory
    settings = Settings()
    assert settings.home == tmp_path / "deploy"
    assert settings.database_url == f"sqlite:///{tmp_path / 'deploy' / 'chatbot.db'}"
    assert settings.model_dir == tmp_path / "deploy" / "models"
    assert Settings(model_dir=tmp_path / "m").model_dir == tmp_path / "m"  # an explicit setting wins


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Path:
    """As if installed: the shipped copy of data/ exists, the working directory is elsewhere."""
    shipped = tmp_path / "site-packages" / "chatbot" / "default_data"
    shutil.copytree(ROOT / "data", shipped, ignore=shutil.ignore_patterns(".*"))
    monkeypatch.setattr(paths, "PACKAGED_DATA_DIR", shipped)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return shipped


def test_an_installed_package_reads_the_shipped_data_and_writes_under_dot_var(installed, tmp_path):
    settings = Settings()
    home = tmp_path / "work" / "var"
    assert (settings.data_dir, settings.home, settings.model_dir) == (installed, home, home / "models")
    assert settings.wechat_menu_path == installed / "wechat_menu.yaml"
    assert settings.faq_path == home / "faq.yaml"  # admins edit it: kept in the home, not the package
    assert settings.faq_path.read_bytes() == (installed / "faq.yaml").read_bytes()
    assert (home / "faq.training.yaml").read_bytes() == (installed / "faq.training.yaml").read_bytes()


def test_an_edited_faq_in_the_home_is_never_replaced(installed, tmp_path):
    faq = Settings().faq_path
    faq.write_text("entries: []\n", encoding="utf-8")
    assert Settings().faq_path.read_text(encoding="utf-8") == "entries: []\n"


def test_a_home_the_faq_cannot_be_copied_into_names_the_setting(installed, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    monkeypatch.setenv("CHATBOT_HOME", str(tmp_path / "a-file" / "home"))
    with pytest.raises(InvalidInput) as error:
        _settings()
    assert error.value.message.startswith("配置有误：CHATBOT_HOME: cannot put the FAQ file in ")


def test_a_package_without_its_data_names_the_setting(installed, monkeypatch):
    (installed / "intents.yaml").unlink()
    with pytest.raises(InvalidInput) as error:
        _settings()
    assert "CHATBOT_DATA_DIR" in error.value.message and "intents.yaml" in error.value.message


def test_a_data_directory_that_is_not_there_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(InvalidInput) as error:
        _settings()
    assert error.value.message.startswith("配置有误：CHATBOT_DATA_DIR: ")


def test_a_missing_data_file_names_the_setting(tmp_path):
    with pytest.raises(paths.DataFileMissing) as error:
        load_demo_bank(tmp_path)
    assert "demo_bank.yaml" in error.value.message and "CHATBOT_DATA_DIR" in error.value.message
