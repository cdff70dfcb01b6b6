"""Where the service reads its default data files and where it writes its own files.

**Data** (``data/`` of the repository: FAQ, knowledge graph, intent examples, demo bank,
dictionaries, WeChat menu) is read from the checkout's ``data/`` when the code runs from a
source checkout (``make run``, an editable install) and otherwise from the copy shipped
inside the package (``chatbot/default_data/``, put there by ``setup.py``'s build step).
``CHATBOT_DATA_DIR`` points elsewhere.

**The home** holds what the service writes: the SQLite database, intent models, FAQ
indexes, the NLU cache. It is the checkout's ``var/`` from a source checkout and ``./var``
of the working directory for an installed package; ``CHATBOT_HOME`` points elsewhere. An
installed package keeps the FAQ file there too, because admins edit it live: the shipped one
is copied into the home the first time, and a later upgrade's FAQ never overwrites the edits.

Nothing here reads the environment: the settings (``chatbot/settings.py``) do, and call these
for their defaults.
"""
from __future__ import annotations

import os
import uuid
from contextlib import suppress
from pathlib import Path

from chatbot.errors import ChatbotError

SOURCE_ROOT = Path(__file__).resolve().parents[1]
# Filled only in a built package (setup.py); a source checkout never has it.
PACKAGED_DATA_DIR = Path(__file__).resolve().parent / "default_data"
FAQ_FILE = "faq.yaml"
FAQ_TRAINING_FILE = "faq.training.yaml"
# What the service reads from the default data directory; a package missing one is broken.
DEFAULT_DATA_FILES = ("banking_dict.txt", "demo_bank.yaml", "demo_news.yaml", FAQ_FILE, FAQ_TRAINING_FILE,
                      "intents.yaml", "intents_test.tsv", "kg.yaml", "synonyms.yaml", "wechat_menu.yaml")


class DataFileMissing(ChatbotError):
    """A data file the service needs is not where the settings say."""

    default_code = "data_file_missing"


def source_root() -> Path | None:
    """The repository root when this code runs from a source checkout, else None."""
    if PACKAGED_DATA_DIR.is_dir():
        return None
    if (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "data").is_dir():
        return SOURCE_ROOT
    return None


def default_data_dir() -> Path:
    """The checkout's ``data/``, else the copy shipped in the package."""
    root = source_root()
    return root / "data" if root else PACKAGED_DATA_DIR


def default_home() -> Path:
    """The checkout's ``var/``, else ``./var`` of the working directory."""
    root = source_root()
    return root / "var" if root else Path.cwd() / "var"


def missing_default_files(data_dir: Path) -> list[str]:
    """The default data files absent from ``data_dir`` (the settings check the package's copy
    only: a directory named in CHATBOT_DATA_DIR may hold just the files its user needs)."""
    return [name for name in DEFAULT_DATA_FILES if not (data_dir / name).is_file()]


def data_file(data_dir: Path, name: str) -> Path:
    """``data_dir / name``, or DataFileMissing naming the setting that chose the directory."""
    path = Path(data_dir) / name
    if not path.is_file():
        raise DataFileMissing(f"数据文件不存在：{path}（数据目录由 CHATBOT_DATA_DIR 指定，"
                              f"未设置时为源码的 data/ 或软件包自带的数据）")
    return path


def default_faq_path(home: Path) -> Path:
    """The checkout's ``data/faq.yaml``; for an installed package ``<home>/faq.yaml``, copied
    there (with its training file) from the shipped one when it is not there yet."""
    root = source_root()
    if root:
        return root / "data" / FAQ_FILE
    for name in (FAQ_TRAINING_FILE, FAQ_FILE):  # the FAQ last: once it is there, both are
        source = PACKAGED_DATA_DIR / name
        if source.is_file() and not (home / name).exists():
            _copy_unless_present(source, home / name)
    return home / FAQ_FILE


def _copy_unless_present(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` whole, never over a file another process put (and an
    admin may have edited) there in the meantime."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(source.read_bytes())
        try:
            os.link(temporary, target)  # fails if the target exists; rename would replace it
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not target.exists():
                os.replace(temporary, target)
    except OSError as error:
        raise ValueError(f"CHATBOT_HOME: cannot put the FAQ file in {target.parent} ({error.strerror}); "
                         f"set CHATBOT_HOME to a writable directory") from None
    finally:
        with suppress(OSError):  # already renamed, never written, or its directory is not there
            temporary.unlink()
