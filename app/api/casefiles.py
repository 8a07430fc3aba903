"""Case files (案卷) over the API: the service in app/casefiles, as the web pages and the CLI
use it, behind the same token, policy and JSON errors as the rest of /api/v1."""

from __future__ import annotations

import io
import re

from flask import g, jsonify, request, send_file
from sqlalchemy import func, select

from app.access.policy import can
from app.api.base import cf, remote_addr
from app.api.contract import Binary, invalid, request_body, route, validate
from app.api.links import casefile_links, item_links
from app.api.schemas import (
    CaseFile as CaseFileReply,
)
from app.api.schemas import (
    CaseFileCreate,
    CaseFileEdit,
    CaseFileList,
    CaseFilesQuery,
    CaseItem,
    CaseItemEdit,
    CaseItemMove,
    FileDocument,
    OcrRedo,
    OcrRedoReply,
    UploadMaterial,
)
from app.casefiles import service
from app.casefiles.attachments import MEDIA_TYPES, inspect_upload
from app.casefiles.export import export_case_file
from app.casefiles.models import CaseFile, CaseFileItem
from app.casefiles.ocr import redo_ocr
from app.common.media_types import PDF, ZIP
from app.errors import Forbidden, NotFound, ValidationFailed
from app.identity.models import Unit

TAG = "案卷"


def _integer(value, field: str, label: str) -> int | None:
    """An optional id from JSON (a number) or a form (digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**63 - 1:
        return value
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,17}", value.strip()):
        return int(value)
    raise invalid([{"field": field, "label": label, "message": "应为正整数"}])


def _item_json(item: dict, case_id: int) -> dict:
    searchable = bool((item.get("ocr") or {}).get("searchable_copy"))
    return item | {"links": item_links(case_id, item["id"], item["document_id"], searchable)}


def _casefile_json(s, case: CaseFile, with_items: bool = True) -> dict:
    payload = service.case_file_payload(s, case, with_items, g.principal)
    payload["links"] = casefile_links(case.id)
    if with_items:
        payload["items"] = [_item_json(i, case.id) for i in payload["items"]]
    return payload


@route("GET", "/casefiles", tag=TAG, summary="我可查阅的案卷", ok=CaseFileList,
       query=CaseFilesQuery)  # fmt: skip
def casefiles(query: CaseFilesQuery):
    """Filters: unit (code), status (open | closed), year."""
    page, per_page = query.page, min(100, query.per_page)
    status, unit, year = query.status or None, query.unit or None, query.year
    errors = []
    if status not in (None, "open", "closed"):
        errors.append({"field": "status", "label": "状态", "message": "应为 open 或 closed"})
    if year not in (None, "") and not re.fullmatch(r"[12][0-9]{3}", year):
        errors.append({"field": "year", "label": "年度", "message": "应为四位年份，如 2026"})
    with cf().db.read() as s:
        if unit is not None and s.scalar(select(Unit.id).where(Unit.code == unit)) is None:
            errors.append({"field": "unit", "label": "单位", "message": f"单位“{unit}”不存在"})
        if errors:
            raise invalid(errors, "查询条件有误")
        listing = service.case_files_query(g.principal, status, unit, int(year) if year else None)
        total = s.scalar(select(func.count()).select_from(listing.subquery()))
        rows = s.scalars(listing.offset((page - 1) * per_page).limit(per_page))
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "case_files": [_casefile_json(s, c, with_items=False) for c in rows]})  # fmt: skip


@route("GET", "/casefiles/<id:case_id>", tag=TAG, summary="一个案卷及其材料", ok=CaseFileReply,
       errors=(404,))  # fmt: skip
def casefile(case_id: int):
    with cf().db.write() as s:
        case = service.get_case_file(s, g.principal, case_id)
        service.record_read(s, g.principal, case, "casefile.read", remote_addr=remote_addr(),
                            via="api")  # fmt: skip
        return jsonify(_casefile_json(s, case))


@route("POST", "/casefiles", tag=TAG, summary="建立案卷", ok=CaseFileReply, status=201,
       body=CaseFileCreate, errors=(403,))  # fmt: skip
def create_casefile():
    """`unit` defaults to the caller's unit, `responsible` to their name."""
    body = request_body()
    with cf().db.write() as s:
        if not any(can(s, g.principal, "casefile.create", u) for u in s.scalars(select(Unit))):
            raise Forbidden("您无权建立案卷")
        case = service.create_case_file(
            s, g.principal, title=body.title or "", kind=body.kind or "",
            unit_code=body.unit or s.get(Unit, g.user.unit_id).code,
            retention=body.retention or "", note=body.note or "",
            responsible=g.user.name if body.responsible is None else body.responsible,
            remote_addr=remote_addr(), **{k: getattr(body, k) for k in service.DATE_FIELDS},
        )  # fmt: skip
        payload = _casefile_json(s, case)
    return jsonify(payload), 201


@route("POST", "/casefiles/<id:case_id>/items", tag=TAG, summary="归入已发文书或上传材料",
       ok=CaseItem, status=201, body=FileDocument, form=UploadMaterial,
       errors=(403, 404, 409, 413))  # fmt: skip
def add_casefile_item(case_id: int):
    """File an issued document (JSON: document_id, role, reply_to) or upload material
    (multipart/form-data: file, title, role, responsible, doc_date, doc_number, reply_to)."""
    with cf().db.read() as s:  # 404 / 403 (closed, or not a keeper) before the content
        service.get_case_file(s, g.principal, case_id, "casefile.edit")
    if request.mimetype == "multipart/form-data":
        item_id = _upload(case_id)
    else:
        item_id = _file_document(case_id, request_body())
    with cf().db.read() as s:
        return jsonify(_item_json(service.item_payload(s.get(CaseFileItem, item_id)), case_id)), 201


def _upload(case_id: int) -> int:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise invalid([{"field": "file", "label": "文件", "message": "请在 file 字段中上传文件"}])
    form = validate(UploadMaterial, request.form.to_dict() | {"file": upload.filename})
    reply_to = _integer(form.reply_to, "reply_to", "答复的材料")
    data = upload.read(cf().settings.max_upload_bytes + 1)
    # checked before the write transaction: a slow inspection blocks no other writer
    checked = inspect_upload(data, upload.filename, cf().settings.max_upload_bytes)
    with cf().db.write() as s:
        return service.add_attachment(
            cf(), s, g.principal, case_id, checked, title=form.title,
            role=form.role or None, responsible=form.responsible or "",
            doc_date=form.doc_date or None, doc_number=form.doc_number or "",
            reply_to=reply_to, remote_addr=remote_addr(),
        ).id  # fmt: skip


def _file_document(case_id: int, body: FileDocument) -> int:
    document_id = _integer(body.document_id, "document_id", "文书")
    reply_to = _integer(body.reply_to, "reply_to", "答复的材料")
    if document_id is None:
        message = "请给出要归入的已发文书 document_id，或以 multipart/form-data 上传 file"
        raise invalid([{"field": "document_id", "label": "文书", "message": message}])
    try:
        with cf().db.write() as s:
            return service.add_document(s, g.principal, case_id, document_id,
                                        role=body.role or None, reply_to=reply_to,
                                        remote_addr=remote_addr()).id  # fmt: skip
    except NotFound as exc:
        if exc.errors:  # the document, not the case file: a field of the request
            raise ValidationFailed(exc.message, exc.errors) from None
        raise


@route("PATCH", "/casefiles/<id:case_id>", tag=TAG, summary="修改案卷信息（归档前）",
       ok=CaseFileReply, body=CaseFileEdit, errors=(403, 404, 422))  # fmt: skip
def edit_casefile(case_id: int):
    """Only the keys sent change; an empty date or null clears it."""
    with cf().db.write() as s:
        service.get_case_file(s, g.principal, case_id, "casefile.edit")
        changes = request_body().model_dump(exclude_unset=True)  # after the access check
        changes = {k: ("" if v is None and k in {"title", "responsible", "note"} else v)
                   for k, v in changes.items()}  # fmt: skip
        case = service.update_case_file(s, g.principal, case_id, remote_addr=remote_addr(),
                                        **changes)  # fmt: skip
        return jsonify(_casefile_json(s, case))


@route("PATCH", "/casefiles/<id:case_id>/items/<id:item_id>", tag=TAG,
       summary="修改卷内文件的题名、责任者、日期、文号或材料类别（归档前）", ok=CaseFileReply,
       body=CaseItemEdit, errors=(403, 404, 422))  # fmt: skip
def edit_casefile_item(case_id: int, item_id: int):
    with cf().db.write() as s:
        service.get_case_file(s, g.principal, case_id, "casefile.edit")
        changes = request_body().model_dump(exclude_unset=True)
        service.update_item(s, g.principal, case_id, item_id, remote_addr=remote_addr(), **changes)
        return jsonify(_casefile_json(s, s.get(CaseFile, case_id)))


@route("DELETE", "/casefiles/<id:case_id>/items/<id:item_id>", tag=TAG,
       summary="从案卷中移除一件（归档前；原文书或文件仍在档案库中）", ok=CaseFileReply,
       errors=(403, 404, 422))  # fmt: skip
def remove_casefile_item(case_id: int, item_id: int):
    with cf().db.write() as s:
        service.remove_item(s, g.principal, case_id, item_id, remote_addr())
        return jsonify(_casefile_json(s, s.get(CaseFile, case_id)))


@route("POST", "/casefiles/<id:case_id>/items/<id:item_id>/move", tag=TAG,
       summary="调整卷内文件的顺序（归档前）", ok=CaseFileReply, body=CaseItemMove,
       errors=(403, 404, 422))  # fmt: skip
def move_casefile_item(case_id: int, item_id: int):
    with cf().db.write() as s:
        service.get_case_file(s, g.principal, case_id, "casefile.edit")
        position = request_body().position
        service.move_item(s, g.principal, case_id, item_id, position, remote_addr())
        return jsonify(_casefile_json(s, s.get(CaseFile, case_id)))


@route("POST", "/casefiles/<id:case_id>/close", tag=TAG, summary="归档：编定档号并封卷",
       ok=CaseFileReply, errors=(403, 404, 409, 422))  # fmt: skip
def close_casefile(case_id: int):
    """Give every item its 档号 and make the case file read-only. Closing cannot be undone; the
    call itself is the confirmation (the web page asks for a checkbox, the CLI for --yes). A
    case file lacking metadata the archive check requires is refused (422), one error per item
    (`item_id`) and one for the case file itself (`field` "case")."""
    with cf().db.write() as s:
        service.close_case_file(s, g.principal, case_id, remote_addr=remote_addr(),
                                default_fonds=cf().settings.fonds_code)  # fmt: skip
        return jsonify(_casefile_json(s, s.get(CaseFile, case_id)))


@route("POST", "/casefiles/<id:case_id>/ocr-redo", tag=TAG,
       summary="重新识别案卷中扫描件的文字（管理员）", ok=OcrRedoReply, body=OcrRedo,
       body_required=False, errors=(403, 404, 422))  # fmt: skip
def casefile_ocr_redo(case_id: int):
    """Queue recognition again for one item (`item_id`) or for every scan of the case file
    that failed or was never queued. A recognised scan is refused (422): its text is
    write-once. Audited as `casefile.ocr_redo`, like the CLI's `case ocr-redo`."""
    item_id = _integer(request_body().item_id, "item_id", "材料")
    with cf().db.write() as s:
        queued = redo_ocr(s, g.principal, case_id=case_id, item_id=item_id, via="api",
                          remote_addr=remote_addr())  # fmt: skip
        return jsonify({"queued": [q.as_dict() for q in queued]})


@route("POST", "/casefiles/ocr-redo-failed", tag=TAG,
       summary="重新识别全部识别失败的扫描件（管理员）", ok=OcrRedoReply, errors=(403,))  # fmt: skip
def ocr_redo_failed():
    """Queue recognition again for every attachment whose recognition failed (识别失败)."""
    with cf().db.write() as s:
        queued = redo_ocr(s, g.principal, failed=True, via="api", remote_addr=remote_addr())
        return jsonify({"queued": [q.as_dict() for q in queued]})


@route("GET", "/casefiles/<id:case_id>/items/<id:item_id>/download", tag=TAG,
       summary="下载案卷中的一项材料", ok=Binary(tuple(dict.fromkeys(MEDIA_TYPES.values())),
       "材料的原始文件"), errors=(404,))  # fmt: skip
def casefile_item(case_id: int, item_id: int):
    with cf().db.write() as s:
        data, mime, name = service.item_file(cf(), s, g.principal, case_id, item_id,
                                             remote_addr=remote_addr(), via="api")  # fmt: skip
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


@route("GET", "/casefiles/<id:case_id>/items/<id:item_id>/searchable.pdf", tag=TAG,
       summary="下载扫描件的可检索 PDF 副本（PDF/A，带识别出的文字层）",
       ok=Binary(("application/pdf",), "原件的 PDF/A 副本"), errors=(404,))  # fmt: skip
def casefile_item_searchable(case_id: int, item_id: int):
    with cf().db.write() as s:
        data, mime, name = service.item_file(cf(), s, g.principal, case_id, item_id,
                                             remote_addr=remote_addr(), searchable=True,
                                             via="api")  # fmt: skip
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


def _export(case_id: int, package: bool):
    with cf().db.read() as s:
        base = service.get_case_file(s, g.principal, case_id, "casefile.export").title[:60]
    dossier, data = export_case_file(cf(), g.principal, case_id, want_pdf=not package,
                                     want_package=package, remote_addr=remote_addr())  # fmt: skip
    if package:
        return send_file(io.BytesIO(data), mimetype=ZIP, as_attachment=True,
                         download_name=f"{base}（移交包）.zip")  # fmt: skip
    return send_file(io.BytesIO(dossier.pdf), mimetype=PDF, as_attachment=True,
                     download_name=f"{base}.pdf")  # fmt: skip


@route("GET", "/casefiles/<id:case_id>/dossier.pdf", tag=TAG, summary="案卷汇编（PDF）",
       ok=Binary((PDF,), "案卷汇编 PDF"), errors=(404,))  # fmt: skip
def casefile_dossier(case_id: int):
    return _export(case_id, package=False)


@route("GET", "/casefiles/<id:case_id>/package.zip", tag=TAG, summary="移交包（ZIP）",
       ok=Binary((ZIP,), "案卷移交包"), errors=(404,))  # fmt: skip
def casefile_package(case_id: int):
    return _export(case_id, package=True)
