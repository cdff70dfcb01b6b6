"""`chatbot logs ...`: the turn log for analysts (registered in chatbot/cli.py).

    chatbot logs export --since 2026-11-01 --until 2026-11-07 [--uncertain 0.6] [--kind K]... --out F

Dates are days at the bank (China time), both inclusive; without them, the last 7 days.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer

from chatbot.errors import InvalidInput

logs_app = typer.Typer(help="对话日志（供分析员标注）", no_args_is_help=True)

DEFAULT_DAYS = 7
PROGRESS_FROM = 500  # rows: a shorter export is done before a bar would mean anything
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


KIND_HELP = ("只导出这些类型（可重复）：not_understood, clarify, faq_not_found, handoff, low_rating, unhelpful, "
             "uncertain；默认除 uncertain 外全部")


@logs_app.command("export")
def logs_export(
    out: Annotated[str, typer.Option("--out", help="输出文件（.xlsx 或 .csv）")],
    since: Annotated[str | None, typer.Option("--since", help="起始日期 YYYY-MM-DD（含）；默认最近 7 天")] = None,
    until: Annotated[str | None, typer.Option("--until", help="截止日期 YYYY-MM-DD（含）；默认今天")] = None,
    uncertain: Annotated[float | None, typer.Option("--uncertain", help="另导出置信度低于此值的对话，(0, 1]")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind", help=KIND_HELP)] = None,
) -> None:
    """导出值得标注的对话（未理解、需澄清、FAQ 未命中、转人工、差评、低置信度），相似说法归为一组。"""
    from chatbot.cli import _settings, console
    from chatbot.clock import SystemClock, bank_today
    from training.logs.export import check_writable
    from training.logs.select import wanted_kinds

    path = Path(out)
    if uncertain is not None and not 0 < uncertain <= 1:
        raise InvalidInput(f"--uncertain 须在 (0, 1] 之内（如 0.6），而不是 {uncertain}", "bad_threshold")
    wanted_kinds(kind or None, uncertain)  # an unknown kind is refused before any work
    first, last = export_days(since, until, bank_today(SystemClock()))
    check_writable(path)
    result = _export(_settings(), path, first, last, kind or None, uncertain)
    console.print(f"已导出 {result.rows} 条对话，{result.groups} 组：{result.path}",
                  highlight=False, soft_wrap=True)
    if result.capped:
        console.print(f"注意：符合条件的对话超过上限 {result.limit} 条，只导出了最新的 {result.limit} 条，"
                      "更早的没有导出；请用更窄的 --since/--until 分几次导出", highlight=False, soft_wrap=True)


def export_days(since: str | None, until: str | None, today: date) -> tuple[date, date]:
    """The first and last day asked for (both inclusive), checked."""
    last = parse_day(until, "--until") if until else today
    first = parse_day(since, "--since") if since else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput(f"--since {first} 晚于 --until {last}", "bad_date")
    return first, last


def parse_day(text: str, option: str) -> date:
    if not _DAY.fullmatch(text.strip()):
        raise InvalidInput(f"{option} 日期格式应为 YYYY-MM-DD，而不是 {text!r}", "bad_date")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{option} 不是有效日期：{text}", "bad_date") from exc


def bank_day_start(day: date) -> datetime:
    """Midnight of `day` at the bank, as an aware datetime."""
    from chatbot.clock import BANK_TZ

    return datetime.combine(day, time(0), tzinfo=BANK_TZ)


def _export(settings, path: Path, first: date, last: date, kinds, uncertain):
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database
    from training.datasets import load_intents
    from training.logs.export import export_turns

    training = load_intents(settings.data_dir / "intents.yaml")
    database = Database.for_settings(settings)
    try:
        ensure_schema_current(database)
        with database.read() as db, _progress_bar() as progress:
            return export_turns(db, path, since=bank_day_start(first),
                                until=bank_day_start(last + timedelta(days=1)), kinds=kinds, uncertain_below=uncertain,
                                known_intents={e.intent for e in training}, training=training,
                                progress=progress, faq_questions=_faq_questions(settings.faq_path))
    finally:
        database.dispose()


def _faq_questions(faq_path: Path) -> dict[str, str]:
    """FAQ id -> question, to name a clarification's options; none if the file cannot be read
    (the export does not depend on it)."""
    from chatbot.errors import ChatbotError
    from knowledge.faq.store import load_faq

    try:
        return {entry.id: entry.question for entry in load_faq(faq_path)}
    except (ChatbotError, OSError):
        return {}


class _progress_bar:
    """On stderr: a spinner while turns are selected and grouped, then a bar while rows are
    written (exports of PROGRESS_FROM rows or more). Both vanish when done."""

    def __enter__(self):
        from chatbot.cli import err_console

        self._console = err_console
        self._status = err_console.status("选取对话并分组…")
        self._status.start()
        self._bar = self._task = None
        return self._update

    def _update(self, done: int, total: int) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if total < PROGRESS_FROM:
            return
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("写入"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=self._console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task("export", total=total)
        if done == total or done % 100 == 0:
            self._bar.update(self._task, completed=done)

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()
        if self._bar is not None:
            self._bar.stop()
