"""`chatbot annotate ...`: analysts' labels into the training overlay (registered in chatbot/cli.py)."""
from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

annotate_app = typer.Typer(help="标注（训练数据叠加层）", no_args_is_help=True)


@annotate_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="logs export 导出、已填好 label 列的 .csv / .xlsx 文件")],
) -> None:
    """导入分析员的标注：先检查整个文件（有一行不对就什么都不导入），再新建/补充 FAQ、保存标注（保存失败则撤回 FAQ 改动）。"""
    from chatbot.cli import _settings, console
    from chatbot.clock import SystemClock
    from chatbot.storage.db import Database
    from training.annotations.importer import import_labels

    settings = _settings()
    database = Database.for_settings(settings)
    try:
        summary = import_labels(file, database, intents_path=settings.data_dir / "intents.yaml",
                                faq_path=settings.faq_path, make_editor=lambda: _faq_editor(settings),
                                by=annotator(), now=SystemClock().now(),
                                max_text_length=settings.max_text_length,
                                progress=lambda step: console.print(f"· {step}", highlight=False))
    finally:
        database.dispose()
    console.print(summary.line(), highlight=False, soft_wrap=True)


def annotator() -> str:
    """Who labels from this terminal: "cli:" and the OS user."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment nor the user database
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def _faq_editor(settings):
    """The FAQ editor over the configured file, as the service builds it (api/app.py): the
    saved index is loaded, and the edited one saved for the serving workers. Its edit takes
    the FAQ's lock and reads the file again, so a worker's edit meanwhile is kept."""
    from chatbot.cli import _artifact_dirs, console
    from knowledge.desk import KnowledgeDesk
    from knowledge.faq.editor import FaqEditor

    _artifact_dirs(settings)
    with console.status("加载 FAQ 索引…"):
        desk = KnowledgeDesk.load(settings.faq_path, None)
    return FaqEditor(desk, settings.faq_path)
