"""A report's table, written three ways from the same cells: the page, CSV and XLSX.

A cell keeps its type (a count, a percentage, an amount in cents, a date, text) until it is
written, so the download holds exactly the figures the page shows: the CSV as plain numbers,
the workbook as typed cells (numbers, dates) under a header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: Cell kinds: text, int (a count or days), pct (a percentage, one decimal), money (cents),
#: date (a site date).
KINDS = ("text", "int", "pct", "money", "date")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "pct", "money")


@dataclass
class Table:
    """Rows of typed cells under columns; `totals` are the indexes of total rows."""

    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    totals: set[int] = field(default_factory=set)

    def add(self, values: Sequence[Any], *, total: bool = False) -> None:
        if len(values) != len(self.columns):
            raise ValueError("a row needs one value per column")
        if total:
            self.totals.add(len(self.rows))
        self.rows.append(list(values))

    def column(self, key: str) -> list[Any]:
        """Every value of one column (for tests and charts)."""
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


def show(value: Any, kind: str) -> str:
    """A cell as the page shows it."""
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value:.1f} %"
    if kind == "money":
        return f"${value / 100:,.2f}"
    if kind == "int":
        return f"{value:,}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "pct":
        return f"{value:.1f}"
    if kind == "money":
        return f"{value / 100:.2f}"
    if kind == "int":
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text  # never run as a formula


def to_csv(table: Table) -> str:
    """The table as CSV: a header row of the column labels, then the cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    return out.getvalue()


def to_xlsx(table: Table, *, title: str, about: Sequence[tuple[str, str]]) -> bytes:
    """The table as a workbook: the report on the first sheet (header row, typed cells, the
    header frozen), and what it covers (filters, when, by whom) on a second one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title[:31]
    bold = Font(bold=True)
    for j, column in enumerate(table.columns, start=1):
        head = sheet.cell(row=1, column=j, value=column.label)
        head.font = bold
        sheet.column_dimensions[get_column_letter(j)].width = max(
            12, min(len(column.label) + 2, 40)
        )
    for i, row in enumerate(table.rows, start=2):
        for j, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = sheet.cell(row=i, column=j)
            if value is None:
                continue
            if column.kind == "int":
                cell.value = int(value)
            elif column.kind == "pct":
                cell.value = float(value)
                cell.number_format = "0.0"
            elif column.kind == "money":
                cell.value = Decimal(int(value)) / 100
                cell.number_format = "#,##0.00"
            elif isinstance(value, date | datetime):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            else:
                cell.value = str(value)
                cell.data_type = "s"  # text that looks like a formula stays text
            if i - 2 in table.totals:
                cell.font = bold
    sheet.freeze_panes = "A2"
    info = book.create_sheet("About")
    for i, (key, value) in enumerate(about, start=1):
        info.cell(row=i, column=1, value=key).font = bold
        cell = info.cell(row=i, column=2, value=value)
        cell.data_type = "s"
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
