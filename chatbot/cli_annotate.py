"""`chatbot annotate ...`: analysts' labels into the training overlay (registered in chatbot/cli.py)."""
from __future__ import annotations

import typer

annotate_app = typer.Typer(help="标注（训练数据叠加层）", no_args_is_help=True)
