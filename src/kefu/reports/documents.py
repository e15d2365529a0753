"""Report documents: a template's sections resolved against a report, written as a PDF (with
an embedded CJK font, so Chinese renders on any server) or an Excel workbook.

Sections (a template's ``sections`` list, each a dict):

- ``{"kind": "text", "title": …, "body": …}`` — text with placeholders such as
  ``{{ period }}`` or ``{{ csat }}`` (any metric id gives its formatted value);
- ``{"kind": "figures", "title": …, "metrics": [metric ids]}`` — a table of figures;
- ``{"kind": "table", "table": key}`` — a breakdown table (``report.TABLE_TITLES``);
- ``{"kind": "chart", "chart": key}`` — a chart (``CHARTS``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from kefu.core.exports import safe_cell
from kefu.reports.metrics import METRICS, format_value
from kefu.reports.report import TABLE_TITLES, Report, Table, metric_label, period_label

FONT = Path(__file__).resolve().parent / "static" / "reports" / "fonts"
FONT_FILE = FONT / "NotoSansCJKsc-Regular-GB2312.otf"
KINDS = ("text", "figures", "table", "chart")
CHARTS = {
    "volume": N_("Work orders per day"),
    "channels": N_("By channel"),
    "types": N_("By work-order type"),
    "calls": N_("Calls by day"),
}
PLACEHOLDERS = {
    "period": N_("the period, e.g. 2026-11-01 – 2026-11-30"),
    "start": N_("the first day"),
    "end": N_("the last day"),
    "year": N_("the year"),
    "quarter": N_("the quarter (1–4)"),
    "month": N_("the month (1–12)"),
    "week": N_("the ISO week number"),
    "generated": N_("when the report was made"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
MAX_SECTIONS = 40
MAX_TEXT = 4000
MAX_FIGURES = 100


def _name(value: Any) -> str | None:
    """A section's key (a table, chart or figure id) when it is a short string, else None."""
    return value if isinstance(value, str) and len(value) <= 100 else None


def validate_sections(sections: Any) -> list[dict[str, Any]]:
    """Check a template's sections; a ValidationError names the first problem."""
    if not isinstance(sections, list) or not sections:
        raise ValidationError(_("A report needs at least one section."))
    if len(sections) > MAX_SECTIONS:
        raise ValidationError(_("At most %(n)d sections.") % {"n": MAX_SECTIONS})
    clean: list[dict[str, Any]] = []
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or section.get("kind") not in KINDS:
            raise ValidationError(
                _("Section %(n)d: the kind must be one of %(kinds)s.")
                % {"n": number, "kinds": ", ".join(KINDS)}
            )
        kind = section["kind"]
        title = str(section.get("title", ""))[:200]
        item: dict[str, Any] = {"kind": kind, "title": title}
        if kind == "text":
            body = str(section.get("body", ""))
            if len(body) > MAX_TEXT:
                raise ValidationError(
                    _("Section %(n)d: the text is longer than %(max)d characters.")
                    % {"n": number, "max": MAX_TEXT}
                )
            for name in _PLACEHOLDER.findall(body + title):
                if name not in PLACEHOLDERS and name not in METRICS:
                    raise ValidationError(
                        _("Section %(n)d: there is no placeholder {{ %(name)s }}.")
                        % {"n": number, "name": name}
                    )
            item["body"] = body
        elif kind == "figures":
            ids = section.get("metrics")
            if not isinstance(ids, list) or not ids:
                raise ValidationError(
                    _("Section %(n)d: choose at least one figure.") % {"n": number}
                )
            if len(ids) > MAX_FIGURES:
                raise ValidationError(
                    _("Section %(n)d: at most %(max)d figures.") % {"n": number, "max": MAX_FIGURES}
                )
            for m in ids:
                name = _name(m)
                if name is None or name not in METRICS or METRICS[name].source == "live":
                    shown = name if name is not None else str(m)[:40]
                    raise ValidationError(
                        _("Section %(n)d: unknown figure %(id)s.") % {"n": number, "id": shown}
                    )
            item["metrics"] = list(ids)
        elif kind == "table":
            table = _name(section.get("table"))
            if table is None or table not in TABLE_TITLES:
                raise ValidationError(_("Section %(n)d: unknown table.") % {"n": number})
            item["table"] = table
        else:
            chart = _name(section.get("chart"))
            if chart is None or chart not in CHARTS:
                raise ValidationError(_("Section %(n)d: unknown chart.") % {"n": number})
            item["chart"] = chart
        clean.append(item)
    return clean


def default_sections() -> list[dict[str, Any]]:
    """The sections of a new template: a summary text, the main figures, every table."""
    return [
        {
            "kind": "text",
            "title": _("Summary"),
            "body": _(
                "In {{ period }} the centre received {{ tickets_created }} work orders and "
                "resolved {{ tickets_resolved }}; SLA compliance was {{ sla_compliance }}, "
                "first-contact resolution {{ fcr_rate }} and satisfaction (CSAT) {{ csat }}."
            ),
        },
        {
            "kind": "figures",
            "title": _("Key figures"),
            "metrics": [
                "tickets_created",
                "tickets_resolved",
                "resolution_rate",
                "fcr_rate",
                "reopen_rate",
                "complaint_rate",
                "sla_compliance",
                "calls_offered",
                "service_level",
                "abandon_rate",
                "asa_s",
                "aht_s",
                "csat",
                "nps",
                "qa_score",
            ],
        },  # fmt: skip
        {"kind": "chart", "title": "", "chart": "volume"},
        *({"kind": "table", "title": "", "table": key} for key in TABLE_TITLES),
    ]


def placeholder_values(report: Report, generated: dt.datetime) -> dict[str, str]:
    start, end = report.scope.start, report.scope.end
    out = {
        "period": period_label(start, end),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "year": str(start.year),
        "quarter": str((start.month - 1) // 3 + 1),
        "month": str(start.month),
        "week": str(start.isocalendar()[1]),
        "generated": generated.strftime("%Y-%m-%d %H:%M"),
    }
    for metric_id in METRICS:
        if metric_id in report.values:
            out[metric_id] = report.formatted(metric_id)
    return out


def fill(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "—"), text)


@dataclass
class Block:
    kind: str
    title: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)  # first row: the header
    chart: dict[str, Any] = field(default_factory=dict)


def _table_rows(table: Table) -> list[list[str]]:
    header = ["", *(metric_label(c) for c in table.columns)]
    body = [
        [row.label, *(format_value(row.values.get(c), METRICS[c].unit) for c in table.columns)]
        for row in table.rows
    ]
    return [header, *body]


def _chart_series(report: Report, key: str) -> dict[str, Any]:
    """A chart reduced to labels and one or two series of numbers (for PDF and Excel)."""
    data = report.charts.get(key)
    if not data:
        return {}
    if key == "volume":
        return {"labels": data["days"], "series": data["series"]}
    if key == "channels":
        return {
            "labels": [d["name"] for d in data["data"]],
            "series": [{"name": metric_label("tickets_created"), "data": [d["value"] for d in data["data"]]}],
        }  # fmt: skip
    if key == "types":
        return {
            "labels": data["labels"],
            "series": [{"name": metric_label("tickets_created"), "data": data["data"]}],
        }
    return {
        "labels": data["days"],
        "series": [{"name": data["labels"][0], "data": data["offered"]}],
    }


def resolve(report: Report, sections: list[dict[str, Any]], generated: dt.datetime) -> list[Block]:
    values = placeholder_values(report, generated)
    blocks: list[Block] = []
    for section in sections:
        kind = section["kind"]
        title = fill(section.get("title", ""), values)
        if kind == "text":
            blocks.append(Block("text", title, text=fill(section.get("body", ""), values)))
        elif kind == "figures":
            rows = [[_("Figure"), _("Value")]]
            rows += [[metric_label(m), values.get(m, "—")] for m in section["metrics"]]
            blocks.append(Block("table", title or _("Key figures"), rows=rows))
        elif kind == "table":
            table = report.tables.get(section["table"])
            if table is not None:
                blocks.append(Block("table", title or table.title, rows=_table_rows(table)))
        else:
            series = _chart_series(report, section["chart"])
            if series:
                name = title or _(CHARTS[section["chart"]])
                blocks.append(Block("chart", name, chart=series))
    return blocks


# --- PDF ------------------------------------------------------------------------------------------


def to_pdf(title: str, subtitle: str, blocks: list[Block]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(FONT_FILE))
    pdf.set_title(title)
    pdf.set_creator("Kefu")
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.set_text_color(100, 100, 100)
    pdf.cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    for block in blocks:
        pdf.ln(3)
        if block.title:
            pdf.set_font("cjk", size=13)
            pdf.cell(0, 8, block.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        if block.kind == "text":
            pdf.multi_cell(0, 5, block.text, new_x="LMARGIN", new_y="NEXT")
        elif block.kind == "table":
            _pdf_table(pdf, block.rows)
        else:
            _pdf_bars(pdf, block.chart)
    return bytes(pdf.output())


PDF_ROWS = 100
"""Rows of one table in a PDF; the workbook has them all."""


def _pdf_table(pdf: Any, rows: list[list[str]]) -> None:
    if len(rows) > PDF_ROWS + 1:
        left_out = len(rows) - PDF_ROWS - 1
        rows = rows[: PDF_ROWS + 1]
    else:
        left_out = 0
    if len(rows) <= 1:
        pdf.set_text_color(120, 120, 120)
        pdf.cell(0, 6, _("No records in this period."), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        return
    columns = len(rows[0])
    first = 60 if columns > 2 else 120
    widths = [first] + [(pdf.epw - first) / max(1, columns - 1)] * (columns - 1)
    from fpdf.fonts import FontFace

    headings = FontFace(emphasis="", fill_color=(230, 236, 245))
    with pdf.table(
        col_widths=widths,
        text_align=["LEFT", *["RIGHT"] * (columns - 1)],
        line_height=5,
        first_row_as_headings=True,
        headings_style=headings,
    ) as table:  # fmt: skip
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(str(value)[:80])
    if left_out:
        pdf.set_text_color(120, 120, 120)
        note = _("%(n)d more rows are in the Excel workbook.") % {"n": left_out}
        pdf.cell(0, 6, note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)


def _pdf_bars(pdf: Any, chart: dict[str, Any]) -> None:
    labels = chart["labels"]
    series = chart["series"][:2]
    if not labels:
        return
    height = 45.0
    if pdf.get_y() + height + 12 > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y() + 2
    left = pdf.l_margin + 12
    width = pdf.epw - 14
    peak = max([v or 0 for s in series for v in s["data"]] + [1])
    slot = width / len(labels)
    bar = max(0.4, slot / (len(series) + 1))
    colours = [(13, 110, 253), (32, 201, 151)]
    pdf.set_draw_color(180, 180, 180)
    pdf.line(left, top + height, left + width, top + height)
    pdf.set_font("cjk", size=6)
    pdf.text(pdf.l_margin, top + 2, str(peak))
    for s_index, s in enumerate(series):
        pdf.set_fill_color(*colours[s_index])
        for i, value in enumerate(s["data"]):
            h = height * (value or 0) / peak
            if h > 0:
                pdf.rect(left + i * slot + s_index * bar, top + height - h, bar * 0.9, h, style="F")
    step = max(1, len(labels) // 12)
    for i in range(0, len(labels), step):
        pdf.text(left + i * slot, top + height + 4, str(labels[i])[-10:])
    y = top + height + 8
    for s_index, s in enumerate(series):
        pdf.set_fill_color(*colours[s_index])
        x = left + s_index * 60
        pdf.rect(x, y - 2.5, 3, 3, style="F")
        pdf.text(x + 4, y, s["name"])
    pdf.set_y(y + 3)


# --- Excel ----------------------------------------------------------------------------------------


def to_xlsx(title: str, subtitle: str, blocks: list[Block]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _("Summary")[:31]
    summary.append([safe_cell(title)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([safe_cell(subtitle)])
    used: set[str] = {summary.title}
    for block in blocks:
        if block.kind == "text":
            summary.append([])
            summary.append([safe_cell(block.title)])
            summary.append([safe_cell(block.text)])
            continue
        name = _sheet_name(block.title, used)
        sheet = book.create_sheet(name)
        if block.kind == "table":
            for row in block.rows:
                sheet.append([safe_cell(v) for v in row])
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.column_dimensions["A"].width = 28
        else:
            chart = block.chart
            sheet.append(["", *(safe_cell(s["name"]) for s in chart["series"])])
            for i, label in enumerate(chart["labels"]):
                sheet.append([safe_cell(label), *(s["data"][i] for s in chart["series"])])
            bars = BarChart()
            bars.title = block.title
            rows = len(chart["labels"]) + 1
            data = Reference(
                sheet, min_col=2, max_col=1 + len(chart["series"]), min_row=1, max_row=rows
            )
            bars.add_data(data, titles_from_data=True)
            bars.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows))
            bars.width, bars.height = 24, 10
            sheet.add_chart(bars, "E2")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]\*\?/\\:]", " ", title or _("Table")).strip()[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]} {n}"
        n += 1
    used.add(name)
    return name
