"""Every rendered sample is opened with python-docx and held to GB/T 9704-2012 numbers.

A template edit that moves a margin, loses the East Asian font or breaks the 22 x 28 grid fails
here. The checks read the effective formatting (run, then paragraph style chain, then document
defaults), so they also hold for templates made in Word or WPS.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Length

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "doc_templates"
TEMPLATE_IDS = sorted(p.parent.name for p in TEMPLATES.glob("*/template.docx"))
EXPECTED_IDS = [
    "adviser-work-report",
    "commission-letter",
    "engagement-contract",
    "legality-review-opinion",
    "risk-notice",
]
LETTERS = {"commission-letter", "risk-notice"}

CN = "一二三四五六七八九十"
DATE_ANY = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
DATE_OK = re.compile(r"\d{4}年[1-9]\d?月[1-9]\d?日")
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]+〔2026〕[1-9]\d*号")
H1 = re.compile(r"^\s*([一二三四五六七八九十]+)、")
H2 = re.compile(r"^\s*（([一二三四五六七八九十]+)）")
CLAUSE = re.compile(r"^\s*第([一二三四五六七八九十]+)条")


def _load_builder():
    """tools/ is not a package; load the build script as a module (once per session)."""
    if "build_templates" in sys.modules:
        return sys.modules["build_templates"]
    spec = importlib.util.spec_from_file_location(
        "build_templates", ROOT / "tools/build_templates.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_templates"] = module
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def cn_value(text: str) -> int:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN.index(tens) + 1 if tens else 1) * 10 + (CN.index(ones) + 1 if ones else 0)
    return CN.index(text) + 1


def mm(length: Length) -> float:
    return length / 36000


def _render(template_id, tmp_path_factory):
    path = tmp_path_factory.mktemp(template_id) / "issued.docx"
    builder.render_sample(template_id, path, issued=True, number=12)
    return template_id, Document(path)


@pytest.fixture(scope="module", params=TEMPLATE_IDS)
def rendered(request, tmp_path_factory):
    return _render(request.param, tmp_path_factory)


# letters and opinions have an addressee and a dated signature; contracts have parties and a
# signature table instead, so these checks are not generated for them
LETTER_IDS = [t for t in TEMPLATE_IDS if t != "engagement-contract"]


@pytest.fixture(scope="module", params=LETTER_IDS)
def rendered_letter(request, tmp_path_factory):
    return _render(request.param, tmp_path_factory)


# --------------------------------------------------------------------------- effective formatting


def _style_chain(doc, style_id):
    styles = doc.styles.element
    while style_id:
        el = styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
        if el is None:
            return
        yield el
        based = el.find(qn("w:basedOn"))
        style_id = based.get(qn("w:val")) if based is not None else None


def _default_style_id(doc):
    for el in doc.styles.element.findall(qn("w:style")):
        if el.get(qn("w:type")) == "paragraph" and el.get(qn("w:default")) == "1":
            return el.get(qn("w:styleId"))


def _paragraph_style_id(paragraph, doc):
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.pStyle is not None:
        return ppr.pStyle.val
    return _default_style_id(doc)


def _rpr_sources(run, paragraph, doc):
    """rPr elements from the most to the least specific."""
    if run._element.rPr is not None:
        yield run._element.rPr
    for style in _style_chain(doc, _paragraph_style_id(paragraph, doc)):
        rpr = style.find(qn("w:rPr"))
        if rpr is not None:
            yield rpr
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}") if defaults is not None else None
    if rpr is not None:
        yield rpr


def run_size_pt(run, paragraph, doc) -> float | None:
    for rpr in _rpr_sources(run, paragraph, doc):
        sz = rpr.find(qn("w:sz"))
        if sz is not None:
            return int(sz.get(qn("w:val"))) / 2
    return None


def run_east_asia_font(run, paragraph, doc) -> str | None:
    for rpr in _rpr_sources(run, paragraph, doc):
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is not None and fonts.get(qn("w:eastAsia")):
            return fonts.get(qn("w:eastAsia"))
    return None


def run_spacing_pt(run, paragraph, doc) -> float:
    for rpr in _rpr_sources(run, paragraph, doc):
        spacing = rpr.find(qn("w:spacing"))
        if spacing is not None:
            return int(spacing.get(qn("w:val"))) / 20
    return 0.0


def paragraph_line_twips(paragraph, doc) -> tuple[str | None, int | None]:
    sources = [paragraph._p.pPr] + [
        s.find(qn("w:pPr")) for s in _style_chain(doc, _paragraph_style_id(paragraph, doc))
    ]
    for ppr in sources:
        spacing = ppr.find(qn("w:spacing")) if ppr is not None else None
        if spacing is not None and spacing.get(qn("w:line")):
            return spacing.get(qn("w:lineRule")), int(spacing.get(qn("w:line")))
    return None, None


def all_paragraphs(doc):
    yield from doc.paragraphs
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def full_text(doc) -> str:
    parts = [p.text for p in all_paragraphs(doc)]
    for section in doc.sections:
        for part in (
            section.header,
            section.footer,
            section.even_page_footer,
            section.first_page_footer,
        ):
            parts.extend(p.text for p in part.paragraphs)
    return "\n".join(parts)


def title_paragraphs(doc):
    return [p for p in doc.paragraphs if p.style is not None and p.style.name == "公文标题"]


# --------------------------------------------------------------------------- page


def test_all_five_templates_exist():
    missing = [t for t in EXPECTED_IDS if t not in TEMPLATE_IDS]
    assert not missing, f"templates not built yet: {missing}"


def test_page_is_a4_with_gbt9704_margins(rendered):
    _, doc = rendered
    for section in doc.sections:
        assert mm(section.page_width) == pytest.approx(210, abs=0.5)
        assert mm(section.page_height) == pytest.approx(297, abs=0.5)
        assert mm(section.top_margin) == pytest.approx(37, abs=1)
        assert mm(section.left_margin) == pytest.approx(28, abs=1)
        width = section.page_width - section.left_margin - section.right_margin
        height = section.page_height - section.top_margin - section.bottom_margin
        assert mm(width) == pytest.approx(156, abs=1)
        assert mm(height) == pytest.approx(225, abs=1)


def test_grid_gives_22_lines_of_28_characters(rendered):
    _, doc = rendered
    section = doc.sections[0]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid is not None and grid.get(qn("w:type")) == "linesAndChars"
    text_h_twips = (section.page_height - section.top_margin - section.bottom_margin) / 635
    text_w_pt = (section.page_width - section.left_margin - section.right_margin) / 12700
    assert math.floor(text_h_twips / int(grid.get(qn("w:linePitch")))) == 22

    default_sz = doc.styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:sz')}"
    )
    base_pt = int(default_sz.get(qn("w:val"))) / 2
    assert base_pt == 16
    char_pitch = base_pt + int(grid.get(qn("w:charSpace"))) / 4096
    assert math.floor(text_w_pt / char_pitch) == 28


def test_body_text_is_16pt_fangsong_on_22_line_spacing(rendered):
    _, doc = rendered
    section = doc.sections[0]
    text_w_pt = (section.page_width - section.left_margin - section.right_margin) / 12700
    fangsong_chars = other_chars = 0
    title_ps = {id(p._p) for p in title_paragraphs(doc)}
    for paragraph in all_paragraphs(doc):
        if id(paragraph._p) in title_ps or not paragraph.text.strip():
            continue
        runs = [r for r in paragraph.runs if r.text.strip()]
        if all(run_east_asia_font(r, paragraph, doc) == builder.FONT_TITLE for r in runs):
            continue  # the red 发文机关标志 of a letter
        rule, line = paragraph_line_twips(paragraph, doc)
        for run in runs:
            size = run_size_pt(run, paragraph, doc)
            font = run_east_asia_font(run, paragraph, doc)
            assert size == 16, f"{run.text!r} is {size} pt"
            assert font and font.startswith(("仿宋", "黑体", "楷体")), f"{run.text!r}: {font}"
            if font.startswith("仿宋"):
                fangsong_chars += len(run.text)
            else:
                other_chars += len(run.text)
            # 28 characters of 16 pt fit the line only when condensed (see build_templates).
            pitch = size + run_spacing_pt(run, paragraph, doc)
            assert math.floor(text_w_pt / pitch) == 28, f"{run.text!r}: {pitch} pt a character"
        assert rule == "exact" and line == builder.LINE_PITCH, f"{paragraph.text[:20]!r}"
    assert fangsong_chars > 4 * other_chars


def test_title_is_22pt_xiaobiaosong(rendered):
    _, doc = rendered
    titles = title_paragraphs(doc)
    assert titles, "no paragraph in the 公文标题 style"
    for paragraph in titles:
        assert paragraph.text.strip()
        for run in paragraph.runs:
            if run.text.strip():
                assert run_size_pt(run, paragraph, doc) == 22
                assert "小标宋" in run_east_asia_font(run, paragraph, doc)


def test_footer_has_page_number_between_dashes(rendered):
    template_id, doc = rendered
    section = doc.sections[0]
    footers = [section.footer, section.even_page_footer]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in zip(footers, ("RIGHT", "LEFT"), strict=True):
        xml = footer._element.xml
        assert "PAGE" in xml and ("w:instrText" in xml or "w:fldSimple" in xml)
        text = "".join(p.text for p in footer.paragraphs)
        assert re.fullmatch(r"— \d+ —", text.strip()), text
        paragraph = footer.paragraphs[0]
        assert paragraph.alignment.name == align
        for run in paragraph.runs:
            if run.text.strip():
                assert run_size_pt(run, paragraph, doc) == 14
                assert run_east_asia_font(run, paragraph, doc) == "宋体"
    if template_id in LETTERS:
        # 信函格式: the first page shows no page number.
        assert section.different_first_page_header_footer
        assert "PAGE" not in section.first_page_footer._element.xml


def test_dates_and_number_follow_the_standard(rendered):
    _, doc = rendered
    text = full_text(doc)
    dates = DATE_ANY.findall(text)
    assert dates
    for date in dates:
        assert DATE_OK.fullmatch(date), f"date {date!r}: no spaces, no leading zeros"
    assert "2026年11月3日" in text
    numbers = DOC_NUMBER.findall(text)
    assert numbers and all("〔2026〕12号" in n for n in numbers)
    assert "[2026]" not in text and "【" not in text


def test_no_template_syntax_left(rendered):
    _, doc = rendered
    text = full_text(doc)
    for token in ("{{", "}}", "{%", "%}", "{#", "｛", "｝", "None", "[]"):
        assert token not in text, f"{token!r} left in the rendered text"


def test_heading_numbers_run_in_sequence(rendered):
    _, doc = rendered
    h1_seen, h2_seen, clauses = [], [], []
    for paragraph in doc.paragraphs:
        text, style = paragraph.text, paragraph.style.name
        if style == "一级标题" and (m := H1.match(text)):
            h1_seen.append(cn_value(m.group(1)))
            h2_seen.append([])
        elif style == "一级标题" and (m := CLAUSE.match(text)):
            clauses.append(cn_value(m.group(1)))
        elif style == "二级标题" and (m := H2.match(text)):
            assert h1_seen, f"（一） heading before any 一、 heading: {text!r}"
            h2_seen[-1].append(cn_value(m.group(1)))
        elif style in ("一级标题", "二级标题"):
            pytest.fail(f"heading without its number: {text!r}")
        else:
            continue
        run = next(r for r in paragraph.runs if r.text.strip())
        expected = "黑体" if style == "一级标题" else "楷体"
        assert run_east_asia_font(run, paragraph, doc).startswith(expected), text
    assert h1_seen == list(range(1, len(h1_seen) + 1)), h1_seen
    for sub in h2_seen:
        assert sub == list(range(1, len(sub) + 1)), sub
    assert clauses == list(range(1, len(clauses) + 1)), clauses
    assert h1_seen or clauses or not any(p.style.name == "一级标题" for p in doc.paragraphs)


def test_addressee_is_flush_left_with_fullwidth_colon(rendered_letter):
    template_id, doc = rendered_letter
    paragraphs = doc.paragraphs
    last_title = max(i for i, p in enumerate(paragraphs) if p.style.name == "公文标题")
    addressee = next(
        p
        for p in paragraphs[last_title + 1 :]
        if p.text.strip() and not DOC_NUMBER.fullmatch(p.text.strip())
    )
    assert addressee.text.endswith("："), addressee.text
    indent = addressee.paragraph_format.first_line_indent
    assert not indent and not addressee.paragraph_format.left_indent


def test_signature_date_sits_right(rendered_letter):
    template_id, doc = rendered_letter
    dated = [p for p in doc.paragraphs if p.text.strip() == "2026年11月3日"]
    assert dated, "no 成文日期 line"
    paragraph = dated[-1]
    fmt = paragraph.paragraph_format
    assert paragraph.alignment.name in ("RIGHT", "CENTER")
    if paragraph.alignment.name == "CENTER":
        assert fmt.left_indent and mm(fmt.left_indent) > 60


def test_unissued_render_shows_placeholders(tmp_path):
    for template_id in TEMPLATE_IDS:
        path = builder.render_sample(template_id, tmp_path / f"{template_id}.docx", issued=False)
        text = full_text(Document(path))
        assert "（签发时编号）" in text
        assert "（签发时填写）" in text or template_id == "engagement-contract"
