"""Journey: the clerk builds a case file (案卷), files issued documents by their numbers written
in other bracket styles (typed, and chosen from the picker), uploads a material, closes it
(归档, confirmed) and downloads the dossier PDF and the transfer package."""

from __future__ import annotations

import io

from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from . import steps

# demo documents in force and in no case file yet: a letter typed with square brackets and sent
# as is, a contract typed with half-width parentheses and chosen from the picker (〔〕 filled in)
LETTER_SQUARE = "武政法函[2026]3号"
LETTER_HALF_WIDTH, LETTER_PICKED = "武政法聘(2026)1号", "武政法聘〔2026〕1号"


def material_docx() -> bytes:
    doc = Document()
    doc.add_heading("关于城市绿地养护管理办法的专家论证意见", level=1)
    doc.add_paragraph("论证组认为，送审稿总体可行，建议明确养护责任划分。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def filing_card(actor):
    return actor.page.locator("section.card").filter(has_text="归入已发文书")


def test_clerk_builds_closes_and_downloads_a_case_file(open_as, shot):
    clerk = open_as("clerk")
    steps.new_case_file(
        clerk, "关于武阳市城市绿地养护管理办法的合法性审查", "行政规范性文件", "定期30年"
    )
    steps.file_document(clerk, LETTER_SQUARE)
    steps.expect_flash(clerk.page, "已归入第1件")
    steps.file_document(clerk, LETTER_HALF_WIDTH, pick=LETTER_PICKED,
                        on_list=lambda: shot(clerk, "casefile-picker", of=filing_card(clerk)))  # fmt: skip
    steps.expect_flash(clerk.page, "已归入第2件")
    steps.upload_material(
        clerk, "专家论证意见.docx", material_docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        题名="专家论证意见", 材料类别="专家论证意见", 责任者="专家论证组", 日期="2026-11-20",
    )  # fmt: skip
    items = steps.case_items(clerk.page)
    assert len(items) == 3 and "专家论证意见" in items[2], items
    assert "武政法函〔2026〕3号" in steps.case_numbers(clerk.page)[0]
    steps.close_case_file(clerk)
    expect(clerk.page.locator("dl.data")).to_contain_text("已归档")
    shot(clerk, "casefile-closed")
    dossier = steps.download_dossier(clerk)
    assert len(PdfReader(io.BytesIO(dossier)).pages) >= 3  # a page at least for each item
    package = steps.download_package(clerk)
    assert len([n for n in package.namelist() if n.lower().endswith((".docx", ".pdf"))]) >= 3
