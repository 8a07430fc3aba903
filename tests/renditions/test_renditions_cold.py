"""Cold path: one `soffice --convert-to` per file, and the converter lifecycle."""

from __future__ import annotations

import re

import pytest

from app.renditions import (
    ConversionError,
    Converter,
    ConverterUnavailable,
    cold_convert,
    embedded_fonts,
    extract_text,
    get_converter,
    read_metadata,
)
from app.renditions.converter import cold_filter_option


def test_cold_convert_pdfa(libreoffice, sample_docx, texts):
    pdf = cold_convert(sample_docx, timeout=120)
    assert pdf.startswith(b"%PDF-")
    meta = read_metadata(pdf)
    assert (meta["pdfa_part"], meta["pdfa_conformance"]) == ("2", "B")
    assert all(emb for _n, emb in embedded_fonts(pdf))
    assert re.sub(r"\s+", "", texts["body"]) in re.sub(r"\s+", "", extract_text(pdf))


def test_cold_convert_rejects_garbage():
    with pytest.raises(ConversionError):
        cold_convert(b"not a docx")


def test_cold_filter_option_is_json():
    opt = cold_filter_option()
    assert opt.startswith('pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}')


def test_singleton():
    assert get_converter() is get_converter()


def test_lifecycle_lazy_start_recycle_stop_restart(libreoffice, sample_docx):
    conv = Converter(convert_timeout=60, recycle_after=2)
    try:
        assert not conv.running
        assert conv.convert(sample_docx).startswith(b"%PDF-")  # starts lazily
        assert conv.running and conv.office_processes()
        conv.convert(sample_docx)
        conv.convert(sample_docx)  # third conversion: soffice recycled first
        assert conv.restarts == 1 and conv.conversions == 3
        conv.stop()
        assert not conv.running and conv.office_processes() == {}
        assert conv.convert(sample_docx).startswith(b"%PDF-")
    finally:
        conv.stop()
    assert not conv.running


def test_missing_libreoffice_is_reported_as_unavailable(sample_docx):
    with pytest.raises(ConverterUnavailable):
        Converter(soffice="/nonexistent/soffice").convert(sample_docx)
    with pytest.raises(ConverterUnavailable):
        cold_convert(sample_docx, soffice="/nonexistent/soffice")


def test_the_containers_settings_reach_the_process_converter(tmp_path, sample_docx):
    from app.config import Settings
    from app.container import open_casefile
    from app.renditions import OfficeSettings, configure_office

    settings = Settings(
        archive_dir=tmp_path / "archive", index_dir=tmp_path / "index",
        database_url=f"sqlite:///{tmp_path / 'casefile.db'}", secret_key=None,
        soffice="/nonexistent/soffice", font_aliases=False, rendition_timeout=7,
    )  # fmt: skip
    cf = open_casefile(settings)
    try:
        conv = get_converter()
        assert (conv.convert_timeout, conv.font_aliases) == (7, False)
        with pytest.raises(ConverterUnavailable):
            conv.convert(sample_docx)
    finally:
        cf.close()
        configure_office(OfficeSettings())
    assert get_converter().convert_timeout == 120
