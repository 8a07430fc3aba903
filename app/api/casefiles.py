"""Case files (案卷) in the JSON API: the service in app/casefiles/service.py, as the web pages
and the CLI use it, behind the same token, policy and JSON errors as the rest of /api/v1."""

from __future__ import annotations

import io
import re

from flask import g, jsonify, request, send_file, url_for
from sqlalchemy import func, select

from app.access.policy import can
from app.api import _json_body, bp, token_required
from app.casefiles import service as service
from app.casefiles.models import CaseFile, CaseFileItem
from app.errors import Forbidden, NotFound, ValidationFailed
from app.identity.models import Unit
from app.web import cf, remote_addr

#: JSON fields of a new case file that are strings (dates as YYYY-MM-DD)
CREATE_FIELDS = {"title": "案卷题名", "kind": "类别", "unit": "单位", "retention": "保管期限",
                 "responsible": "责任人", "note": "备注"} | service.DATE_FIELDS  # fmt: skip


def _invalid(errors: list[dict], what: str = "请求内容有误") -> ValidationFailed:
    return ValidationFailed(f"{what}：" + "；".join(e["label"] for e in errors), errors)


def _strings(body: dict, labels: dict[str, str]) -> dict[str, str | None]:
    """The named fields of a JSON body, each a string or absent; anything else is refused."""
    errors = [{"field": k, "label": label, "message": "应为字符串"}
              for k, label in labels.items() if body.get(k) is not None and not isinstance(body[k], str)]  # fmt: skip
    if errors:
        raise _invalid(errors)
    return {k: body.get(k) for k in labels}


def _integer(value, field: str, label: str) -> int | None:
    """An optional id from JSON (a number) or a form (digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,17}", value.strip()):
        return int(value)
    raise _invalid([{"field": field, "label": label, "message": "应为正整数"}])


def _links(case: CaseFile) -> dict:
    return {
        "self": url_for("api.casefile", case_id=case.id),
        "dossier_pdf": url_for("api.casefile_dossier", case_id=case.id),
        "package_zip": url_for("api.casefile_package", case_id=case.id),
    }


def _item_json(item: dict, case_id: int) -> dict:
    links = {"download": url_for("api.casefile_item", case_id=case_id, item_id=item["id"])}
    if item["document_id"]:
        links["document"] = url_for("api.document", doc_id=item["document_id"])
    return item | {"links": links}


def _casefile_json(s, case: CaseFile, with_items: bool = True) -> dict:
    payload = service.case_file_payload(s, case, with_items, g.principal) | {"links": _links(case)}
    if with_items:
        payload["items"] = [_item_json(i, case.id) for i in payload["items"]]
    return payload


@bp.get("/casefiles")
@token_required
def casefiles():
    """The case files the caller reads; filters: unit (code), status (open | closed), year."""
    args = request.args
    page = max(1, args.get("page", 1, type=int) or 1)
    per_page = min(100, max(1, args.get("per_page", 30, type=int) or 30))
    status, unit, year = args.get("status") or None, args.get("unit") or None, args.get("year")
    errors = []
    if status not in (None, "open", "closed"):
        errors.append({"field": "status", "label": "状态", "message": "应为 open 或 closed"})
    if year not in (None, "") and not re.fullmatch(r"[12][0-9]{3}", year):
        errors.append({"field": "year", "label": "年度", "message": "应为四位年份，如 2026"})
    with cf().db.read() as s:
        if unit is not None and s.scalar(select(Unit.id).where(Unit.code == unit)) is None:
            errors.append({"field": "unit", "label": "单位", "message": f"单位“{unit}”不存在"})
        if errors:
            raise _invalid(errors, "查询条件有误")
        query = service.case_files_query(g.principal, status, unit, int(year) if year else None)
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.scalars(query.offset((page - 1) * per_page).limit(per_page))
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "case_files": [_casefile_json(s, c, with_items=False) for c in rows]})  # fmt: skip


@bp.get("/casefiles/<int:case_id>")
@token_required
def casefile(case_id: int):
    with cf().db.write() as s:
        case = service.get_case_file(s, g.principal, case_id)
        service.record_read(s, g.principal, case, "casefile.read", remote_addr=remote_addr(),
                            via="api")  # fmt: skip
        return jsonify(_casefile_json(s, case))


@bp.post("/casefiles")
@token_required
def create_casefile():
    """Create a case file; `unit` defaults to the caller's unit, `responsible` to their name."""
    values = _strings(_json_body(), CREATE_FIELDS)
    with cf().db.write() as s:
        if not any(can(s, g.principal, "casefile.create", u) for u in s.scalars(select(Unit))):
            raise Forbidden("您无权建立案卷")
        case = service.create_case_file(
            s, g.principal, title=values["title"] or "", kind=values["kind"] or "",
            unit_code=values["unit"] or s.get(Unit, g.user.unit_id).code,
            retention=values["retention"] or "", note=values["note"] or "",
            responsible=g.user.name if values["responsible"] is None else values["responsible"],
            remote_addr=remote_addr(), **{k: values[k] for k in service.DATE_FIELDS},
        )  # fmt: skip
        payload = _casefile_json(s, case)
    return jsonify(payload), 201


@bp.post("/casefiles/<int:case_id>/items")
@token_required
def add_casefile_item(case_id: int):
    """File an issued document (JSON: document_id, role, reply_to) or upload material
    (multipart/form-data: file, title, role, responsible, doc_date, doc_number, reply_to)."""
    with cf().db.read() as s:  # 404 / 403 (closed, or not a keeper) before reading the body
        service.get_case_file(s, g.principal, case_id, "casefile.edit")
    if request.mimetype == "multipart/form-data":
        item_id = _upload(case_id)
    else:
        item_id = _file_document(case_id)
    with cf().db.read() as s:
        return jsonify(_item_json(service.item_payload(s.get(CaseFileItem, item_id)), case_id)), 201


def _upload(case_id: int) -> int:
    form, upload = request.form, request.files.get("file")
    if upload is None or not upload.filename:
        raise _invalid([{"field": "file", "label": "文件", "message": "请在 file 字段中上传文件"}])
    reply_to = _integer(form.get("reply_to"), "reply_to", "答复的材料")
    data = upload.read(cf().settings.max_upload_bytes + 1)
    with cf().db.write() as s:
        return service.add_attachment(
            cf(), s, g.principal, case_id, data, upload.filename, title=form.get("title"),
            role=form.get("role") or None, responsible=form.get("responsible", ""),
            doc_date=form.get("doc_date") or None, doc_number=form.get("doc_number", ""),
            reply_to=reply_to, remote_addr=remote_addr(),
        ).id  # fmt: skip


def _file_document(case_id: int) -> int:
    body = _json_body()
    role = _strings(body, {"role": "材料类别"})["role"]
    document_id = _integer(body.get("document_id"), "document_id", "文书")
    reply_to = _integer(body.get("reply_to"), "reply_to", "答复的材料")
    if document_id is None:
        message = "请给出要归入的已发文书 document_id，或以 multipart/form-data 上传 file"
        raise _invalid([{"field": "document_id", "label": "文书", "message": message}])
    try:
        with cf().db.write() as s:
            return service.add_document(s, g.principal, case_id, document_id, role=role or None,
                                        reply_to=reply_to, remote_addr=remote_addr()).id  # fmt: skip
    except NotFound as exc:
        if exc.errors:  # the document, not the case file: a field of the request
            raise ValidationFailed(exc.message, exc.errors) from None
        raise


@bp.post("/casefiles/<int:case_id>/close")
@token_required
def close_casefile(case_id: int):
    """Give every item its 档号 and make the case file read-only."""
    with cf().db.write() as s:
        service.close_case_file(s, g.principal, case_id, remote_addr=remote_addr(),
                                default_fonds=cf().settings.fonds_code)  # fmt: skip
        return jsonify(_casefile_json(s, s.get(CaseFile, case_id)))


@bp.get("/casefiles/<int:case_id>/items/<int:item_id>/download")
@token_required
def casefile_item(case_id: int, item_id: int):
    with cf().db.write() as s:
        data, mime, name = service.item_file(cf(), s, g.principal, case_id, item_id,
                                             remote_addr=remote_addr(), via="api")  # fmt: skip
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name)


def _export(case_id: int, package: bool):
    from app.casefiles.export import export_case_file

    with cf().db.read() as s:
        base = service.get_case_file(s, g.principal, case_id, "casefile.export").title[:60]
    dossier, data = export_case_file(cf(), g.principal, case_id, want_pdf=not package,
                                     want_package=package, remote_addr=remote_addr())  # fmt: skip
    if package:
        return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                         download_name=f"{base}（移交包）.zip")  # fmt: skip
    return send_file(io.BytesIO(dossier.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{base}.pdf")  # fmt: skip


@bp.get("/casefiles/<int:case_id>/dossier.pdf")
@token_required
def casefile_dossier(case_id: int):
    return _export(case_id, package=False)


@bp.get("/casefiles/<int:case_id>/package.zip")
@token_required
def casefile_package(case_id: int):
    return _export(case_id, package=True)
