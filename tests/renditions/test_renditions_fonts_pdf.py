"""Font aliases and pypdf helpers that need no LibreOffice."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from app.renditions import PdfError, read_metadata, stamp_metadata
from app.renditions import fonts as F

TEMPLATE_NAMES = [
    "仿宋_GB2312",
    "FangSong",
    "仿宋",
    "方正小标宋简体",
    "黑体",
    "楷体_GB2312",
    "楷体",
    "宋体",
    "SimSun",
    "SimHei",
    "KaiTi",
]


def test_every_template_font_name_is_aliased():
    aliased = {name for name, _t, _w in F.ALIASES}
    assert set(TEMPLATE_NAMES) <= aliased


def test_fontconfig_xml_is_well_formed():
    root = ET.fromstring(F.fontconfig_xml(include_system=True).split("\n", 2)[2])
    assert root.tag == "fontconfig"
    assert len(root.findall("match")) == len(F.ALIASES)


# fontconfig (fc-match) is installed by scripts/install-system-deps.sh, which `make test` runs
@pytest.mark.parametrize(
    "name, family, style",
    [
        ("仿宋_GB2312", F.FANGSONG, None),
        ("FangSong", F.FANGSONG, None),
        ("方正小标宋简体", F.SONG, "Bold"),
        ("黑体", F.HEI, None),
        ("楷体_GB2312", F.KAI, None),
        ("宋体", F.SONG, "Regular"),
    ],
)
def test_fc_match_resolves_aliases(tmp_path, name, family, style):
    conf = tmp_path / "fonts.conf"
    F.write_conf(str(conf), include_system=True)
    out = subprocess.run(
        ["fc-match", name, "family", "style"],
        capture_output=True,
        text=True,
        env={"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout
    assert out.startswith(family), out
    if style:
        assert style in out, out


def test_write_conf_is_idempotent(tmp_path):
    p = tmp_path / "x.conf"
    assert F.write_conf(str(p)) is True
    assert F.write_conf(str(p)) is False


def test_pdf_helpers_reject_garbage():
    with pytest.raises(PdfError):
        read_metadata(b"not a pdf")
    with pytest.raises(ValueError):
        stamp_metadata(
            b"%PDF-1.7",
            number="x",
            docx_sha256="nothex",
            template_id="t",
            template_version=1,
            title="t",
        )
