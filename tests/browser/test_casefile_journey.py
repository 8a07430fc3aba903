"""Journey: the clerk builds a case file (案卷), files an issued document by its number,
uploads a material, closes it (归档) and downloads the dossier PDF."""

from __future__ import annotations

import io

import pytest
from docx import Document
from playwright.sync_api import expect

from . import steps

LETTER = "武政法函〔2026〕1号"  # a demo commission letter, in no case file yet
LETTER_SQUARE = "武政法函[2026]1号"


def material_docx() -> bytes:
    doc = Document()
    doc.add_heading("关于城市绿地养护管理办法的专家论证意见", level=1)
    doc.add_paragraph("论证组认为，送审稿总体可行，建议明确养护责任划分。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_clerk_builds_closes_and_downloads_a_case_file(open_as, shot):
    clerk = open_as("clerk")
    steps.new_case_file(
        clerk, "关于武阳市城市绿地养护管理办法的合法性审查", "行政规范性文件", "定期30年"
    )
    steps.file_document(clerk, LETTER)
    steps.expect_flash(clerk.page, "已归入第1件")
    steps.upload_material(
        clerk, "专家论证意见.docx", material_docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        题名="专家论证意见", 材料类别="专家论证意见", 责任者="专家论证组", 日期="2026-11-20",
    )  # fmt: skip
    items = steps.case_items(clerk.page)
    assert len(items) == 2 and "专家论证意见" in items[1], items
    steps.accept_dialogs(clerk)
    steps.close_case_file(clerk)
    expect(clerk.page.locator("dl.data")).to_contain_text("已归档")
    package = steps.download_package(clerk)
    assert len([n for n in package.namelist() if n.lower().endswith((".docx", ".pdf"))]) >= 2
    shot(clerk, "casefile-closed")


@pytest.mark.xfail(strict=True, reason="bug on main: the 案卷 PDF button links to package.zip "
                   "(url_for of casefiles.export, which has two rules, builds the ZIP's)")  # fmt: skip
def test_dossier_button_opens_the_dossier_pdf(open_as):
    clerk = open_as("clerk")
    clerk.go("/casefiles/1")  # the demo store's closed case file
    link = clerk.page.get_by_role("link", name="案卷 PDF")
    assert link.get_attribute("href").endswith("/dossier.pdf")
    assert len(steps.download_dossier(clerk)) > 1000


@pytest.mark.xfail(strict=True, reason="needs branch flow: filing by number in any bracket style")
def test_document_is_filed_by_number_in_another_bracket_style(open_as):
    clerk = open_as("clerk")
    steps.new_case_file(clerk, "方括号文号归档测试", "其他", "定期10年")
    steps.file_document(clerk, LETTER_SQUARE)
    steps.expect_flash(clerk.page, "已归入第1件", timeout=1000)  # the page has loaded
