"""Warm converter: real LibreOffice, real PDF/A-2b."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from app.renditions import (
    ConversionError,
    embedded_fonts,
    extract_text,
    make_rendition,
    page_count,
    preview_pages,
    read_metadata,
    render_page_images,
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_output_is_pdfa_2b(sample_pdf):
    assert sample_pdf.startswith(b"%PDF-")
    meta = read_metadata(sample_pdf)
    assert meta["pdfa_part"] == "2"
    assert meta["pdfa_conformance"] == "B"
    assert b"pdfaid:part>2<" in sample_pdf or b'pdfaid:part="2"' in sample_pdf


def test_all_fonts_embedded_pypdf(sample_pdf):
    fonts = embedded_fonts(sample_pdf)
    assert fonts, "no fonts found at all"
    assert all(emb for _name, emb in fonts), fonts


def test_all_fonts_embedded_pdffonts(sample_pdf, tmp_path):
    path = tmp_path / "s.pdf"
    path.write_bytes(sample_pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        # name type encoding emb sub uni object ID: 'emb' is the 5th field from the right
        assert row.split()[-5] == "yes", out


def test_template_font_names_map_to_cjk_faces(sample_pdf):
    """仿宋 -> AR PL UMing, 方正小标宋简体 -> Noto Serif CJK Bold, 黑体 -> Noto Sans CJK,
    楷体 -> AR PL UKai; never a Latin fallback such as DejaVu."""
    names = " ".join(name for name, _ in embedded_fonts(sample_pdf))
    assert "UMingCN" in names
    assert re.search(r"NotoSerifCJK\w*-Bold", names)
    assert "NotoSansCJK" in names
    assert "UKaiCN" in names
    assert "DejaVu" not in names


def test_chinese_text_extracted(sample_pdf, texts):
    text = _squash(extract_text(sample_pdf))
    for s in [*texts.values(), "2026年11月3日"]:
        assert _squash(s) in text, s


def test_rendition_stamped_and_reads_back(converter, sample_docx, texts):
    number, title, body = texts["number"], texts["title"], texts["body"]
    r = make_rendition(
        sample_docx,
        number=number,
        template_id="legality_review",
        template_version=3,
        title=title,
        converter=converter,
    )
    meta = read_metadata(r.pdf)
    assert meta["CasefileNumber"] == number
    assert meta["CasefileDocxSha256"] == hashlib.sha256(sample_docx).hexdigest() == r.docx_sha256
    assert meta["CasefileTemplate"] == "legality_review@3"
    assert meta["CasefileTemplateVersion"] == "3"
    assert meta["Title"] == title and meta["xmp_title"] == title
    assert meta["Producer"].startswith("LibreOffice")  # not overwritten by pypdf
    assert meta["xmp_casefile_Number"] == number
    # PDF/A identification survives the stamping
    assert (meta["pdfa_part"], meta["pdfa_conformance"]) == ("2", "B")
    assert r.sha256 == hashlib.sha256(r.pdf).hexdigest()
    assert r.pages == page_count(r.pdf) == 1
    assert all(emb for _n, emb in r.fonts)
    assert _squash(body) in _squash(extract_text(r.pdf))


def test_page_images(sample_pdf):
    pngs = render_page_images(sample_pdf, 40)
    assert len(pngs) == page_count(sample_pdf)
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)


def test_preview_multi_page(converter, make_docx):
    docx = make_docx(body_paragraphs=30)
    pngs = preview_pages(docx, dpi=30, converter=converter)
    assert len(pngs) >= 2


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage, not a document", b"PK\x03\x04broken zip", b"%PDF-1.7 not a docx either"],
)
def test_garbage_raises(converter, data):
    t0 = time.monotonic()
    with pytest.raises(ConversionError):
        converter.convert(data)
    assert time.monotonic() - t0 < 5


def test_corrupt_docx_raises_and_converter_keeps_working(converter, sample_docx):
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(sample_docx))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            data = src.read(info)
            z.writestr(info, b"<<< not xml" if info.filename == "word/document.xml" else data)
    with pytest.raises(ConversionError, match="could not"):
        converter.convert(buf.getvalue())
    assert converter.convert(sample_docx).startswith(b"%PDF-")


def test_survives_killed_soffice(converter, sample_docx):
    procs = converter.office_processes()
    bin_pids = [pid for pid, comm in procs.items() if comm.startswith("soffice")]
    assert bin_pids, procs
    restarts = converter.restarts
    for pid in bin_pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    pdf = converter.convert(sample_docx)
    assert pdf.startswith(b"%PDF-")
    assert converter.restarts == restarts + 1
    assert not set(bin_pids) & set(converter.office_processes())


def test_hang_is_killed_and_restarted(converter, sample_docx):
    restarts = converter.restarts
    with pytest.raises(ConversionError, match="did not finish"):
        converter.convert(sample_docx, timeout=0.01)
    assert converter.convert(sample_docx).startswith(b"%PDF-")
    assert converter.restarts == restarts + 1


def test_thread_safe(converter, sample_docx):
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work():
        try:
            results.append(converter.convert(sample_docx))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(results) == 3 and all(r.startswith(b"%PDF-") for r in results)
