"""Every supervision table as an XLSX workbook (one sheet, bold header, frozen)."""

from __future__ import annotations

import io

from app.common.spreadsheet import keep_text_as_text


def table_xlsx(title: str, columns: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook  # lazy: only an export needs it
    from openpyxl.styles import Font  # lazy: only an export needs it

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    keep_text_as_text(ws)
    for col in range(1, len(columns) + 1):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = 20
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
