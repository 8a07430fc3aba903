"""Case files (案卷) and their items as JSON (the API and `casefile case ... --json`)."""

from __future__ import annotations

import datetime as dt

from app.casefiles.contents import CaseFileView, item_sha256
from app.casefiles.models import ArchivalReference, CaseFile, CaseFileItem
from app.casefiles.ocr import OcrState
from app.drafting import status as document_status


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_file_summary(case: CaseFile) -> dict:
    """The description of a case file, without its items (lists)."""
    return {
        "id": case.id, "title": case.title, "kind": case.kind, "kind_label": case.kind_label,
        "unit": case.unit.code, "unit_name": case.unit.name, "responsible": case.responsible,
        "received_on": _iso(case.received_on), "reviewed_on": _iso(case.reviewed_on),
        "meeting_on": _iso(case.meeting_on), "decided_on": _iso(case.decided_on),
        "retention": case.retention, "retention_label": case.retention_label,
        "status": case.status, "status_label": case.status_label,
        "fonds_code": case.fonds_code, "archive_year": case.archive_year, "note": case.note,
        "created_by": case.creator.username,
        "created_at": case.created_at.isoformat(timespec="seconds") + "Z",
        "closed_at": case.closed_at.isoformat(timespec="seconds") + "Z" if case.closed_at else None,
    }  # fmt: skip


def case_file_view_payload(view: CaseFileView) -> dict:
    """The description, then the items in filing order with their 档号 once closed; items
    filed from documents the reader may not read (知悉范围) keep only their position, role and
    档号."""
    refs = view.references
    return case_file_summary(view.case) | {
        "items": [
            masked_item_payload(i, refs.get(i.id)) if i.id in view.hidden
            else item_payload(i, refs.get(i.id), view.ocr.get(i.id))
            for i in view.items
        ]
    }  # fmt: skip


def item_payload(item: CaseFileItem, ref: ArchivalReference | None = None,
                 ocr: OcrState | None = None) -> dict:  # fmt: skip
    """An item; a scan also with its text recognition (`ocr`: status, pages without text)."""
    return {
        "id": item.id, "position": item.position, "title": item.title, "role": item.role,
        "role_label": item.role_label, "document_id": item.document_id,
        "attachment_id": item.attachment_id, "number": item.doc_number, "date": _iso(item.doc_date),
        "responsible": item.responsible,
        "type": "docx" if item.document_id else item.attachment.file_type,
        "sha256": item_sha256(item), "reply_to": item.reply_to_item_id,
        "archival_code": ref.reference if ref is not None else None,
    } | _document_status(item) | ({"ocr": ocr.as_dict()} if ocr is not None else {})  # fmt: skip


def _document_status(item: CaseFileItem) -> dict:
    """A filed document's status (有效 / 已被替代 / 已撤销), read beside the document."""
    if not item.document_id:
        return {}
    record = item.document.status_record
    key = record.status if record is not None else document_status.VALID
    return {"document_status": key, "document_status_label": document_status.label(key)}


def masked_item_payload(item: CaseFileItem, ref: ArchivalReference | None = None) -> dict:
    """An item of a restricted document, for someone outside its 知悉范围."""
    out = item_payload(item, ref)
    out |= {"title": "（限定知悉范围的文书）", "document_id": None, "number": None,
            "responsible": None, "restricted": True}  # fmt: skip
    return out
