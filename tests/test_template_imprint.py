"""版记 (GB/T 9704-2012 7.4), measured on the PDF LibreOffice prints: a template declared
文件格式 ends with 抄送 and 印发机关/印发日期 between rules — a thick first and last rule, a thin
one between — at the foot of its LAST page, the last rule on the text block's lower edge; one in
信函格式 (and a contract) has none. The pages are rasterised with pdftoppm and the rules found
as rows of black pixels as wide as the text block.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml
from conftest import REPO, as_user, populated_store
from PIL import Image

from app.drafting import drafts
from app.drafting.models import IssuedDocument
from app.integrity.verify import verify_store
from app.renditions import Converter, is_available, page_count, render_page_images
from app.templating import parse_schema

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

TEMPLATES = REPO / "doc_templates"
DPI = 200
MM = DPI / 25.4  # pixels per millimetre
PT_MM = 25.4 / 72
TEXT_LEFT, TEXT_RIGHT, TEXT_BOTTOM = 28.0, 184.0, 262.0  # the 156 x 225 mm text block, in mm


def _builder():
    if "build_templates" in sys.modules:
        return sys.modules["build_templates"]
    spec = importlib.util.spec_from_file_location(
        "build_templates", REPO / "tools/build_templates.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_templates"] = module
    spec.loader.exec_module(module)
    return module


def formats() -> dict[str, str]:
    return {
        p.parent.name: parse_schema(p.read_bytes(), p.parent.name).document_type.format
        for p in sorted(TEMPLATES.glob("*/schema.yaml"))
    }


@pytest.fixture(scope="module")
def converter():
    if not is_available():
        pytest.fail("LibreOffice / python3-uno missing: run scripts/install-system-deps.sh")
    conv = Converter(convert_timeout=90)
    conv.start()
    yield conv
    conv.stop()


def render(converter, template_id: str, tmp_path, **changes) -> bytes:
    data = json.loads((TEMPLATES / template_id / "sample.json").read_text("utf-8")) | changes
    path = _builder().render_sample(template_id, tmp_path / f"{template_id}.docx", data=data)
    return converter.convert(path.read_bytes())


def words(pdf: bytes, page: int) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, y0, x1, y1) in mm from the page's top left, from pdftotext -bbox."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-"],
                         input=pdf, capture_output=True, check=True, timeout=60).stdout.decode()  # fmt: skip
    found = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', out
    )
    return [(t, *(float(v) * PT_MM for v in box)) for *box, t in found]


def rules(pdf: bytes, page: int) -> list[dict]:
    """Black horizontal rules as wide as the text block: top (mm), extent (mm), weight."""
    png = render_page_images(pdf, DPI, first_page=page, last_page=page)[0]
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    dark = (rgb < 110).all(axis=2)  # black or grey; the red rules of a letterhead are not
    ink = 255 - rgb.mean(axis=2)
    left, right = int(TEXT_LEFT * MM) + 4, int(TEXT_RIGHT * MM) - 4
    full = dark[:, left:right].mean(axis=1) > 0.95
    found, y = [], 0
    while y < len(full):
        if not full[y]:
            y += 1
            continue
        top = y
        while y < len(full) and full[y]:
            y += 1
        band = slice(max(top - 1, 0), y + 1)  # the anti-aliased rows above and below count too
        xs = np.where(dark[top:y].any(axis=0))[0]
        found.append({"top": top / MM, "bottom": y / MM, "left": xs.min() / MM,
                      "right": xs.max() / MM, "weight": ink[band, left:right].sum() / (right - left)})  # fmt: skip
    return found


def imprint_text(ws) -> list:
    """Words of a 版记: 抄送： or a date followed by 印发 (the body may say 印发 too)."""
    return [w for w in ws if "抄送：" in w[0] or re.search(r"日印发", w[0])]


def line_of(ws, text: str):
    hits = [w for w in ws if text in w[0]]
    assert hits, f"{text!r} not on the page: {[w[0] for w in ws]}"
    return hits[0]


def test_every_shipped_template_declares_its_format():
    assert set(formats().values()) <= {"文件格式", "信函格式", "合同格式"}
    assert None not in formats().values()


@pytest.mark.parametrize("template_id", [t for t, f in formats().items() if f == "文件格式"])
def test_a_document_format_template_ends_with_the_imprint_at_the_last_page_foot(
    converter, template_id, tmp_path
):
    pdf = render(converter, template_id, tmp_path)
    assert page_count(pdf) >= 2, "the sample should run over a page so that 'last' means something"
    assert_imprint_at_the_last_page_foot(pdf)


def test_the_imprint_follows_a_longer_body_to_its_last_page(converter, tmp_path):
    data = json.loads((TEMPLATES / "legality-review-opinion/sample.json").read_text("utf-8"))
    longer = (
        data["other_matters"]
        + "\n"
        + "\n".join(["请起草单位在报送审议前再次核对条文序号和引用的法律依据是否准确。"] * 8)
    )
    short = render(converter, "legality-review-opinion", tmp_path, cc=[])
    pdf = render(converter, "legality-review-opinion", tmp_path, other_matters=longer)
    assert page_count(pdf) > page_count(short)
    assert_imprint_at_the_last_page_foot(pdf)


def assert_imprint_at_the_last_page_foot(pdf: bytes) -> None:
    last = page_count(pdf)
    for page in range(1, last):  # nothing of it before the last page
        assert not imprint_text(words(pdf, page)), page
        assert rules(pdf, page) == [], page
    ws = words(pdf, last)
    found = rules(pdf, last)
    assert len(found) == 3, found  # above 抄送, between 抄送 and 印发, under 印发
    first, middle, final = found
    # the last rule lies on the text block's lower edge; all are as wide as the text block
    assert final["bottom"] == pytest.approx(TEXT_BOTTOM, abs=1.0), final
    for rule in found:
        assert rule["left"] == pytest.approx(TEXT_LEFT, abs=1.0), rule
        assert rule["right"] == pytest.approx(TEXT_RIGHT, abs=1.0), rule
    # thick (0.35 mm) first and last rules, a thin (0.25 mm) one between
    assert first["weight"] > 1.15 * middle["weight"] and final["weight"] > 1.15 * middle["weight"]
    cc = line_of(ws, "抄送：")
    printed = line_of(ws, "日印发")
    printer = next(w for w in ws if w[0] == "某市司法局" and w[2] > middle["bottom"])
    assert first["bottom"] < cc[2] < cc[4] < middle["top"]
    assert middle["bottom"] < printed[2] < printed[4] < final["top"]
    assert "市人民政府办公室，市依法治市办。" in cc[0]
    # 抄送 and 印发机关 one character (4号, 14 pt) in from the left, 印发日期 from the right
    assert cc[1] - TEXT_LEFT == pytest.approx(14 * PT_MM, abs=1.0)
    assert printer[1] - TEXT_LEFT == pytest.approx(14 * PT_MM, abs=1.0)
    assert TEXT_RIGHT - printed[3] == pytest.approx(14 * PT_MM, abs=1.0)
    assert "2026年11月3日印发" in "".join(w[0] for w in ws).replace(" ", "")
    # the body ends above the 版记; below its last rule comes only the page number
    assert [w for w in ws if w[4] < first["top"]], "no body text on the last page"
    inside = [w for w in ws if w[4] > first["top"] and w[2] < TEXT_BOTTOM]
    assert all(first["bottom"] < w[2] and w[4] < final["top"] for w in inside), inside
    assert all(w[2] > TEXT_BOTTOM + 5 for w in ws if w[4] > TEXT_BOTTOM)  # the page number
    assert "".join(w[0] for w in ws if w[2] > TEXT_BOTTOM) == f"—{last}—"


def test_without_cc_the_imprint_keeps_printer_and_date_between_two_thick_rules(converter, tmp_path):
    pdf = render(converter, "legality-review-opinion", tmp_path, cc=[])
    last = page_count(pdf)
    ws = words(pdf, last)
    assert not any("抄送" in w[0] for w in ws)
    found = rules(pdf, last)
    assert len(found) == 2, found
    assert found[1]["bottom"] == pytest.approx(TEXT_BOTTOM, abs=1.0)
    printed = line_of(ws, "日印发")
    assert found[0]["bottom"] < printed[2] < printed[4] < found[1]["top"]


@pytest.mark.parametrize("template_id", [t for t, f in formats().items() if f != "文件格式"])
def test_letters_and_contracts_have_no_imprint(converter, template_id, tmp_path):
    pdf = render(converter, template_id, tmp_path)
    for page in range(1, page_count(pdf) + 1):
        ws = words(pdf, page)
        assert not imprint_text(ws), page
        assert rules(pdf, page) == [], page  # the letterhead's rules are red, not black


# --- documents issued before the 版记 ------------------------------------------------------------


def _without_imprint(folder) -> None:
    """Turn the shipped opinion in `folder` back into what it was before the 版记 and 抄送."""
    builder = _builder()
    source = yaml.safe_load((REPO / "tools/templates_src/legality-review-opinion.yaml").read_text())
    source["body"] = [b for b in source["body"] if not (isinstance(b, dict) and "imprint" in b)]
    schema_text = (folder / "schema.yaml").read_text("utf-8")
    schema_text = schema_text.split("\n  - name: cc\n")[0] + "\n"
    schema_text = re.sub(r"\n  format: .*", "", schema_text)
    (folder / "schema.yaml").write_text(schema_text, "utf-8")
    doc = builder.build_document(source, yaml.safe_load(schema_text))
    (folder / "template.docx").write_bytes(builder.deterministic_bytes(doc))


def _issue(cf, data: dict) -> int:
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "legality-review-opinion", data, "FZB")
        drafts.submit(cf, s, clerk, d.id)
        for step in drafts.template_of(cf, s, d).schema.review_chain:
            drafts.approve(cf, s, as_user(s, REVIEWERS[step.role]), d.id)
        return drafts.issue(cf, s, clerk, d.id).id


REVIEWERS = {"adviser": "adviser", "public-lawyer": "lawyer", "office-head": "head",
             "signatory": "signatory"}  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_documents_issued_before_the_imprint_still_verify_byte_for_byte(tmp_path, db_url):
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    _without_imprint(folder / "legality-review-opinion")
    cf = populated_store(tmp_path, db_url, templates_dir=folder)
    try:
        data = json.loads((TEMPLATES / "legality-review-opinion/sample.json").read_text("utf-8"))
        old_data = {k: v for k, v in data.items() if k != "cc"}
        before = _issue(cf, old_data)
        # the new version (with 抄送 and the 版记) is installed beside the old one
        for name in ("template.docx", "schema.yaml"):
            shutil.copy(
                TEMPLATES / "legality-review-opinion" / name, folder / "legality-review-opinion"
            )
        with cf.db.write() as s:
            assert cf.catalog.sync(s) == [("legality-review-opinion", 2)]
        after = _issue(cf, data)
        with cf.db.read() as s:
            old, new = s.get(IssuedDocument, before), s.get(IssuedDocument, after)
            old_xml = docx_xml(cf.blobs.get(old.docx_sha256))
            new_xml = docx_xml(cf.blobs.get(new.docx_sha256))
            assert (old.template_version.version, new.template_version.version) == (1, 2)
        assert "日印发" not in old_xml and "抄送：" not in old_xml
        assert "日印发" in new_xml and "抄送：" in new_xml and "市依法治市办" in new_xml
        report = verify_store(cf)
        assert report.ok, report.problems
        assert report.checked_documents == 2
    finally:
        cf.close()


def docx_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
