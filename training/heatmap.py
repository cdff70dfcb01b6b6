"""Confusion-matrix heatmaps as PNG, with intent names and a Chinese title that render.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs, so a CJK font installed from
Debian's packages (fonts-noto-cjk, fonts-wqy-*) is looked up among the fonts matplotlib
knows. Without one the picture is still written, with boxes for the Chinese characters,
and the caller gets a warning line instead of a crash.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Best first: Simplified-Chinese faces, then any CJK face matplotlib can read.
PREFERRED_FONTS = (
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Noto Serif CJK SC", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN",
)
NO_CJK_FONT = "警告：未找到中文字体（可安装 Debian 软件包 fonts-noto-cjk），热力图中的中文将无法显示"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # never a display: evaluation runs on servers and in CI
    from matplotlib import pyplot

    return pyplot


def find_cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in PREFERRED_FONTS:
        if name in names:
            return name
    fallback = sorted(n for n in names if "CJK" in n or "Han" in n or "WenQuanYi" in n)
    return fallback[0] if fallback else None


def write_heatmap(matrix: np.ndarray, labels: Sequence[str], title: str, path: Path) -> str | None:
    """Draw `matrix` (rows: true intent, columns: predicted) to `path`.

    Colours are row-normalized (the share of each true intent's examples) so that small and
    large intents are comparable; the cells show the raw counts. Returns a warning line when
    no Chinese font was found, else None.
    """
    plt = _pyplot()
    font = find_cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with plt.rc_context({"font.family": families, "axes.unicode_minus": False}), \
            warnings.catch_warnings():
        # Without a CJK font every Chinese glyph would warn; the caller already gets one line.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from", category=UserWarning)
        figure = _draw(np.asarray(matrix), list(labels), title)
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
    return None if font else NO_CJK_FONT


def _draw(matrix: np.ndarray, labels: list[str], title: str):
    plt = _pyplot()
    size = max(6.0, 0.42 * len(labels) + 3.0)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="占真实意图的比例")
    ticks = np.arange(len(labels))
    axes.set_xticks(ticks, labels, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    axes.set_yticks(ticks, labels, fontsize=8)
    axes.set_xlabel("预测意图")
    axes.set_ylabel("真实意图")
    axes.set_title(title, fontsize=14, pad=12)
    _annotate(axes, matrix, shares)
    return figure


def _annotate(axes, matrix: np.ndarray, shares: np.ndarray) -> None:
    # Only non-zero cells: 32 x 32 zeros would drown the few confusions worth seeing.
    for row, col in zip(*np.nonzero(matrix)):
        colour = "white" if shares[row, col] > 0.6 else "black"
        axes.text(col, row, str(matrix[row, col]), ha="center", va="center", fontsize=7, color=colour)
