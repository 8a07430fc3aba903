"""发文稿纸 (processing slip): who drafted, reviewed and signed a document, proven by hash.

`slip_data` gathers the facts once; the DOCX (archived at issuance) and the web page both show
them. The DOCX is built in code and written reproducibly, so rebuilding a slip from the records
gives the archived bytes again.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.clock import CHINA_TZ
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion, IssuedDocument, ProcessingSlip, ReviewStep
from app.identity.models import Unit, User
from app.templating.models import TemplateVersion
from app.templating.render import chinese_date, normalize_docx


def cst(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class SlipEntry:
    """One line of the slip: a review step as the archive records it."""

    step_id: int
    at: str
    decision: str
    step_label: str
    name: str
    role: str
    unit: str
    comment: str
    version: int
    sha256: str
    attachment: str = ""
    attachment_sha256: str = ""
    supersedes: int | None = None


@dataclass(frozen=True)
class Slip:
    document_id: int
    title: str
    number: str
    unit_name: str
    doc_type: str
    addressee: str
    copy_to: str
    copies: str
    drafter: str
    drafted_at: str
    co_sign_units: str
    issue_date: str
    issued_by: str
    issued_at: str
    signatories: str
    version: int
    approved_sha256: str
    issued_sha256: str
    approvals: list[SlipEntry] = field(default_factory=list)
    history: list[SlipEntry] = field(default_factory=list)


def _text(value: object) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value if v)
    return str(value or "")


def step_entries(
    session: Session, draft: Draft, steps: list[ReviewStep], labels: dict[str, str]
) -> list[SlipEntry]:
    opinions = drafts.opinions_of(session, draft)
    numbers = dict(
        session.execute(
            select(DraftVersion.id, DraftVersion.number).where(DraftVersion.draft_id == draft.id)
        ).all()
    )
    out = []
    for s in steps:
        user = session.get(User, s.user_id)
        unit = session.get(Unit, s.unit_id)
        opinion = opinions.get(s.id)
        if s.decision in {"submit", "withdraw"}:  # the drafter's own acts
            step_label = "起草"
        else:
            step_label = labels.get(s.step_name, s.step_name)
        out.append(
            SlipEntry(
                step_id=s.id,
                at=cst(s.created_at),
                decision=drafts.DECISION_LABELS.get(s.decision, s.decision),
                step_label=step_label,
                name=user.name,
                role=drafts.STEP_ROLE_LABELS.get(s.role, s.role),
                unit=unit.name if unit else "",
                comment=s.comment or "",
                version=numbers.get(s.version_id, 0),
                sha256=s.version_sha256,
                attachment=opinion.file_name if opinion and opinion.file_sha256 else "",
                attachment_sha256=(opinion.file_sha256 or "") if opinion else "",
                supersedes=opinion.supersedes_step_id if opinion else None,
            )
        )
    return out


def slip_data(cf: Casefile, session: Session, doc: IssuedDocument) -> Slip:
    """The slip's facts: only steps taken up to issuance (later notes show on the history page)."""
    draft = session.get(Draft, doc.draft_id)
    tv = session.get(TemplateVersion, doc.template_version_id)
    tpl = cf.catalog.load(tv)
    version = session.get(DraftVersion, doc.approved_version_id)
    labels = {s.name: s.label for s in tpl.schema.review_chain}
    steps = [s for s in drafts.steps_of(session, draft) if s.created_at <= doc.issued_at]
    history = step_entries(session, draft, steps, labels)
    states = drafts.chain_state(session, draft, tpl, version)
    counted = {a.id for st in states for a in st.approvals}
    approvals = [e for e in history if e.step_id in counted]
    data = version.data or {}
    co_units = [session.get(Unit, u).name for u in drafts.co_sign_unit_ids(session, version)]
    signatories = [e.name for e in approvals if e.role == drafts.STEP_ROLE_LABELS["signatory"]]
    return Slip(
        document_id=doc.id,
        title=doc.title,
        number=doc.number,
        unit_name=session.get(Unit, doc.unit_id).name,
        doc_type=tv.title,
        addressee=_text(data.get("addressee")),
        copy_to=_text(data.get("copy_to") or data.get("cc")),
        copies=_text(data.get("copies")),
        drafter=session.get(User, draft.created_by).name,
        drafted_at=cst(draft.created_at),
        co_sign_units="、".join(co_units),
        issue_date=chinese_date(doc.issue_date),
        issued_by=session.get(User, doc.issued_by).name,
        issued_at=cst(doc.issued_at),
        signatories="、".join(signatories),
        version=version.number,
        approved_sha256=doc.approved_sha256,
        issued_sha256=doc.docx_sha256,
        approvals=approvals,
        history=history,
    )


# An issued document's slip never changes: its steps up to issuance, their versions and opinions,
# the template version and the names of users and units (neither is ever renamed) are all
# write-once. Pages keep it per process and database (`issued_slip`), so the document page does
# not read the chain again on every view (docs/performance.md, "Serving"). Keyed by the issued
# file's hash too, like the contracts register's terms: a database restored under a running
# process cannot hand it another document's slip.
SLIP_CACHE_SIZE = 4096
_slips: weakref.WeakKeyDictionary[object, OrderedDict[tuple[int, str], Slip]] = (
    weakref.WeakKeyDictionary()
)
_slips_lock = threading.Lock()


def issued_slip(cf: Casefile, session: Session, doc: IssuedDocument) -> Slip:
    """`slip_data` of a committed issued document, read once per process (pages only: issuance
    and the outbox build the archived slip from the records with `slip_data`)."""
    with _slips_lock:
        slips = _slips.setdefault(cf.db, OrderedDict())
        key = (doc.id, doc.docx_sha256)
        found = slips.get(key)
        if found is not None:
            slips.move_to_end(key)
            return found
    slip = slip_data(cf, session, doc)
    with _slips_lock:
        slips[key] = slip
        while len(slips) > SLIP_CACHE_SIZE:
            slips.popitem(last=False)
    return slip


def _font(run, size: float, bold: bool = False, face: str = "仿宋") -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = face
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face)


def _cell(cell, text: str, size: float = 10.5, bold: bool = False) -> None:
    cell.text = ""
    lines = text.split("\n") or [""]
    para = cell.paragraphs[0]
    for i, line in enumerate(lines):
        if i:
            para = cell.add_paragraph()
        _font(para.add_run(line), size, bold)


# padding inside every cell of the slip's tables, in twentieths of a point (dxa): 1.5 mm
# above and below, 2 mm at the sides, so text never touches the rules
CELL_MARGINS = {"top": 85, "left": 113, "bottom": 85, "right": 113}


def _padded(table) -> None:
    """Give every cell of `table` CELL_MARGINS (w:tblCellMar, before w:tblLook as the schema
    orders a table's properties)."""
    props = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for edge, size in CELL_MARGINS.items():
        side = OxmlElement(f"w:{edge}")
        side.set(qn("w:w"), str(size))
        side.set(qn("w:type"), "dxa")
        margins.append(side)
    look = props.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        props.append(margins)


def _heading(doc, text: str) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(10)
    _font(para.add_run(text), 14, True, "黑体")


def build_slip_docx(slip: Slip) -> bytes:
    """The slip as a DOCX (A4, 仿宋), reproducible byte for byte from the same facts."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(20)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("发 文 稿 纸"), 22, True, "宋体")
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(slip.unit_name), 14)

    rows = [
        ("标题", slip.title),
        ("发文字号", slip.number),
        ("文种", slip.doc_type),
        ("主送", slip.addressee or "—"),
        ("抄送", slip.copy_to or "—"),
        ("份数", slip.copies or "—"),
        ("会签单位", slip.co_sign_units or "—"),
        ("起草人", f"{slip.drafter}（{slip.drafted_at}）"),
        ("签发人", slip.signatories or "—"),
        ("成文日期", slip.issue_date),
        ("发文人", f"{slip.issued_by}（{slip.issued_at}）"),
    ]
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    _padded(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        _cell(cells[0], label, 11, True)
        _cell(cells[1], value, 11)
        cells[0].width, cells[1].width = Mm(30), Mm(135)
    table.autofit = False
    table.columns[0].width, table.columns[1].width = Mm(30), Mm(135)  # the grid LibreOffice reads

    _heading(doc, f"审核签批（均针对第{slip.version}版）")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    _padded(table)
    for cell, head in zip(
        table.rows[0].cells, ("环节", "审核人", "角色（单位）", "意见", "时间"), strict=True
    ):
        _cell(cell, head, 10.5, True)
    for e in slip.approvals:
        cells = table.add_row().cells
        comment = e.comment or e.decision
        if e.attachment:
            comment += f"\n附书面意见：{e.attachment}（SHA-256 {e.attachment_sha256}）"
        for cell, text in zip(
            cells, (e.step_label, e.name, f"{e.role}（{e.unit}）", comment, e.at), strict=True
        ):
            _cell(cell, text)

    _heading(doc, "办理经过")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    _padded(table)
    for cell, head in zip(
        table.rows[0].cells, ("时间", "办理", "办理人（角色）", "意见", "所审版本"), strict=True
    ):
        _cell(cell, head, 10.5, True)
    for e in slip.history:
        cells = table.add_row().cells
        what = e.decision if e.step_label == "起草" else f"{e.decision}（{e.step_label}）"
        comment = e.comment
        if e.supersedes:
            comment = f"（补充/更正第{e.supersedes}号记录）{comment}"
        if e.attachment:
            comment += f"\n附：{e.attachment}"
        for cell, text, size in zip(
            cells,
            (e.at, what, f"{e.name}（{e.role}）", comment, f"第{e.version}版\n{e.sha256}"),
            (9, 10.5, 10.5, 10.5, 7),
            strict=True,
        ):
            _cell(cell, text, size)

    _heading(doc, "完整性证明")
    for label, value in (
        (f"审核稿（第{slip.version}版）SHA-256", slip.approved_sha256),
        ("发文稿 SHA-256", slip.issued_sha256),
    ):
        para = doc.add_paragraph()
        _font(para.add_run(f"{label}：{value}"), 9)
    para = doc.add_paragraph()
    _font(
        para.add_run(
            "发文稿 = 审核稿 + 发文字号 + 成文日期；用记录的模板和数据重新生成可逐字节核对"
            "（由管理员运行完整性校验）。"
        ),
        9,
    )
    out = io.BytesIO()
    doc.save(out)
    return normalize_docx(out.getvalue())


def slip_for_document(cf: Casefile, session: Session, doc: IssuedDocument) -> bytes:
    """The archived slip DOCX of an issued document (built from the records for documents
    issued before slips existed). Feed this to the PDF rendition."""
    row = session.scalars(
        select(ProcessingSlip).where(ProcessingSlip.document_id == doc.id)
    ).first()
    if row is not None:
        return cf.blobs.get(row.docx_sha256)
    return build_slip_docx(slip_data(cf, session, doc))


def slip_record(session: Session, doc: IssuedDocument) -> ProcessingSlip | None:
    return session.scalars(
        select(ProcessingSlip).where(ProcessingSlip.document_id == doc.id)
    ).first()
