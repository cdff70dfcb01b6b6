"""`chatbot logs ...`: the turn log for analysts (registered in chatbot/cli.py)."""
from __future__ import annotations

import typer

logs_app = typer.Typer(help="对话日志（供分析员标注）", no_args_is_help=True)
