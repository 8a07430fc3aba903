"""Build doc_templates/<id>/template.docx from the readable sources in tools/templates_src/.

A clause is edited in tools/templates_src/<id>.yaml (a reviewable diff); this script turns the
source into a DOCX laid out to GB/T 9704-2012 and writes it byte for byte the same every time,
so re-running it on an unchanged source leaves git clean.

    .venv/bin/python tools/build_templates.py            # build all
    .venv/bin/python tools/build_templates.py risk-notice
    .venv/bin/python tools/build_templates.py --check    # exit 1 if a committed file is stale

Source format (one YAML file per template, see docs/templates.md):

    template: commission-letter      # directory under doc_templates/
    layout: letter                   # letter (信函格式) | document (通用格式) | contract
    body: [block, ...]

Blocks (each a one-key mapping, or a bare keyword such as `blank`):
    letterhead: TEXT                 red 发文机关标志 with the double rule (letter layout)
    number: TEXT                     发文字号 line (right in letters, centred otherwise)
    title: TEXT | null               2号小标宋, centred; null = schema.yaml document_title
    subtitle: TEXT                   centred body-size line under the title
    addressee: TEXT                  主送机关, flush left; the full-width colon is added
    p: TEXT | [SEGMENT, ...]         body paragraph, first line indented two characters;
                                     `keep: true` keeps it on the page of what follows (the
                                     last line before the signature, so that the signature
                                     never stands on a page without text)
    flush: TEXT | [SEGMENT, ...]     body paragraph without indent
    right: TEXT / center: TEXT       aligned body paragraph
    h1: TEXT                         一、 heading (黑体), numbered by the builder
    h2: TEXT                         （一） heading (楷体), numbered within its h1
    clause: TEXT                     第一条 heading (黑体) for contracts, numbered
    items: [TEXT, ...]               fixed （一）（二） sub-items in body type
    paras: FIELD                     one paragraph per line of a textarea (FIELD_paragraphs)
    set: "name = expression"         {%p set %}
    if: COND, then: [...], else: [...]   {%p if %} ... {%p else %} ... {%p endif %}
    for: "x in xs", do: [...]        {%p for %} ... {%p endfor %}
    attachments: FIELD               附件说明 for a list of attachment names
    signature: {name: TEXT, date: TEXT}  署名 and 成文日期 (defaults: unit name, issue_date)
    note: TEXT                       附注, in parentheses under the date
    imprint: {cc: FIELD}             版记 (文件格式 only, GB/T 9704 7.4): 抄送 (a list field; left
                                     out when empty), 印发机关 (the unit) and 印发日期 between a
                                     thick first and last rule and thin rules between, in a frame
                                     at the foot of the last page; the last rule is the text
                                     block's lower edge
    parties: [[LABEL, TEXT], ...]    contract party block (label: value lines)
    sign_table: {left: [TEXT...], right: [TEXT...]}   contract signature table
    table: {for: "row in rows", columns: [[HEAD, CELL, WIDTH], ...], empty: TEXT}
                                     a data table in body type with single rules: a header
                                     row (HEAD in 黑体; "\n" breaks it), then one row per item
                                     of the list (CELL texts, e.g. "{{ row.name }}", centred
                                     unless the column's WIDTH, in characters, is followed
                                     by "left": [HEAD, CELL, 10, left]); the widths add up to
                                     26 (the table is centred, narrower than the 版记's rules). `empty`: one row spanning the table
                                     when the list is empty
    blank / pagebreak                an empty line (kept with what follows) / a page break
A SEGMENT is TEXT (body type) or {hei: TEXT} / {kai: TEXT} / {bold: TEXT}. Each segment is one
run, so a Jinja tag written inside one segment is never split across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor, Twips

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = Path(__file__).resolve().parent / "templates_src"
OUT_DIR = ROOT / "doc_templates"

# GB/T 9704-2012 page: A4, text block 156 x 225 mm.
PAGE_W, PAGE_H = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
# 22 lines in 225 mm: 12756 twips / 22 = 579.8, so 579 (580 would fit only 21).
LINE_PITCH = 579
# 28 characters in 156 mm with 16 pt type: pitch 442.20 pt / 28 = 15.793 pt,
# charSpace is the difference from 16 pt in 1/4096 pt, rounded so that 28 still fit.
CHAR_SPACE = -848
CHAR = 316  # one character of the grid, in twips (15.79 pt)
# LibreOffice gives a 16 pt character two cells of a 15.79 pt grid, so paragraphs do not snap
# to the character grid; instead 3号 runs are condensed by 0.3 pt (in twentieths of a point),
# which sets 28 characters in the 156 mm line in Word, WPS and LibreOffice alike (at -0.25 pt
# LibreOffice still breaks after 27).
BODY_CONDENSE = -6

FONT_BODY = "仿宋_GB2312"
FONT_TITLE = "方正小标宋简体"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE_NO = "宋体"
BODY_PT, TITLE_PT, PAGE_NO_PT = 16, 22, 14
IMPRINT_PT = 14  # 版记: 4号仿宋
TEXT_W = 8845  # the 156 mm text block, in twips
RED = RGBColor(0xFF, 0x00, 0x00)

FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=dt.UTC)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 21 -> 二十一 (heading and clause numbers)."""
    if n < 1 or n > 99:
        raise ValueError(f"heading number out of range: {n}")
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else CN_DIGITS[tens]) + "十" if tens else ""
    return text + (CN_DIGITS[ones] if ones else "")


CN_LIST = "[" + ",".join(f"'{cn_number(i)}'" for i in range(1, 41)) + "]"

LEVELS = {
    "h1": ("{}、", FONT_H1),
    "h2": ("（{}）", FONT_H2),
    "clause": ("第{}条　", FONT_H1),
}


class SourceError(Exception):
    """A template source that cannot be built; the message names the block."""


# --------------------------------------------------------------------------- low-level XML


def set_run_font(run, font: str, size_pt: float, *, bold: bool = False, color=None) -> None:
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    fonts.set(qn("w:hint"), "eastAsia")
    run.font.size = Pt(size_pt)
    if bold:
        run.font.bold = True
    if color is not None:
        run.font.color.rgb = color
    sz = rpr.find(qn("w:sz"))
    if size_pt == BODY_PT:
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(BODY_CONDENSE))
        sz.addprevious(spacing)
    sz_cs = OxmlElement("w:szCs")
    sz_cs.set(qn("w:val"), str(int(size_pt * 2)))
    sz.addnext(sz_cs)


def set_indent(paragraph, *, left: int = 0, right: int = 0, first: int = 0) -> None:
    """Indents in grid characters (may be fractional; first < 0 is a hanging indent)."""
    pf = paragraph.paragraph_format
    pf.left_indent = Twips(round(left * CHAR)) if left else None
    pf.right_indent = Twips(round(right * CHAR)) if right else None
    pf.first_line_indent = Twips(round(first * CHAR)) if first else None
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    if ind is None:
        return
    # The *Chars attributes keep the indent in characters when the font or grid changes.
    for attr, value in (("w:leftChars", left), ("w:rightChars", right)):
        if value:
            ind.set(qn(attr), str(round(value * 100)))
    if first > 0:
        ind.set(qn("w:firstLineChars"), str(round(first * 100)))
    elif first < 0:
        ind.set(qn("w:hangingChars"), str(round(-first * 100)))


def set_spacing(paragraph, *, exact_twips: int | None = LINE_PITCH, grid: bool = True) -> None:
    pf = paragraph.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if exact_twips:
        pf.line_spacing = Twips(exact_twips)
        from docx.enum.text import WD_LINE_SPACING

        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if not grid and paragraph._p.get_or_add_pPr().find(qn("w:snapToGrid")) is None:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        paragraph._p.get_or_add_pPr().insert_element_before(
            snap,
            "w:spacing",
            "w:ind",
            "w:jc",
            "w:rPr",
        )


def add_border(paragraph, side: str, style: str, size_eighths: int, space_pt: int, color: str):
    ppr = paragraph._p.get_or_add_pPr()
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(
            bdr, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr", "w:snapToGrid"
        )
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), style)
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), str(space_pt))
    edge.set(qn("w:color"), color)
    bdr.append(edge)


def add_page_field(paragraph, font: str, size_pt: float) -> None:
    """A PAGE field as begin/instr/separate/result/end runs."""

    def fld_run(kind=None, instr=None, text=None):
        run = paragraph.add_run()
        set_run_font(run, font, size_pt)
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._element.append(el)
        if instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            run._element.append(el)
        if text:
            run.text = text

    fld_run(kind="begin")
    fld_run(instr=" PAGE ")
    fld_run(kind="separate")
    fld_run(text="1")
    fld_run(kind="end")


# --------------------------------------------------------------------------- document setup


def setup_document(layout: str):
    doc = Document()
    # Start from an empty body; python-docx's default has one empty paragraph.
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)

    _set_doc_defaults(doc)
    _add_styles(doc)

    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_W, PAGE_H
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = Mm(15)
    # 信函格式 puts a red rule 20 mm above the lower edge; the page number's top sits 7 mm under
    # the text block (28 mm above the edge): 20 mm + 6.7 pt space after + a 16 pt line.
    section.footer_distance = Mm(20)
    section.start_type = WD_SECTION.NEW_PAGE
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(LINE_PITCH))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))

    # 单页码居右空一字，双页码居左空一字 (GB/T 9704 7.5).
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number_footer(section.footer, odd=True)
    _page_number_footer(section.even_page_footer, odd=False)
    if layout == "letter":
        # 信函格式: no page number on the first page, a red double rule 20 mm above the edge.
        section.different_first_page_header_footer = True
        _letter_first_footer(section.first_page_footer)

    props = doc.core_properties
    props.author = "casefile"
    props.last_modified_by = "casefile"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.last_printed = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    props.comments = "Generated by tools/build_templates.py; edit the source, not this file."
    return doc


def _set_doc_defaults(doc) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    for child in list(rpr):
        rpr.remove(child)
    fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT_BODY)
    rpr.append(fonts)
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(BODY_PT * 2))
        rpr.append(el)
    ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")
    spacing = ppr.find(qn("w:spacing"))
    for attr in list(spacing.attrib):
        del spacing.attrib[attr]
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), str(LINE_PITCH))
    spacing.set(qn("w:lineRule"), "exact")
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)


def _style(doc, style_id: str, name: str, font: str, size_pt: float, **para):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), style_id)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    style.font.size = Pt(size_pt)
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    for key, value in para.items():
        setattr(pf, key, value)
    return style


def _add_styles(doc) -> None:
    from docx.enum.text import WD_LINE_SPACING

    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT_BODY)
    pf = normal.paragraph_format
    pf.line_spacing = Twips(LINE_PITCH)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.widow_control = True
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    normal.element.get_or_add_pPr().insert_element_before(snap, "w:spacing", "w:ind", "w:jc")

    _style(
        doc,
        "CFBody",
        "公文正文",
        FONT_BODY,
        BODY_PT,
        first_line_indent=Twips(2 * CHAR),
        alignment=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    _style(doc, "CFTitle", "公文标题", FONT_TITLE, TITLE_PT, alignment=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, "CFHeading1", "一级标题", FONT_H1, BODY_PT, keep_with_next=True)
    _style(doc, "CFHeading2", "二级标题", FONT_H2, BODY_PT, keep_with_next=True)
    _style(doc, "CFSignature", "落款", FONT_BODY, BODY_PT, keep_with_next=True)
    _style(doc, "CFImprint", "版记", FONT_BODY, IMPRINT_PT, line_spacing=1.0, keep_together=True)


def _page_number_footer(footer, *, odd: bool) -> None:
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    set_spacing(p, exact_twips=320, grid=False)
    pf = p.paragraph_format
    pf.space_after = Twips(134)
    (pf.__setattr__("right_indent" if odd else "left_indent", Pt(PAGE_NO_PT)))
    run = p.add_run("— ")
    set_run_font(run, FONT_PAGE_NO, PAGE_NO_PT)
    add_page_field(p, FONT_PAGE_NO, PAGE_NO_PT)
    run = p.add_run(" —")
    set_run_font(run, FONT_PAGE_NO, PAGE_NO_PT)


def _letter_first_footer(footer) -> None:
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    set_spacing(p, exact_twips=20, grid=False)
    set_indent(p, left=-7 * 56.7 / CHAR, right=-7 * 56.7 / CHAR)
    # 上细下粗 red rule on a 1 pt empty line at the footer's foot.
    add_border(p, "bottom", "thinThickSmallGap", 24, 0, "FF0000")


# The 版记's text box: the width of the text block, centred on it and aligned to its foot; no
# line, no fill, no insets.
# thick (0.35 mm) top and bottom, thin (0.25 mm) between the rows; no sides; no cell margins
IMPRINT_TABLE_PR = (
    '<w:tblPr {ns}><w:tblW w:w="{w}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders>'
    '<w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
    '<w:left w:val="nil"/>'
    '<w:bottom w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
    '<w:right w:val="nil"/>'
    '<w:insideH w:val="single" w:sz="6" w:space="0" w:color="000000"/>'
    '<w:insideV w:val="nil"/></w:tblBorders><w:tblLayout w:type="fixed"/>'
    '<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
    "</w:tblPr>"
)
IMPRINT_NS = (
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
)
IMPRINT_BOX = (
    '<mc:AlternateContent {ns}><mc:Choice Requires="wps"><w:drawing>'
    '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="251659264"'
    ' behindDoc="0" locked="0" layoutInCell="1" allowOverlap="0"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
    '<wp:positionV relativeFrom="margin"><wp:align>bottom</wp:align></wp:positionV>'
    '<wp:extent cx="{w}" cy="{h}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapTopAndBottom/>'
    '<wp:docPr id="9704" name="版记"/><wp:cNvGraphicFramePr/><a:graphic><a:graphicData'
    ' uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
    '<wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{w}" cy="{h}"/>'
    '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln>'
    '</wps:spPr><wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr rot="0" vert="horz" wrap="square"'
    ' lIns="0" tIns="0" rIns="0" bIns="0" anchor="b" anchorCtr="0"><a:noAutofit/></wps:bodyPr>'
    "</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
    "</mc:AlternateContent>"
)

# A data table: 26 of the line's 28 characters wide and centred, so that its rules are never
# taken for the 版记's, which alone span the text block; single 0.5 pt rules all round and
# between cells; cell margins of a quarter character (a column of n characters holds n - 1).
TABLE_CHARS = 26
DATA_TABLE_PR = (
    '<w:tblPr {ns}><w:tblW w:w="{w}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders>'
    '<w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    '<w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    '<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    '<w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    '<w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    '<w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders>'
    '<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="79" w:type="dxa"/>'
    '<w:right w:w="79" w:type="dxa"/></w:tblCellMar></w:tblPr>'
)

# --------------------------------------------------------------------------- block emitter

TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def check_segment(text: str, where: str) -> None:
    """A segment must hold whole tags only; half a tag would be split across runs."""
    stripped = TAG_RE.sub("", text)
    for token in ("{{", "}}", "{%", "%}"):
        if token in stripped:
            raise SourceError(f"{where}: unbalanced '{token}' in {text!r}")
    if "｛" in text or "｝" in text:
        raise SourceError(f"{where}: full-width brace in {text!r}; use ASCII {{ }}")


@dataclass
class Counter:
    """Heading numbers at one level; conditional headings make later numbers Jinja expressions."""

    static: int = 0
    conditional: list[str] = field(default_factory=list)

    def next_number(self, conds: list[str], fmt: str) -> str:
        if self.conditional:
            present = "[" + ", ".join(self.conditional) + "]|select|list|length"
            number = f"{{{{ {CN_LIST}[{self.static} + {present}] }}}}"
        else:
            number = cn_number(self.static + 1)
        if conds:
            self.conditional.append("(" + " and ".join(f"({c})" for c in conds) + ")")
        else:
            self.static += 1
        return fmt.format(number)


class Builder:
    def __init__(self, doc, layout: str, schema: dict):
        self.doc = doc
        self.layout = layout
        self.schema = schema
        self.counters: dict[str, Counter] = {"h1": Counter(), "h2": Counter(), "clause": Counter()}
        self.in_loop = 0

    # paragraphs ---------------------------------------------------------------
    def para(self, style: str = "CFBody", *, align=None):
        p = self.doc.add_paragraph(style=self.doc.styles.get_by_id(style, WD_STYLE_TYPE.PARAGRAPH))
        set_spacing(p)
        if align is not None:
            p.alignment = align
        return p

    def runs(self, p, segments, where: str, *, font=FONT_BODY, size=BODY_PT, **kw) -> None:
        if isinstance(segments, str | int | float) or segments is None:
            segments = [segments]
        for seg in segments:
            seg_font, seg_bold, text = font, False, seg
            if isinstance(seg, dict):
                ((kind, text),) = seg.items()
                seg_font = {"hei": FONT_H1, "kai": FONT_H2, "bold": font}[kind]
                seg_bold = kind == "bold"
            text = "" if text is None else str(text)
            check_segment(text, where)
            run = p.add_run(text)
            set_run_font(
                run,
                seg_font,
                size,
                bold=seg_bold or kw.get("bold", False),
                **{k: v for k, v in kw.items() if k == "color"},
            )

    def tag(self, statement: str) -> None:
        """A paragraph holding only {%p ... %}; docxtpl removes the paragraph itself."""
        p = self.para("Normal")
        if "}" in statement or "%" in statement:
            # docxtpl finds the end of a {%p ... %} tag with [^}%]*
            raise SourceError(f"'{{%p {statement} %}}': no '}}' or '%' inside a paragraph tag")
        check_segment("{%p " + statement + " %}", statement)
        run = p.add_run("{%p " + statement + " %}")
        set_run_font(run, FONT_BODY, BODY_PT)

    def body_text(self, segments, where, *, first=2, left=0, right=0, align=None, keep=False):
        p = self.para("CFBody", align=align)
        set_indent(p, first=first, left=left, right=right)
        if keep:
            p.paragraph_format.keep_with_next = True
        self.runs(p, segments, where)
        return p

    # blocks -------------------------------------------------------------------
    def emit(self, blocks: Iterable, conds: list[str], where: str) -> None:
        for i, block in enumerate(blocks or []):
            here = f"{where}[{i}]"
            if isinstance(block, str):
                kind, value = block, None
            elif isinstance(block, dict):
                kind = next(iter(block))
                value = block[kind]
            else:
                raise SourceError(f"{here}: a block is a mapping or a keyword, got {block!r}")
            handler = getattr(self, "block_" + kind, None)
            if handler is None:
                raise SourceError(f"{here}: unknown block {kind!r}")
            handler(value, block, conds, here)

    def block_blank(self, value, block, conds, where):
        # An empty line belongs to what follows it (a title, the attachments, a table).
        self.para("Normal").paragraph_format.keep_with_next = True

    def block_pagebreak(self, value, block, conds, where):
        self.para("Normal").add_run().add_break(WD_BREAK.PAGE)

    def block_set(self, value, block, conds, where):
        self.tag(f"set {value}")

    def block_if(self, value, block, conds, where):
        unknown = set(block) - {"if", "then", "else"}
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}")
        self.tag(f"if {value}")
        self.emit(block.get("then"), [*conds, value], where + ".then")
        if "else" in block:
            self.tag("else")
            self.emit(block["else"], [*conds, f"not ({value})"], where + ".else")
        self.tag("endif")

    def block_for(self, value, block, conds, where):
        self.tag(f"for {value}")
        self.in_loop += 1
        self.emit(block.get("do"), conds, where + ".do")
        self.in_loop -= 1
        self.tag("endfor")

    def block_letterhead(self, value, block, conds, where):
        # Long unit names get smaller type so that the name stays on one line.
        self.tag(f"if {value.strip('{} ')}|length <= 15")
        self._letterhead(value, where, 30)
        self.tag("else")
        self._letterhead(value, where, 22)
        self.tag("endif")

    def _letterhead(self, value, where, size):
        p = self.para("Normal", align=WD_ALIGN_PARAGRAPH.CENTER)
        set_spacing(p, exact_twips=size * 20 + 240, grid=False)
        rule = 7 * 56.7 / CHAR  # the 170 mm rule reaches 7 mm past each side of the text block
        set_indent(p, left=-rule, right=-rule)
        # 上粗下细 red double rule 4 mm under the name.
        add_border(p, "bottom", "thickThinSmallGap", 24, 11, "FF0000")
        self.runs(p, value, where, font=FONT_TITLE, size=size, color=RED)

    def block_number(self, value, block, conds, where):
        align = WD_ALIGN_PARAGRAPH.RIGHT if self.layout == "letter" else WD_ALIGN_PARAGRAPH.CENTER
        p = self.para("Normal", align=align)
        self.runs(p, value, where)

    def block_title(self, value, block, conds, where):
        text = value if value is not None else self.schema["document_title"]
        p = self.para("CFTitle")
        set_spacing(p, exact_twips=700, grid=False)  # 35 pt: two-line titles stay compact
        p.paragraph_format.keep_with_next = True
        self.runs(p, text, where, font=FONT_TITLE, size=TITLE_PT)

    def block_subtitle(self, value, block, conds, where):
        p = self.para("Normal", align=WD_ALIGN_PARAGRAPH.CENTER)
        self.runs(p, value, where, font=FONT_H2)

    def block_addressee(self, value, block, conds, where):
        p = self.para("Normal")
        p.paragraph_format.keep_with_next = True
        self.runs(p, [value, "："] if isinstance(value, str) else [*value, "："], where)

    def block_p(self, value, block, conds, where):
        self.body_text(value, where, keep=bool(block.get("keep")))

    def block_flush(self, value, block, conds, where):
        self.body_text(value, where, first=0)

    def block_right(self, value, block, conds, where):
        self.body_text(value, where, first=0, align=WD_ALIGN_PARAGRAPH.RIGHT)

    def block_center(self, value, block, conds, where):
        self.body_text(value, where, first=0, align=WD_ALIGN_PARAGRAPH.CENTER)

    def _heading(self, level, value, conds, where, style):
        if self.in_loop:
            raise SourceError(f"{where}: numbered headings cannot sit inside a loop")
        fmt, font = LEVELS[level]
        number = self.counters[level].next_number(conds, fmt)
        p = self.para(style)
        set_indent(p, first=2)
        p.paragraph_format.keep_with_next = True
        self.runs(p, [number + (value or "")], where, font=font)

    def block_h1(self, value, block, conds, where):
        self.counters["h2"] = Counter()
        self._heading("h1", value, conds, where, "CFHeading1")

    def block_h2(self, value, block, conds, where):
        self._heading("h2", value, conds, where, "CFHeading2")

    def block_clause(self, value, block, conds, where):
        self._heading("clause", value, conds, where, "CFHeading1")

    def block_items(self, value, block, conds, where):
        for n, item in enumerate(value, start=1):
            self.body_text(
                [f"（{cn_number(n)}）", *([item] if isinstance(item, str) else item)],
                f"{where}[{n - 1}]",
            )

    def block_paras(self, value, block, conds, where):
        self.tag(f"for para in {value}_paragraphs")
        self.body_text("{{ para }}", where)
        self.tag("endfor")

    def block_attachments(self, value, block, conds, where):
        # GB/T 9704 7.3.4: 正文下空一行左空二字编排"附件："，多个附件用阿拉伯数字标序号，
        # 回行时与上一行附件名称的首字对齐。
        self.tag(f"if {value}")
        self.para("Normal").paragraph_format.keep_with_next = True
        self.tag(f"for item in {value}")
        number = f"{{% if {value}|length > 1 %}}{{{{ loop.index }}}}.{{% endif %}}"
        self.tag("if loop.first")
        self.body_text(["附件：" + number + "{{ item }}"], where, left=6, first=-4, keep=True)
        self.tag("else")
        self.body_text([number + "{{ item }}"], where, left=6, first=-1, keep=True)
        self.tag("endif")
        self.tag("endfor")
        self.tag("endif")

    def block_signature(self, value, block, conds, where):
        value = value or {}
        name = value.get("name", "{{ unit.name }}")
        date = value.get("date", "{{ issue_date }}")
        name_var = value.get("name_length_of", "unit.name")
        # 加盖印章的公文 (GB/T 9704 7.3.5.1): 成文日期右空四字，署名以成文日期为准居中。
        # Both lines are centred on the date's axis; names too long for that region are set
        # flush right two characters in (the 7.3.5.2 rule) instead of wrapping.
        for _ in range(2):
            self.para("Normal").paragraph_format.keep_with_next = True
        self.tag(f"if {name_var}|length <= 14")
        for text in (name, date):
            p = self.para("CFSignature", align=WD_ALIGN_PARAGRAPH.CENTER)
            set_indent(p, left=13.5)
            self.runs(p, text, where)
        self.tag("else")
        for text in (name, date):
            p = self.para("CFSignature", align=WD_ALIGN_PARAGRAPH.RIGHT)
            set_indent(p, right=2)
            self.runs(p, text, where)
        self.tag("endif")

    def block_note(self, value, block, conds, where):
        # 附注: 成文日期下一行，居左空二字，加圆括号.
        p = self.body_text(["（", value, "）"] if isinstance(value, str) else value, where)
        p.paragraph_format.keep_together = True

    def block_imprint(self, value, block, conds, where):
        # GB/T 9704 7.4: 版记 on the last page, its last rule on the text block's lower edge.
        # A one-column table whose borders are the rules (thick top and bottom, thin between
        # rows, as wide as the text block whatever the indents of its lines) sits in a text box
        # anchored to the document's last paragraph and aligned to the foot of the text block,
        # so however long the body is, the 版记 stands at the foot of the page the document
        # ends on. (Word's paragraph frames, w:framePr, would be simpler, but LibreOffice 7.4
        # lays them out inline and drops their borders.)
        if self.layout != "document":
            raise SourceError(f"{where}: a 版记 belongs to the document layout (文件格式) only")
        cc = (value or {}).get("cc")
        printer = (value or {}).get("printer", "{{ unit.name }}")
        date = "{{ issue_date }}{% if is_issued %}印发{% endif %}"
        lines = []  # (tag, segments, paragraph format)
        if cc:
            lines += [("if " + cc, None, None),
                      (None, ["抄送：", f"{{{{ {cc}|join('，') }}}}。"], "cc"),
                      ("endif", None, None)]  # fmt: skip
        lines.append((None, [printer, "\t", date], "printer"))
        table = self.doc.add_table(rows=len(lines), cols=1)
        table._tbl.replace(
            table._tbl.tblPr, parse_xml(IMPRINT_TABLE_PR.format(ns=nsdecls("w"), w=TEXT_W))
        )
        for row, (tag, segments, kind) in zip(table.rows, lines, strict=True):
            cell = row.cells[0]
            cell.width = Twips(TEXT_W)
            p = cell.paragraphs[0]
            p.style = self.doc.styles.get_by_id("CFImprint", WD_STYLE_TYPE.PARAGRAPH)
            # one grid line high at least, the text centred between the rules
            set_spacing(p, exact_twips=None, grid=False)
            row.height, row.height_rule = Twips(LINE_PITCH), WD_ROW_HEIGHT_RULE.AT_LEAST
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            if tag:
                run = p.add_run("{%tr " + tag + " %}")
                set_run_font(run, FONT_BODY, IMPRINT_PT)
                continue
            pf = p.paragraph_format
            if kind == "cc":  # 左右各空一字；回行时与冒号后的首字对齐
                pf.left_indent, pf.right_indent = Pt(4 * IMPRINT_PT), Pt(IMPRINT_PT)
                pf.first_line_indent = Pt(-3 * IMPRINT_PT)
            else:  # 印发机关左空一字，印发日期右空一字
                pf.left_indent = pf.right_indent = Pt(IMPRINT_PT)
                pf.tab_stops.add_tab_stop(Twips(TEXT_W - IMPRINT_PT * 20), WD_TAB_ALIGNMENT.RIGHT)
            self.runs(p, segments, where, size=IMPRINT_PT)
        anchor = self.para("Normal")
        set_spacing(anchor, exact_twips=20, grid=False)  # one point high: it never adds a page
        # The box is as high as its lines (a 抄送 line holds 25 characters of 4号 type), its
        # text at its foot; a box that grew with its text would stand a few points too high in
        # LibreOffice.
        line = LINE_PITCH * 635  # EMU
        height = (
            f"{{{{ {line} * (1 + (({cc}|join('，')|length + 25) // 25 if {cc} else 0)) }}}}"
            if cc
            else str(line)
        )
        box = parse_xml(IMPRINT_BOX.format(ns=nsdecls("w", "wp", "a") + IMPRINT_NS, w=TEXT_W * 635,
                                           h=height))  # fmt: skip
        content = box.find(".//" + qn("w:txbxContent"))
        content.append(table._tbl)  # lxml moves it out of the body
        closing = OxmlElement("w:p")  # a cell-less paragraph must end a text box's content
        content.append(closing)
        spacing = parse_xml(
            f'<w:pPr {nsdecls("w")}><w:spacing w:line="20" w:lineRule="exact"/></w:pPr>'
        )
        closing.append(spacing)
        anchor.add_run()._r.append(box)

    def block_table(self, value, block, conds, where):
        # A data table (GB/T 9704 allows tables in the body): 3号仿宋 on the grid like the body,
        # single 0.5 pt rules, the header row repeated on each page, no row split over pages.
        # The list's rows come from {%tr for %} … {%tr endfor %}, each tag in a row of its own
        # that docxtpl replaces.
        unknown = set(value or {}) - {"for", "columns", "empty"}
        if unknown:
            raise SourceError(f"{where}: unknown keys {sorted(unknown)}")
        columns = value["columns"]
        widths = [float(c[2]) for c in columns]
        if round(sum(widths), 3) != TABLE_CHARS:
            raise SourceError(f"{where}: column widths add up to {sum(widths)}, not {TABLE_CHARS}")
        empty = value.get("empty")
        items = value["for"].partition(" in ")[2]
        rows = [("head", None), ("tag", f"for {value['for']}"), ("data", None), ("tag", "endfor")]
        if empty:
            rows = [rows[0], ("tag", f"if {items}"), *rows[1:], ("tag", "else"), ("empty", None),
                    ("tag", "endif")]  # fmt: skip
        table = self.doc.add_table(rows=len(rows), cols=len(columns))
        table._tbl.replace(table._tbl.tblPr, parse_xml(
            DATA_TABLE_PR.format(ns=nsdecls("w"), w=round(CHAR * sum(widths)))))  # fmt: skip
        grid = table._tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
            col.set(qn("w:w"), str(round(CHAR * width)))
        for r, (kind, text) in enumerate(rows):
            row = table.rows[r]
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(OxmlElement("w:cantSplit"))
            if kind == "head":
                tr_pr.append(OxmlElement("w:tblHeader"))
            cells = row.cells
            if kind in ("tag", "empty"):
                merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
                cells = [merged]
            for c, cell in enumerate(cells):
                width = sum(widths) if kind in ("tag", "empty") else widths[c]
                cell.width = Twips(round(CHAR * width))
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.style = self.doc.styles.get_by_id("CFBody", WD_STYLE_TYPE.PARAGRAPH)
                set_spacing(p)
                p.paragraph_format.first_line_indent = Twips(0)  # not the body's two characters
                p._p.pPr.find(qn("w:ind")).set(qn("w:firstLineChars"), "0")
                left = kind == "data" and len(columns[c]) > 3 and columns[c][3] == "left"
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER
                if kind == "tag":
                    run = p.add_run("{%tr " + text + " %}")
                    set_run_font(run, FONT_BODY, BODY_PT)
                elif kind == "head":
                    self.runs(p, [{"hei": columns[c][0]}], f"{where}.{c}")
                elif kind == "data":
                    self.runs(p, columns[c][1], f"{where}.{c}")
                else:
                    self.runs(p, empty, where)

    def block_parties(self, value, block, conds, where):
        for label, text in value:
            p = self.body_text([{"hei": label} if label else "", text], where, first=0)
            if label:
                p.paragraph_format.keep_with_next = True

    def block_sign_table(self, value, block, conds, where):
        left, right = value["left"], value["right"]
        rows = max(len(left), len(right))
        table = self.doc.add_table(rows=rows, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        width = Twips(8845 // 2)
        for r in range(rows):
            cells = table.rows[r].cells
            # Keep the signature table on one page.
            tr_pr = table.rows[r]._tr.get_or_add_trPr()
            cant = OxmlElement("w:cantSplit")
            tr_pr.append(cant)
            for c, lines in enumerate((left, right)):
                cell = cells[c]
                cell.width = width
                p = cell.paragraphs[0]
                set_spacing(p)
                p.paragraph_format.keep_with_next = r < rows - 1
                self.runs(p, lines[r] if r < len(lines) else "", f"{where}.{r}.{c}")
        for col in table.columns:
            col.width = width


# --------------------------------------------------------------------------- build + write


def load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def build_document(source: dict, schema: dict):
    layout = source.get("layout", "document")
    if layout not in ("letter", "document", "contract"):
        raise SourceError(f"unknown layout {layout!r}")
    doc = setup_document(layout)
    Builder(doc, layout, schema).emit(source["body"], [], "body")
    slim(doc, layout)
    return doc


def slim(doc, layout: str = "document") -> None:
    """Drop what python-docx's default document carries but a template does not use.

    Its 160 unused table and list styles (with stylesWithEffects.xml, a Word 2010 copy of them)
    make up 90% of the file and clutter the style list an administrator sees in Word; the
    thumbnail shows an empty page and customXml holds an empty bibliography.
    """
    unused_reltypes = ("/stylesWithEffects", "/customXml", "/metadata/thumbnail")
    for rels in (doc.part.rels, doc.part.package.rels):
        for r_id, rel in list(rels.items()):
            if rel.reltype.endswith(unused_reltypes):
                del rels[r_id]

    styles = doc.styles.element
    by_id = {el.get(qn("w:styleId")): el for el in styles.findall(qn("w:style"))}
    used = {sid for sid, el in by_id.items() if el.get(qn("w:default")) == "1"}
    parts = [doc.element] + [
        rel.target_part.element
        for rel in doc.part.rels.values()
        if rel.reltype.endswith(("/footer", "/header"))
    ]
    for part in parts:
        for tag in ("w:pStyle", "w:rStyle", "w:tblStyle"):
            used |= {el.get(qn("w:val")) for el in part.iter(qn(tag))}
    used |= {"CFBody", "CFTitle", "CFHeading1", "CFHeading2", "CFSignature"}  # for editors
    if layout == "document":
        used.add("CFImprint")
    pending = list(used)
    while pending:  # follow basedOn / link / next
        el = by_id.get(pending.pop())
        if el is None:
            continue
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = el.find(qn(tag))
            if ref is not None and ref.get(qn("w:val")) not in used:
                used.add(ref.get(qn("w:val")))
                pending.append(ref.get(qn("w:val")))
    for sid, el in by_id.items():
        if sid not in used:
            styles.remove(el)


def deterministic_bytes(doc) -> bytes:
    """Save, then rewrite the zip with fixed timestamps and a fixed entry order.

    Entries are stored, not deflated, so the bytes do not depend on the zlib build either.
    """
    raw = io.BytesIO()
    doc.save(raw)
    with zipfile.ZipFile(raw) as zin:
        entries = {info.filename: zin.read(info.filename) for info in zin.infolist()}
    order = sorted(entries, key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            zout.writestr(info, entries[name])
    return out.getvalue()


def build(template_id: str) -> bytes:
    source = load_yaml(SRC_DIR / f"{template_id}.yaml")
    if source.get("template") != template_id:
        raise SourceError(f"{template_id}.yaml: 'template' must be {template_id!r}")
    schema = load_yaml(OUT_DIR / template_id / "schema.yaml")
    return deterministic_bytes(build_document(source, schema))


# --------------------------------------------------------------------------- sample preview

SAMPLE_UNIT = {"name": "某市司法局", "code": "SFJ", "doc_code": "武政法"}
SAMPLE_ISSUE_DATE = dt.date(2026, 11, 3)


def render_sample(
    template_id: str,
    target: Path,
    *,
    data: dict | None = None,
    issued: bool = True,
    number: int = 12,
    unit: dict | None = None,
) -> Path:
    """Render sample.json (or `data`) through casefile's own render path into `target`."""
    import json

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.templating import describe_errors, parse_schema, render_document, validate

    folder = OUT_DIR / template_id
    schema = parse_schema((folder / "schema.yaml").read_text(encoding="utf-8"), template_id)
    if data is None:
        data = json.loads((folder / "sample.json").read_text(encoding="utf-8"))
    clean, errors = validate(schema, data)
    if errors:
        raise SourceError(f"{template_id}: sample data invalid: {describe_errors(schema, errors)}")
    unit = unit or SAMPLE_UNIT
    doc_number = (
        f"{unit['doc_code']}{schema.numbering_suffix}〔2026〕{number}号" if issued else None
    )
    target.write_bytes(
        render_document(
            schema,
            (folder / "template.docx").read_bytes(),
            clean,
            unit,
            number=doc_number,
            issue_date=SAMPLE_ISSUE_DATE if issued else None,
        )
    )
    return target


def all_ids() -> list[str]:
    return sorted(p.stem for p in SRC_DIR.glob("*.yaml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ids", nargs="*", help="template ids (default: all sources)")
    parser.add_argument("--check", action="store_true", help="fail if an output is stale")
    parser.add_argument("--preview", metavar="DIR", help="also render each sample.json into DIR")
    args = parser.parse_args(argv)
    stale = []
    for template_id in args.ids or all_ids():
        try:
            data = build(template_id)
        except SourceError as exc:
            print(f"{template_id}: {exc}", file=sys.stderr)
            return 2
        target = OUT_DIR / template_id / "template.docx"
        current = target.read_bytes() if target.exists() else None
        if current == data:
            print(f"{template_id}: up to date")
        elif args.check:
            stale.append(template_id)
            print(f"{template_id}: STALE (run tools/build_templates.py)")
        else:
            target.write_bytes(data)
            print(f"{template_id}: written {target.relative_to(ROOT)}")
        if args.preview:
            out = Path(args.preview)
            out.mkdir(parents=True, exist_ok=True)
            print(
                f"{template_id}: preview {render_sample(template_id, out / (template_id + '.docx'))}"
            )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
