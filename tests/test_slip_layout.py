"""The processing slip (发文稿纸) prints with air in its tables: every cell of every table has
padding on all four sides, and the slip names no command or English word."""

from __future__ import annotations

import io
import re

import pytest
from conftest import issue_letter
from docx import Document
from docx.oxml.ns import qn

from app.drafting.slip import slip_for_document


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_slip_tables_have_cell_padding_and_chinese_text(cf):
    doc = issue_letter(cf)
    with cf.db.read() as s:
        data = slip_for_document(cf, s, doc)
    slip = Document(io.BytesIO(data))
    assert len(slip.tables) == 3
    for table in slip.tables:
        margins = table._tbl.tblPr.find(qn("w:tblCellMar"))
        assert margins is not None
        sides = {el.tag.split("}")[1]: int(el.get(qn("w:w"))) for el in margins}
        assert set(sides) == {"top", "left", "bottom", "right"}
        assert min(sides.values()) >= 57  # at least 1 mm (twentieths of a point)
        order = [child.tag.split("}")[1] for child in table._tbl.tblPr]
        if "tblLook" in order:  # the schema's order: cell margins before tblLook
            assert order.index("tblCellMar") < order.index("tblLook")
    text = "\n".join(p.text for p in slip.paragraphs)
    assert "完整性校验" in text and not re.search(r"casefile|sha256", text)
