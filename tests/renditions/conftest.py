"""Fixtures for the rendition tests: real LibreOffice, real PDFs.

`make test` runs scripts/install-system-deps.sh first, so LibreOffice, python3-uno, the CJK
fonts and poppler-utils are expected to be installed.
"""

from __future__ import annotations

import io
import shutil

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from app.renditions import Converter, is_available

TITLE = "关于城区停车收费调整方案的合法性审查意见书"
NUMBER = "武政法审〔2026〕12号"
BODY = (
    "经审查，该决策事项的主体、权限、内容、程序和形式均符合法律、法规和规章的规定，"
    "可提交市人民政府常务会议审议。"
)
HEADING = "一、审查依据"
SUBHEADING = "（一）主体与权限"


def _font(run, name: str, size_pt: float, bold: bool = False) -> None:
    run.font.size = Pt(size_pt)
    run.font.name = name  # w:ascii / w:hAnsi
    run.bold = bold
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), name)


def make_docx(body_paragraphs: int = 1) -> bytes:
    """An A4 document laid out like GB/T 9704: title in 方正小标宋简体 22 pt, body in 仿宋_GB2312
    16 pt, headings in 黑体 and 楷体_GB2312 (all set as East Asian fonts through w:rFonts)."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(TITLE), "方正小标宋简体", 22)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(NUMBER), "仿宋_GB2312", 16)
    p = doc.add_paragraph()
    _font(p.add_run("市交通运输局："), "仿宋_GB2312", 16)
    p = doc.add_paragraph()
    _font(p.add_run(HEADING), "黑体", 16)
    p = doc.add_paragraph()
    _font(p.add_run(SUBHEADING), "楷体_GB2312", 16)
    for _ in range(body_paragraphs):
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)
        _font(p.add_run(BODY), "仿宋_GB2312", 16)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(p.add_run("2026年11月3日"), "仿宋_GB2312", 16)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


TEXTS = {
    "title": TITLE,
    "number": NUMBER,
    "body": BODY,
    "heading": HEADING,
    "subheading": SUBHEADING,
}


@pytest.fixture(scope="session")
def texts() -> dict[str, str]:
    return dict(TEXTS)


@pytest.fixture(scope="session", name="make_docx")
def make_docx_fixture():
    return make_docx


@pytest.fixture(scope="session")
def sample_docx() -> bytes:
    return make_docx()


@pytest.fixture(scope="session")
def libreoffice() -> None:
    if not is_available() or not shutil.which("pdffonts") or not shutil.which("pdftoppm"):
        pytest.fail(
            "LibreOffice / python3-uno / poppler-utils missing: run "
            "scripts/install-system-deps.sh (make test does)"
        )


@pytest.fixture(scope="module")
def converter(libreoffice):
    conv = Converter(convert_timeout=60)
    conv.start()
    yield conv
    conv.stop()


@pytest.fixture(scope="module")
def sample_pdf(converter, sample_docx) -> bytes:
    return converter.convert(sample_docx)
