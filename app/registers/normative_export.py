"""The register of normative documents: the yearly clean-up (清理) and the XLSX export."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.access.policy import Principal
from app.common.spreadsheet import keep_text_as_text
from app.registers.normative import Entry, list_register, refuse
from app.registers.normative_rules import step_date, whole_number

# ---- the yearly clean-up (清理) ---------------------------------------------------------------


@dataclass(frozen=True)
class CleanupRow:
    entry: Entry
    advice: str


def cleanup(session: Session, p: Principal | None, year: int | str, *, unit_code: str | None = None,
            via: str = "", remote_addr: str = "") -> list[CleanupRow]:  # fmt: skip
    """清理: what is in force at the end of `year` (registered by then, state 有效), each with
    what the review should look at (validity ended or ending next year, or to be evaluated)."""
    if not whole_number(year) or not 1900 <= int(str(year)) <= 2200:
        refuse([{"field": "year", "label": "年度", "message": "应为 1900 至 2200 之间的年份"}])
    year = int(str(year))
    end = dt.date(year, 12, 31)
    register = list_register(session, p, unit_code=unit_code, state="in_force", via=via,
                             remote_addr=remote_addr, today=end)  # fmt: skip
    out = []
    for row in register.entries:
        e = row.entry
        if e.registered_on > end:
            continue
        if e.valid_until is not None and e.valid_until <= end:
            advice = f"有效期已于 {e.valid_until.isoformat()} 届满，应宣布失效或重新制定"
        elif e.valid_until is not None and e.valid_until.year == year + 1:
            advice = f"有效期将于 {e.valid_until.isoformat()} 届满，请评估是否继续施行"
        elif e.valid_until is None:
            advice = "未登记有效期，请补充公布和施行日期"
        else:
            advice = "继续有效，请评估是否与上位法一致"
        out.append(CleanupRow(row, advice))
    return out


# ---- XLSX -----------------------------------------------------------------------------------


def to_xlsx(entries: list[Entry], title: str = "规范性文件登记簿",
            advice: list[str] | None = None) -> bytes:  # fmt: skip
    from openpyxl import Workbook  # lazy: openpyxl loads only for an export
    from openpyxl.styles import Font  # lazy: as above

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    header = ["序号", "统一编号", "文件名称", "制定单位", "公开征求意见", "专家论证", "合法性审查",
              "合法性审查意见书", "集体讨论决定", "会议", "登记日期", "公布日期", "公布载体",
              "备案日期", "备案号", "施行日期", "有效期至", "状态", "问题"]  # fmt: skip
    if advice is not None:
        header.append("清理意见")
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(entries, start=1):
        e = row.entry
        values = [i, e.number, e.title, e.unit.name, step_date(e, "comment"), e.expert_on,
                  e.review_on, row.review_number, e.decided_on, e.meeting, e.registered_on,
                  e.published_on, e.channel, e.filed_on, e.filing_number, e.valid_from,
                  e.valid_until, row.state_label, "；".join(f.detail for f in row.findings)]  # fmt: skip
        if advice is not None:
            values.append(advice[i - 1])
        ws.append(values)
    keep_text_as_text(ws)
    for r in ws.iter_rows(min_row=2):
        for col in (4, 5, 6, 8, 10, 11, 13, 15, 16):
            r[col].number_format = "yyyy-mm-dd"
    for col, width in enumerate((6, 22, 36, 24, 12, 12, 12, 22, 12, 24, 12, 12, 20, 12, 18, 12,
                                 12, 8, 40, 40)[: len(header)], start=1):  # fmt: skip
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
