"""`chatbot` command line. Errors are one line on stderr and a non-zero exit."""
from __future__ import annotations

import os
import sys
from functools import partial
from typing import Annotated

import typer
from rich.console import Console

from chatbot.errors import ChatbotError, InvalidInput
from chatbot.settings import Settings

app = typer.Typer(help="示例银行智能客服引擎", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库管理", no_args_is_help=True)
app.add_typer(db_app, name="db")
nlu_app = typer.Typer(help="语义理解", no_args_is_help=True)
app.add_typer(nlu_app, name="nlu")
models_app = typer.Typer(help="意图模型版本", no_args_is_help=True)
app.add_typer(models_app, name="models")
faq_app = typer.Typer(help="知识库问答", no_args_is_help=True)
app.add_typer(faq_app, name="faq")
wechat_app = typer.Typer(help="微信公众号", no_args_is_help=True)
app.add_typer(wechat_app, name="wechat")
wechat_menu_app = typer.Typer(help="公众号自定义菜单（data/wechat_menu.yaml）", no_args_is_help=True)
wechat_app.add_typer(wechat_menu_app, name="menu")
notify_app = typer.Typer(help="客户通知（申请进度、账单到期提醒）", no_args_is_help=True)
app.add_typer(notify_app, name="notify")
evidence_app = typer.Typer(help="理财销售留痕（哈希链）", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
push_app = typer.Typer(help="财经资讯推送（订阅摘要与重要资讯）", no_args_is_help=True)
app.add_typer(push_app, name="push")
console = Console()
err_console = Console(stderr=True)
# The analysts' commands live in their own modules; they import this one's helpers lazily.
from chatbot.cli_annotate import annotate_app  # noqa: E402
from chatbot.cli_keys import audit_app, keys_app  # noqa: E402
from chatbot.cli_logs import logs_app  # noqa: E402

app.add_typer(logs_app, name="logs")
app.add_typer(annotate_app, name="annotate")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidInput(f"配置有误：{_settings_problems(exc)}", "invalid_settings") from exc


def _settings_problems(exc: ValueError) -> str:
    """Which setting is wrong and why, on one line; never the values (they may be secrets)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return _first_line(exc)
    parts = []
    for error in errors(include_input=False, include_url=False):
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        names = [str(part) for part in error.get("loc", ())]
        parts.append(f"CHATBOT_{names[0].upper()}: {message}" if names else message)
    return "; ".join(parts) or type(exc).__name__


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="监听端口")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="工作进程数")] = 1,
) -> None:
    """启动 HTTP 服务（网页聊天、API、文档 /docs）。"""
    import logging

    import uvicorn

    from chatbot import logs, spread_workers
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database

    if not os.environ.get("CHATBOT_PUBLIC_BASE_URL"):
        # Download links in replies point where this server listens, unless the address
        # customers reach it by is configured (behind a proxy it must be).
        reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        os.environ["CHATBOT_PUBLIC_BASE_URL"] = f"http://{reachable}:{port}"
    settings = _settings()
    # Every line of this process and its workers in CHATBOT_LOG_FORMAT (chatbot/logs.py;
    # uvicorn applies it). With JSON logs the start-up notes below are log lines too, not
    # console text, so this process is configured before them.
    log_config = logs.logging_config(settings.log_format, settings.log_level)
    say = None
    if settings.log_format == "json":
        logs.configure(settings.log_format, settings.log_level)
        say = logging.getLogger("chatbot.serve").info
    database = Database.for_settings(settings)
    ensure_schema_current(database)  # fail here with one line, not inside every worker
    database.dispose()
    # A malformed FAQ file fails here, naming entry and field (its training file: id and line);
    # else the index is built once here (when the files changed) and every worker loads it.
    # This process only checks that it is saved: with one worker it is also the worker, and
    # with several it never answers (docs/knowledge_index.md, "Cold start").
    if _ensure_faq_index(settings).built:
        (say or partial(err_console.print, highlight=False))("FAQ 索引已构建并保存")
    _ensure_model(settings, say=say)
    (say or console.print)(f"示例银行智能客服：http://{host}:{port}/  （接口文档 /docs，环境 {settings.env}）")
    # Open event streams (agent consoles, chat pages) never finish on their own: give them
    # a few seconds on shutdown instead of waiting for every browser to go away.
    # api.worker:create_app is api.app:create_app built with the garbage collector paused.
    # uvicorn does not read proxy headers itself: the app does, after taking the request id
    # the proxy sent (api/request_log.py); the app also writes the access line.
    options = dict(loop="uvloop", http="httptools", log_level=settings.log_level.lower(),
                   log_config=log_config, access_log=False, proxy_headers=False, forwarded_allow_ips="",
                   timeout_graceful_shutdown=5)
    if workers > 1 and spread_workers.available():
        # One listening socket per worker, so connections spread evenly (chatbot/spread_workers.py).
        spread_workers.run("api.worker:create_app", host=host, port=port, workers=workers,
                           pin_cpus=settings.worker_cpu_affinity, **options)
    else:
        uvicorn.run("api.worker:create_app", factory=True, host=host, port=port, workers=workers, **options)


@app.command()
def chat(user_id: Annotated[str, typer.Option(help="终端用户标识")] = "terminal-user") -> None:
    """在终端里与机器人对话（同一引擎）。输入 exit 退出。"""
    from chatbot.service import build_services

    settings = _settings()
    _ensure_model(settings)
    _artifact_dirs(settings)
    services = build_services(settings)
    console.print("[bold]示例银行智能客服[/bold]（输入 exit 退出）")
    while True:
        try:
            text = console.input("[cyan]您：[/cyan]")
        except (EOFError, KeyboardInterrupt):
            break
        if text.strip().lower() in {"exit", "quit", "退出"}:
            break
        if not text.strip():
            continue
        _use_promoted_model(services)
        try:
            reply = services.engine.handle("terminal", user_id, text)
        except InvalidInput as exc:
            err_console.print(f"[red]{exc.message}[/red]")
            continue
        for item in reply.replies:
            console.print(f"[green]客服：[/green]{item.text}", highlight=False)
    services.close()


def _use_promoted_model(services) -> None:
    """A terminal conversation has no watcher thread (chatbot/nlu/model_watch.py): before each
    message it looks at the promoted pointer itself (one stat) and swaps when it changed."""
    refresh = getattr(services.parser.classifier, "refresh", None)
    if refresh is None:
        return
    try:
        if refresh():
            err_console.print(f"（已切换到新发布的意图模型 {services.parser.classifier.version}）", highlight=False)
    except Exception as error:  # noqa: BLE001 (the old model keeps answering, as in serve)
        err_console.print(f"[yellow]新发布的意图模型无法载入，继续使用原模型：{_first_line(error)}[/yellow]")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="目标版本")] = "head") -> None:
    """执行数据库迁移到最新结构。"""
    from chatbot.storage import migrate
    from chatbot.storage.db import Database

    database = Database.for_settings(_settings())
    database.check()
    migrate.upgrade(database, revision)
    console.print(f"数据库已迁移到 {migrate.current_revision(database)}（{database.backend}）")


@db_app.command("backup")
def db_backup(
    file: Annotated[str, typer.Argument(help="备份文件（tar）")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="覆盖已存在的备份文件")] = False,
) -> None:
    """在线备份数据库（服务运行时也可）：SQLite 用在线备份接口，PostgreSQL 用 pg_dump；记录结构版本。"""
    from pathlib import Path

    from chatbot.clock import SystemClock
    from chatbot.storage import backup

    manifest = backup.backup(_settings().database_url, Path(file), overwrite=overwrite, now=SystemClock().now())
    console.print(f"数据库已备份到 {file}（{manifest.backend}，结构版本 {manifest.schema_revision}，"
                  f"{manifest.payload_bytes:,} 字节）", highlight=False, soft_wrap=True)


@db_app.command("restore")
def db_restore(file: Annotated[str, typer.Argument(help="chatbot db backup 生成的备份文件")]) -> None:
    """用备份替换数据库（须先停止服务；备份的结构版本须与本程序一致）：全部恢复，或不做任何改动。"""
    from pathlib import Path

    from chatbot.clock import SystemClock
    from chatbot.storage import backup, migrate

    settings = _settings()
    manifest = backup.restore(settings.database_url, Path(file), head=migrate.head_revision(),
                              now=SystemClock().now(), heartbeat_seconds=settings.worker_heartbeat_seconds)
    console.print(f"数据库已从 {file} 恢复（{manifest.backend}，结构版本 {manifest.schema_revision}，"
                  f"备份于 {manifest.created_at}）", highlight=False, soft_wrap=True)


@app.command()
def seed() -> None:
    """创建演示银行数据（仅 sandbox 环境；重复运行不会改变数据）。"""
    from chatbot.clock import SystemClock
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database
    from chatbot.storage.seed import seed_demo_bank

    settings = _settings()
    if not settings.is_sandbox:
        raise InvalidInput("演示数据只能在 CHATBOT_ENV=sandbox 时创建", "not_sandbox")
    database = Database.for_settings(settings)
    ensure_schema_current(database)
    report = seed_demo_bank(database, settings.data_dir, SystemClock().now())
    if report.changed:
        console.print(f"演示银行已创建：客户 {report.customers_created} 位，交易 {report.transactions_posted} 笔，"
                      f"员工账号 {report.staff_created} 个，资讯 {report.news_created} 条")
    else:
        console.print("演示银行数据已存在，未做改动")


def _artifact_dirs(settings: Settings):
    """Where built FAQ indexes and derived NLU data (jieba's dictionary, the lexicon, pinyin
    readings) are kept; also told to the processes this one starts. Returns the FAQ one."""
    from chatbot.nlu import resource_cache
    from knowledge.faq.index_store import DIRECTORY_NAME, ENVIRONMENT_VARIABLE

    directory = settings.faq_index_dir or settings.model_dir / DIRECTORY_NAME
    os.environ[ENVIRONMENT_VARIABLE] = str(directory)  # read by KnowledgeDesk.load in the workers
    os.environ[resource_cache.ENVIRONMENT_VARIABLE] = str(settings.model_dir / resource_cache.DIRECTORY_NAME)
    return directory


def _ensure_faq_index(settings: Settings):
    """Make sure the FAQ index of exactly the current FAQ files is saved (build it if not)."""
    from knowledge.faq.index_store import ensure_saved

    directory = _artifact_dirs(settings)
    with console.status("FAQ 索引…"):
        return ensure_saved(settings.faq_path, directory)


def _ensure_model(settings: Settings, say=None) -> None:
    """Train and promote a first intent model when none is promoted yet; make sure the
    promoted one's compiled arrays are saved (the workers load them, not the pipeline).
    `say`: where the notes go instead of the console (JSON logs of `serve`)."""
    from chatbot.nlu.model_store import ensure_compiled, promoted_version

    version = promoted_version(settings.model_dir)
    if version is None:
        (say or err_console.print)("尚无已发布的意图模型，先训练一个……")
        _train(settings, say=say)
    else:
        ensure_compiled(settings.model_dir, version)


def _train(settings: Settings, say=None):
    from training.train import train as run_training

    overlay = _training_overlay(settings, say=say)
    with console.status("训练中…") as status:
        result = run_training(settings.data_dir / "intents.yaml", settings.model_dir,
                              settings.data_dir / "intents_test.tsv",
                              progress=lambda step: (status.update(step), (say or console.print)(f"· {step}")),
                              overlay=overlay)
    return result


def _training_overlay(settings: Settings, say=None) -> list:
    """The analysts' labels to train on (the train part of the overlay); none, and said so,
    when the database has no annotations table yet (a SQLite file that is not there is not
    created). An unreachable database is an error: a model silently trained without the
    labels would look like one trained with them."""
    from pathlib import Path

    from chatbot.storage.db import Database
    from training.annotations.store import has_annotations, overlay_split

    without = "· 数据库尚无标注表（未运行 chatbot db upgrade）：只用训练文件训练"
    database = Database.for_settings(settings)
    try:
        if database.is_sqlite and database.url.database not in (None, "", ":memory:") \
                and not Path(database.url.database).exists():
            (say or partial(console.print, highlight=False))(without)
            return []
        with database.read() as db:
            if not has_annotations(db):
                (say or partial(console.print, highlight=False))(without)
                return []
            return overlay_split(db)[0]
    finally:
        database.dispose()


@app.command()
def train() -> None:
    """训练意图模型（训练文件加分析员的标注），生成新版本（尚无发布版本时自动发布）。"""
    result = _train(_settings())
    metrics = ", ".join(f"{k}={v}" for k, v in result.metrics.items())
    console.print(f"新模型版本 {result.version}{'（已发布）' if result.promoted else ''}：{metrics}")


@app.command()
def evaluate(
    test: Annotated[str | None, typer.Option("--test", help="留出测试集（TSV：意图<TAB>文本）")] = None,
    out: Annotated[str, typer.Option(help="报告输出目录")] = "var/reports/latest",
    folds: Annotated[int, typer.Option(min=2, max=20, help="交叉验证折数")] = 5,
    real: Annotated[str | None, typer.Option(
        "--real", help="真实说法集（TSV：意图<TAB>文本<TAB>类别；默认 data/intents_real.tsv，若存在）")] = None,
    compare: Annotated[tuple[str, str] | None, typer.Option(
        "--compare", metavar="V1 V2", help="在同一留出数据（测试文件 + 分析师留出标注）上对比两个已保存的模型版本")] = None,
) -> None:
    """交叉验证（及留出测试、真实说法集）意图模型，写出报告：各意图 P/R/F1、混淆矩阵 CSV/PNG、误判样例、可靠性图。"""
    from pathlib import Path

    from training.evaluate import evaluate as run_evaluation
    from training.real_set import REAL_FILE

    settings = _settings()
    if compare is not None:
        _compare_versions(settings, *compare, Path(out), Path(test) if test else None)
        return
    real_path = Path(real) if real else settings.data_dir / REAL_FILE
    if real and not real_path.is_file():
        raise InvalidInput(f"真实说法集文件不存在：{real}", "bad_test_file")
    with console.status("评估中…") as status:
        summary = run_evaluation(settings.data_dir / "intents.yaml", Path(out),
                                 Path(test) if test else None, folds,
                                 progress=lambda step: (status.update(step), console.print(f"· {step}")),
                                 real_path=real_path if real_path.is_file() else None)
    line = f"交叉验证准确率 {summary.cv.accuracy:.4f}，宏平均 F1 {summary.cv.macro_f1:.4f}"
    if summary.test is not None:
        line += f"；留出集准确率 {summary.test.accuracy:.4f}，宏平均 F1 {summary.test.macro_f1:.4f}"
    console.print(line)
    if summary.real is not None:
        console.print(summary.real.line(), highlight=False, soft_wrap=True)
    console.print(f"报告：{summary.out_dir}")


def _compare_versions(settings: Settings, before: str, after: str, out, test_path) -> None:
    """`evaluate --compare V1 V2`: both versions on the same held-out data; report to `out`."""
    from chatbot.nlu.model_store import version_dir
    from training import compare, heldout

    for version in (before, after):
        version_dir(settings.model_dir, version)  # an unknown version: one line, before any work
    database = _database_if_reachable(settings)
    try:
        with console.status("读取留出数据…"):
            held_out = heldout.load(settings.data_dir, database, test_path)
    finally:
        if database is not None:
            database.dispose()
    if not held_out.examples:
        raise InvalidInput(f"没有可用于对比的留出数据：{held_out.describe()}", "no_held_out_data")
    with console.status(f"在 {len(held_out.examples)} 条留出数据上评分…"):
        result = compare.compare(settings.model_dir, before, after, held_out)
    for line in compare.summary_lines(result):
        console.print(line, highlight=False, soft_wrap=True)
    json_path, md_path = compare.write_report(result, out)
    console.print(f"报告：{md_path}，{json_path}", highlight=False)


def _database_if_reachable(settings: Settings):
    """The configured database, or None when it cannot be opened (the held-out data then
    comes from the test file alone, and the report says so). A SQLite file that is not there
    is not created."""
    from pathlib import Path

    from chatbot.storage.db import Database

    try:
        database = Database.for_settings(settings)
    except ChatbotError:
        return None
    if database.is_sqlite and database.url.database not in (None, "", ":memory:") \
            and not Path(database.url.database).exists():
        database.dispose()
        return None
    return database


@nlu_app.command("parse")
def nlu_parse(text: Annotated[str, typer.Argument(help="要解析的句子")]) -> None:
    """解析一句话：意图、置信度、实体、分词（JSON）。"""
    import json

    from chatbot.clock import SystemClock, bank_today
    from chatbot.nlu.model_store import PromotedModel
    from chatbot.nlu.parser import Parser

    settings = _settings()
    _validate_text(text, settings)
    _artifact_dirs(settings)
    result = Parser(PromotedModel(settings.model_dir)).parse(text, bank_today(SystemClock()))
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


@faq_app.command("search")
def faq_search(text: Annotated[str, typer.Argument(help="问题")],
               top_k: Annotated[int, typer.Option(min=1, max=20, help="返回条数")] = 5) -> None:
    """在 FAQ 知识库中检索（JSON）。"""
    import json

    from knowledge.faq.index_store import load_retriever

    settings = _settings()
    _validate_text(text, settings)
    hits = load_retriever(settings.faq_path, _artifact_dirs(settings)).retriever.search(text, top_k)
    print(json.dumps({"results": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=2))


@faq_app.command("build-index")
def faq_build_index() -> None:
    """构建并保存 FAQ 检索索引（FAQ 或其训练问法未变时直接载入已有索引）；`chatbot serve` 启动时也会做。"""
    from knowledge.faq.index_store import load_retriever

    settings = _settings()
    directory = _artifact_dirs(settings)
    with console.status("FAQ 索引…"):
        loaded = load_retriever(settings.faq_path, directory)
    state = "已构建" if loaded.built else "已存在，未变"
    console.print(f"FAQ 索引{state}：{len(loaded.retriever.entries)} 条，{loaded.seconds:.1f} 秒，"
                  f"{directory}/{loaded.key}.npz", highlight=False)


def _validate_text(text: str, settings: Settings) -> None:
    if not text.strip():
        raise InvalidInput("文本不能为空", "empty_text")
    if len(text) > settings.max_text_length:
        raise InvalidInput(f"文本过长，请控制在 {settings.max_text_length} 字以内", "text_too_long")


@models_app.command("list")
def models_list() -> None:
    """列出模型版本（最新在前），标出已发布版本；以及各服务进程正在使用的版本。"""
    from rich.table import Table

    from training.registry import list_versions

    settings = _settings()
    versions = list_versions(settings.model_dir)
    if not versions:
        console.print("还没有模型版本：运行 `chatbot train`")
        return
    table = Table("版本", "创建时间", "留出集准确率", "已发布")
    for v in versions:
        table.add_row(v.version, v.created_at[:19], str(v.metrics.get("held_out_accuracy", "-")),
                      "✓" if v.promoted else "")
    console.print(table)
    workers = _serving_workers(settings)
    if workers:
        console.print(f"服务进程 {len(workers)} 个：")
        for w in workers:
            stale = "（已失联）" if w["stale"] else ""
            console.print(f"  {w['host']} pid {w['pid']}：{w['model_version'] or '-'}，"
                          f"最近心跳 {w['seen_at'][:19]}{stale}", highlight=False)


def _serving_workers(settings: Settings) -> list[dict]:
    """What `serving_workers` says, or nothing when the database is not there yet."""
    from chatbot.clock import SystemClock
    from chatbot.nlu.model_watch import workers_report

    database = _database_if_reachable(settings)
    if database is None:
        return []
    try:
        return workers_report(database, SystemClock().now(), settings.worker_heartbeat_seconds)
    except ChatbotError:
        return []
    finally:
        database.dispose()


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="模型版本")],
    force: Annotated[bool, typer.Option("--force", help="回归门禁拒绝时仍然发布（记入审计日志）")] = False,
) -> None:
    """发布某个模型版本（先过回归门禁）；运行中的服务随即切换，无需重启。"""
    import getpass

    from chatbot.clock import SystemClock
    from chatbot.nlu.model_store import version_dir
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database
    from training import gate

    settings = _settings()
    version_dir(settings.model_dir, version)  # an unknown version: one line, before any work
    database = Database.for_settings(settings)
    try:
        ensure_schema_current(database)  # every promotion is audited
        with console.status("回归门禁：在留出数据上对比已发布版本…"):
            result = gate.promote(settings, database, version, f"cli:{getpass.getuser()}", SystemClock().now(),
                                  force=force, announce=_announcer(settings))
    finally:
        database.dispose()
    console.print(result.summary(), highlight=False, soft_wrap=True)
    forced = "（已强制发布，已记入审计日志）" if not result.passed else ""
    console.print(f"已发布模型 {version}{forced}", highlight=False)


def _announcer(settings: Settings):
    """Through Redis when configured (every worker swaps within about a second); otherwise
    the workers notice `promoted.json` on their next look."""
    if not settings.redis_url:
        return None
    from chatbot.nlu.model_watch import announce_via_redis

    return lambda version: announce_via_redis(settings.redis_url, version)


@wechat_menu_app.command("show")
def wechat_menu_show() -> None:
    """校验菜单文件并打印将要推送的 JSON。"""
    import json

    from chatbot.channels.wechat.menu import load_menu

    menu = load_menu(_settings().wechat_menu_path)
    print(json.dumps(menu.to_wechat(), ensure_ascii=False, indent=2))


@wechat_menu_app.command("push")
def wechat_menu_push() -> None:
    """把菜单推送到公众号（需 CHATBOT_WECHAT_APPID / CHATBOT_WECHAT_SECRET）。"""
    from chatbot.channels.wechat.menu import load_menu
    from chatbot.channels.wechat.setup import build_api, redis_client

    settings = _settings()
    menu = load_menu(settings.wechat_menu_path)
    client = redis_client(settings.redis_url)  # share the workers' access token, never replace it
    api = build_api(settings, client)
    try:
        api.create_menu(menu.to_wechat())
    finally:
        api.close()
        if client is not None:
            client.close()
    console.print(f"公众号菜单已推送：{len(menu.buttons)} 个一级菜单，{len(menu.leaves())} 个按钮")


def _run_job(job_for_cli):
    """Run a notification job once against the configured database and print its report."""
    from chatbot.clock import SystemClock
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database

    settings = _settings()
    database = Database.for_settings(settings)
    try:
        ensure_schema_current(database)
        job, close = job_for_cli(settings, database, SystemClock())
        try:
            report = job.run()
        finally:
            close()
    finally:
        database.dispose()
    console.print(report.line(), highlight=False)
    return report


@notify_app.command("run")
def notify_run() -> None:
    """立即发送待发的通知：申请进度（已提交、审核通过/未通过、卡片寄出、已放款）、3 天内到期的账单与即将到期的理财。"""
    from chatbot.notify.job import job_for_cli

    report = _run_job(job_for_cli)
    if report.errors:
        raise ChatbotError(f"{report.errors} 条通知未能记录，详见日志（下次运行会重试）", "notify_failed")


@push_app.command("run")
def push_run() -> None:
    """立即推送财经资讯：到期的订阅摘要（每天 / 每周三次 / 每周）与重要资讯。"""
    from chatbot.news.push import job_for_cli

    report = _run_job(job_for_cli)
    if report.errors:
        raise ChatbotError(f"{report.errors} 位客户的资讯未能记录，详见日志（下次运行会重试）", "push_failed")


@evidence_app.command("verify")
def evidence_verify() -> None:
    """逐条校验留痕记录的哈希链：完好时输出记录条数；否则指出第一条断裂的记录并以 1 退出。"""
    from chatbot.wealth.evidence import verify

    report = read_current_database(verify)
    if not report.ok:
        raise ChatbotError(f"留痕链在第 {report.broken_id} 号记录处断裂：{report.reason}（此前 {report.count} 条完好）",
                           "evidence_broken")
    console.print(f"留痕链完好：共 {report.count} 条记录", highlight=False)


def read_current_database(read):
    """`read(db)` in a read session of the settings' database, once its schema is current
    (a one-line error otherwise); the database is let go afterwards."""
    from chatbot.schema import ensure_schema_current
    from chatbot.storage.db import Database

    database = Database.for_settings(_settings())
    try:
        ensure_schema_current(database)
        with database.read() as db:
            return read(db)
    finally:
        database.dispose()


def main() -> None:
    """Console-script entry point: one line per error, exit status 1."""
    try:
        app(standalone_mode=False)
    except ChatbotError as exc:
        err_console.print(f"错误：{exc.message}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and anything unexpected
        _report_unexpected(exc)


def _report_unexpected(exc: Exception) -> None:
    import click

    if isinstance(exc, click.ClickException):
        exc.show()
        sys.exit(exc.exit_code)
    err_console.print(f"错误：{type(exc).__name__}: {_first_line(exc)}", highlight=False, soft_wrap=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
