"""`chatbot keys rotate` and `chatbot audit verify`: the operator's side of data at rest
(docs/security.md, "Personal data at rest")."""
from __future__ import annotations

from typing import Annotated

import typer

from chatbot.errors import ChatbotError

keys_app = typer.Typer(help="个人数据密钥（CHATBOT_DATA_KEY）", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志（只增不改的哈希链）", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="每个事务重新加密的客户数")] = 500,
) -> None:
    """在当前数据密钥下重新加密客户的证件号与手机号（旧密钥设为 CHATBOT_DATA_KEY_OLD）；分批提交，中断后重跑即可继续。"""
    from chatbot.cli import _settings, console
    from chatbot.clock import SystemClock
    from chatbot.schema import ensure_schema_current
    from chatbot.storage import key_rotation
    from chatbot.storage.db import Database

    settings = _settings()
    database = Database.for_settings(settings)
    try:
        ensure_schema_current(database)
        key_rotation.refuse_if_a_worker_lacks_the_key(database, SystemClock().now(), settings.worker_heartbeat_seconds)
        total = key_rotation.pending(database)
        current = database.data_keys.current.key_id
        if total == 0:
            console.print(f"所有客户数据已由当前数据密钥 {current} 加密，无需轮换", highlight=False)
            return
        console.print(f"待重新加密：{total} 位客户（当前密钥 {current}）", highlight=False)
        report = key_rotation.rotate(database, batch=batch, on_batch=lambda r: console.print(
            f"  已重新加密 {r.rotated}/{total}", highlight=False))
    finally:
        database.dispose()
    if report.remaining:
        raise ChatbotError(f"仍有 {report.remaining} 位客户的数据不在当前密钥下（轮换期间有写入？请再运行一次）",
                           "rotation_incomplete")
    console.print(f"轮换完成：{report.rotated} 位客户的数据已由密钥 {current} 加密；"
                  "现在可以去掉 CHATBOT_DATA_KEY_OLD 并重启服务", highlight=False)


@audit_app.command("verify")
def audit_verify() -> None:
    """逐条校验审计日志的哈希链：完好时输出记录条数；否则指出第一条断裂的记录并以 1 退出。"""
    from chatbot.cli import console, read_current_database
    from chatbot.storage import audit

    report = read_current_database(audit.verify)
    if not report.ok:
        raise ChatbotError(f"审计日志在第 {report.broken_id} 号记录处断裂：{report.reason}（此前 {report.count} 条完好）",
                           "audit_broken")
    console.print(f"审计日志完好：共 {report.count} 条记录，最新哈希 {report.head}", highlight=False)
