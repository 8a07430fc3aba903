"""What a case file holds (卷内文件): its items in filing order, their 档号 once closed, which
of them a reader may not see (知悉范围), and how far the text recognition of its scans is."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal, can
from app.casefiles.models import ArchivalReference, CaseFile, CaseFileItem
from app.casefiles.ocr import OcrState, ocr_states


@dataclass(frozen=True)
class CaseFileView:
    """A case file as one reader sees it: the items they may not read keep only their
    position, material type and 档号 (`hidden`), and what they may do with it."""

    case: CaseFile
    items: list[CaseFileItem]
    references: dict[int, ArchivalReference]  # item id → 档号, once closed
    hidden: frozenset[int] = field(default_factory=frozenset)  # item ids
    ocr: dict[int, OcrState] = field(default_factory=dict)  # item id → 识别文字 (scans only)
    may_edit: bool = False
    may_close: bool = False


def items_of(session: Session, case: CaseFile) -> list[CaseFileItem]:
    return list(
        session.scalars(
            select(CaseFileItem)
            .where(CaseFileItem.case_file_id == case.id)
            .order_by(CaseFileItem.position)
        )
    )


def references_of(session: Session, case: CaseFile) -> dict[int, ArchivalReference]:
    rows = session.scalars(
        select(ArchivalReference).where(ArchivalReference.case_file_id == case.id)
    )
    return {r.item_id: r for r in rows}


def item_sha256(item: CaseFileItem) -> str:
    return item.document.docx_sha256 if item.document_id else item.attachment.sha256


def hidden_items(session: Session, p: Principal | None, items: list[CaseFileItem]) -> list:
    """The items filed from documents the principal may not read (知悉范围): their title and
    content are not shown or exported to them, though they may read the case file."""
    if p is None:
        return []
    return [i for i in items if i.document_id and not can(session, p, "document.read", i.document)]


def case_file_contents(session: Session, p: Principal | None, case: CaseFile) -> CaseFileView:
    """The case file's items, 档号 and hidden items for `p` (None: the operator, who sees all
    and may do all), with everything a page or a JSON answer reads loaded."""
    items = items_of(session, case)
    for item in items:
        _ = item.document.number if item.document_id else item.attachment.file_type
    _ = case.unit.name, case.creator.username
    scans = ocr_states(session, [i.attachment_id for i in items if i.attachment_id])
    return CaseFileView(
        case=case, items=items, references=references_of(session, case),
        hidden=frozenset(i.id for i in hidden_items(session, p, items)),
        ocr={i.id: scans[i.attachment_id] for i in items if i.attachment_id in scans},
        may_edit=p is None or can(session, p, "casefile.edit", case),
        may_close=p is None or can(session, p, "casefile.close", case),
    )  # fmt: skip
