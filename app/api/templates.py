"""Templates: what a draft can be made from, with its fields and review chain."""

from __future__ import annotations

import io

from flask import g, jsonify, request, send_file

from app.api.base import cf, remote_addr
from app.api.contract import Binary, route
from app.api.schemas import (
    SchemaProposalForm,
    SchemaProposalReply,
    Template,
    TemplateList,
    TemplateUploadForm,
    TemplateUploadReply,
)
from app.common.media_types import DOCX
from app.errors import NotFound, ValidationFailed
from app.presenters.templates import template_payload
from app.templating.upload import (
    MAX_TEMPLATE_BYTES,
    YAML,
    add_template,
    check_template,
    propose,
    report_errors,
    require_manage,
    template_file,
)


@route("GET", "/templates", tag="模板", summary="模板列表", ok=TemplateList)
def templates():
    with cf().db.read() as s:
        out = [template_payload(cf().catalog.load(row)) for row in cf().catalog.latest_versions(s)]
    return jsonify({"templates": out})


@route("GET", "/templates/<template_id>", tag="模板", summary="一个模板的字段与审核流程",
       ok=Template, errors=(404,))  # fmt: skip
def template(template_id: str):
    with cf().db.read() as s:
        row = cf().catalog.latest_row(s, template_id)
        if row is None:
            raise NotFound(f"模板“{template_id}”不存在")
        return jsonify(template_payload(cf().catalog.load(row)))


def _part(name: str) -> bytes | None:
    upload = request.files.get(name)
    return upload.read(MAX_TEMPLATE_BYTES + 1) if upload is not None and upload.filename else None


@route("POST", "/templates/<template_id>/versions", tag="模板", summary="上传模板或新版本（管理员）",
       ok=TemplateUploadReply, status=201, form=TemplateUploadForm,
       errors=(403, 413, 422))  # fmt: skip
def upload_template(template_id: str):
    """Checks the DOCX and schema.yaml (and renders sample.json once); every problem is a 422
    entry naming its file (docx, schema, sample), in Chinese with its fix. Nothing is stored
    unless the check passes; the version is then usable at once."""
    with cf().db.read() as s:
        require_manage(s, g.principal)  # 403 before the content is read
    files = {name: _part(name) for name in ("docx", "schema", "sample")}
    checked = check_template(template_id, files["docx"], files["schema"], files["sample"])
    if not checked.ok:
        raise ValidationFailed(f"模板检查未通过，共 {len(checked.problems)} 处问题",
                               report_errors(checked))  # fmt: skip
    with cf().db.write() as s:
        upload = add_template(cf(), s, g.principal, template_id, files["docx"], files["schema"],
                              files["sample"], via="api", remote_addr=remote_addr(),
                              report=checked)  # fmt: skip
    report = upload.report
    return jsonify({"template_id": template_id.strip(), "version": upload.version,
                    "sha256": upload.sha256, "placeholders": report.placeholders,
                    "unused": report.unused, "warnings": report.warnings}), 201  # fmt: skip


@route("GET", "/templates/<template_id>/versions/<id:version>/<any('template.docx', 'schema.yaml'):name>",
       tag="模板", summary="下载某一版本的模板文件或字段定义（管理员）",
       ok=Binary((DOCX, YAML), "该版本登记时的原始文件"), errors=(403, 404))  # fmt: skip
def template_version_file(template_id: str, version: int, name: str):
    which = "docx" if name == "template.docx" else "schema"
    with cf().db.read() as s:
        found = template_file(cf(), s, g.principal, template_id, version, which)
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=True,
                     download_name=found.name)  # fmt: skip


@route("POST", "/template-proposals", tag="模板", summary="从 DOCX 生成字段定义草稿（管理员）",
       ok=SchemaProposalReply, form=SchemaProposalForm, errors=(403, 413, 422))  # fmt: skip
def propose_template_schema():
    """Lists the placeholders of the DOCX and proposes a schema.yaml with a field for each
    (types guessed from the names; labels "待填写" to edit). Nothing is stored."""
    with cf().db.read() as s:
        proposal = propose(s, g.principal, request.form.get("template_id") or "", _part("docx"))
    return jsonify(proposal.as_dict())
