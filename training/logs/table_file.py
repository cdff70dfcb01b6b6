"""The export file an analyst edits: `.csv` (UTF-8 with BOM, which Excel opens as UTF-8) or
`.xlsx`, with the columns of DESIGN.md's "Wave 2 contract". `chatbot logs export` writes it;
`chatbot annotate import` reads it back. Reading refuses, with a line number, what an edit
could have broken: the header, an unreadable file, an empty one.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import InvalidInput

COLUMNS = ("turn_id", "at", "channel", "text", "intent", "confidence", "top3", "faq_candidates",
           "kind", "group", "suggested", "label", "faq_question", "faq_answer")
# What an import needs; the other columns are for the analyst's eyes and may be deleted.
REQUIRED = ("text", "label", "faq_question", "faq_answer")
SUFFIXES = (".csv", ".xlsx")
SHEET_TITLE = "待标注"
MAX_ROWS = 200_000  # an export is for people: far more than anyone labels in a file
# Checked before parsing: a 20,000-turn export is a few MB, so these only stop a wrong or
# hostile file (a CSV of gigabytes, an .xlsx that inflates from kilobytes to gigabytes).
MAX_FILE_BYTES = 50 * 1024 * 1024          # on disk, either format
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024  # an .xlsx's zip members, uncompressed, together


@dataclass(frozen=True)
class TableRow:
    line: int  # the line in the file (the header is line 1), for error messages
    values: dict[str, str]  # column -> cell text ("" when empty)


def check_suffix(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"不支持的文件类型 {suffix or '（无扩展名）'}：请用 .csv 或 .xlsx", "bad_table_file")
    return suffix


def write_table(path: Path, rows: Iterable[Mapping[str, object]],
                progress: Callable[[int], None] = lambda _: None) -> int:
    """Write rows (missing columns empty) atomically; `progress` is told after each row.
    Returns how many rows were written."""
    path = Path(path)
    suffix = check_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        count = (_write_csv if suffix == ".csv" else _write_xlsx)(temporary, rows, progress)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return count


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _write_csv(path: Path, rows, progress) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_safe_for_spreadsheet(_cell(row.get(c))) for c in COLUMNS])
            count += 1
            progress(count)
    return count


def _write_xlsx(path: Path, rows, progress) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.append(list(COLUMNS))
    count = 0
    for row in rows:
        # Cells are text: Excel must not turn a masked number or "0.91" into something else.
        sheet.append([_safe_for_spreadsheet(_cell(row.get(c))) for c in COLUMNS])
        count += 1
        progress(count)
    book.save(path)
    return count


def _safe_for_spreadsheet(text: str) -> str:
    """Customers' words must not run as formulas when an analyst opens the file (CSV
    injection): a leading = + - @ (or tab / CR) gets an apostrophe, which Excel hides."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _unescape(text: str) -> str:
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def read_table(path: Path) -> list[TableRow]:
    """The rows of an edited export; one clear line (with the line number) when it is not one."""
    path = Path(path)
    suffix = check_suffix(path)
    if not path.is_file():
        raise InvalidInput(f"文件不存在：{path}", "bad_table_file")
    _check_size(path, suffix)
    raw_rows = _read_csv(path) if suffix == ".csv" else _read_xlsx(path)
    header_line, header = next(raw_rows, (1, None))
    if header is None or not any(cell.strip() for cell in header):
        raise InvalidInput(f"{path.name} 是空文件：第 1 行应为表头 {', '.join(COLUMNS)}", "bad_table_file")
    names = [cell.strip() for cell in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(f"{path.name} 第 {header_line} 行：表头缺少列 {', '.join(missing)}"
                           f"（应为 logs export 导出的列：{', '.join(COLUMNS)}）", "bad_table_file")
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise InvalidInput(f"{path.name} 第 {header_line} 行：未知的列 {', '.join(unknown)}", "bad_table_file")
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise InvalidInput(f"{path.name} 第 {header_line} 行：列重复 {', '.join(duplicated)}", "bad_table_file")
    rows = []
    for line, cells in raw_rows:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"{path.name} 超过 {MAX_ROWS} 行：请分成几个文件导入", "bad_table_file")
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between rows are harmless
        if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names):]):
            raise InvalidInput(f"{path.name} 第 {line} 行：单元格比表头多（{len(cells)} > {len(names)}）",
                               "bad_table_file")
        values = {name: _unescape(cells[i].strip()) if i < len(cells) else ""
                  for i, name in enumerate(names) if name}
        rows.append(TableRow(line, values))
    return rows


def _check_size(path: Path, suffix: str) -> None:
    """Refuse, before parsing, a file too big on disk or an .xlsx that would unpack too big."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path.name} 有 {_megabytes(size)}，超过 {_megabytes(MAX_FILE_BYTES)} 的上限："
                           "请分成几个文件导入", "bad_table_file")
    if suffix != ".xlsx":
        return
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (BadZipFile, OSError, ValueError) as exc:
        raise InvalidInput(f"{path.name} 不是可读的 .xlsx 文件：{type(exc).__name__}", "bad_table_file") from exc
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise InvalidInput(f"{path.name} 解压后有 {_megabytes(unpacked)}，超过 {_megabytes(MAX_XLSX_UNPACKED_BYTES)}"
                           " 的上限：不像是导出的表格，请检查文件或分成几个文件导入", "bad_table_file")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _read_csv(path: Path):
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path.name} 第 {line} 行不是 UTF-8 编码：请另存为“CSV UTF-8”", "bad_table_file") from exc
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise InvalidInput(f"{path.name} 第 {line} 行含有空字符（NUL）：不是文本表格", "bad_table_file")
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        for cells in reader:
            yield reader.line_num - cells_span(cells) + 1, cells
    except csv.Error as exc:
        raise InvalidInput(f"{path.name} 第 {reader.line_num} 行 CSV 格式错误：{exc}", "bad_table_file") from exc


def cells_span(cells: list[str]) -> int:
    """How many physical lines a CSV record took (a quoted cell may hold line breaks)."""
    return 1 + sum(cell.count("\n") for cell in cells)


def _read_xlsx(path: Path):
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(f"{path.name} 不是可读的 .xlsx 文件：{type(exc).__name__}", "bad_table_file") from exc
    try:
        sheet = book[SHEET_TITLE] if SHEET_TITLE in book.sheetnames else book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_xlsx_text(v) for v in values]
    finally:
        book.close()


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a turn id Excel turned into 12.0
    return str(value)
