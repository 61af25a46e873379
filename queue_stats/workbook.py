"""The report's XLSX sheets as a spreadsheet user expects them (openpyxl): numbers stored as
numbers (a rate as a fraction shown with a percent format, a mean in seconds, a count as an
integer), "no data" as an empty cell, columns wide enough for their Chinese headers, the header
row frozen, filters on every table, and native Excel charts beside the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from queue_stats.indicators import Mean, Ratio

PERCENT, CHANGE, SECONDS, HOURS, COUNT, SCORE = "0.00%", "+0.00%;-0.00%;0.00%", "0.0", \
    "0.00", "0", "0.00"
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


def number(v: Ratio | Mean | int | float | None) -> float | int | None:
    """A figure as a number for a cell: a Ratio's fraction, a Mean's value; no data: None."""
    if isinstance(v, (Ratio, Mean)):
        return v.value
    if isinstance(v, bool) or v is None:
        return None
    return v


def fmt_of(v: Ratio | Mean | int | float | None) -> str:
    return PERCENT if isinstance(v, Ratio) else SECONDS if isinstance(v, Mean) else \
        COUNT if isinstance(v, int) else SCORE


def width(value: Any) -> int:
    """Display width of a cell's text: a CJK character is two columns."""
    text = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def table(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]],
          formats: Sequence[str | None] = (), title_rows: Sequence[Sequence[Any]] = ()) -> int:
    """Write title rows, a header and rows; number formats per column; widths; the header
    frozen and filtered. Returns the header's row number."""
    for r in title_rows:
        ws.append(list(r))
    if title_rows:
        ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    ws.append(list(header))
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in rows:
        ws.append(list(r))
    last = ws.max_row
    for i, f in enumerate(formats, start=1):
        if f:
            for row in range(head + 1, last + 1):
                ws.cell(row=row, column=i).number_format = f
    for i in range(1, len(header) + 1):
        values = [header[i - 1]] + [r[i - 1] if i - 1 < len(r) else None for r in rows]
        ws.column_dimensions[get_column_letter(i)].width = min(
            60, max(8, max(width(v) for v in values) + 2))
    ws.freeze_panes = ws.cell(row=head + 1, column=2)
    if rows:
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(header))}{last}"
    return head


def bar_chart(ws: Worksheet, title: str, head: int, last: int, data_cols: Sequence[int],
              anchor: str, stacked: bool = False, horizontal: bool = False,
              y_title: str = "") -> BarChart:
    """A native Excel bar chart of columns `data_cols` (with their headers as series names)
    against the first column's labels, rows head+1..last."""
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.y_axis.title = y_title
    chart.height, chart.width = 8, 16
    if stacked:
        chart.grouping, chart.overlap = "stacked", 100
    for col in data_cols:
        chart.add_data(Reference(ws, min_col=col, min_row=head, max_row=max(last, head + 1)),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=max(last, head + 1)))
    ws.add_chart(chart, anchor)
    return chart
