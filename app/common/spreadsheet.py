"""Shared helpers for the XLSX exports (compliance view, contract register)."""

from __future__ import annotations


def keep_text_as_text(ws, min_row: int = 2) -> None:
    """openpyxl stores any string starting with "=" as a formula; exported cells hold user
    text (titles, names, details), which must never run as a formula in Excel or WPS."""
    for row in ws.iter_rows(min_row=min_row):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
