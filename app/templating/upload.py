"""Uploading a template or a new version of one (模板上传): the one path the admin page and
`casefile templates check|add` take. Checked before anything is stored (app/templating/inspect.py);
a version that passes is recorded and audited once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.container import Casefile
from app.errors import Forbidden, ValidationFailed
from app.templating.inspect import TemplateReport, inspect_template

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
FILE_LABELS = {
    "docx": "模板文件（DOCX）",
    "schema": "字段定义（schema.yaml）",
    "sample": "示例数据",
}


@dataclass(frozen=True)
class TemplateUpload:
    report: TemplateReport
    version: int | None = None  # the version recorded, when the report is ok and it was added
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.report.ok


def _refuse(field: str, label: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"field": field, "label": label, "message": message}])


def check_template(
    template_id: str, docx: bytes | None, schema: bytes | None, sample: bytes | None = None
) -> TemplateReport:
    """The report on an upload (what is undeclared, unused or broken, by name). What cannot be
    checked at all is refused naming its field: template_id, docx, schema (missing or over
    10 MB), sample (over 10 MB or not UTF-8 JSON)."""
    template_id = (template_id or "").strip()
    if not template_id:
        raise _refuse("template_id", "模板编号", "请填写模板编号")
    files = {"docx": docx, "schema": schema, "sample": sample}
    for name, data in files.items():
        if name != "sample" and not data:
            raise _refuse(name, FILE_LABELS[name], f"请选择{FILE_LABELS[name]}")
        if data is not None and len(data) > MAX_TEMPLATE_BYTES:
            raise _refuse(name, FILE_LABELS[name], f"{FILE_LABELS[name]}超过 10 MB")
    data = None
    if sample:
        try:
            data = json.loads(sample.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _refuse("sample", FILE_LABELS["sample"],
                          f"示例数据不是有效的 UTF-8 JSON：{exc}") from None  # fmt: skip
    return inspect_template(template_id, docx, schema, data)


def add_template(
    cf: Casefile,
    session: Session,
    p: Principal | None,
    template_id: str,
    docx: bytes | None,
    schema: bytes | None,
    sample: bytes | None = None,
    *,
    via: str = "",
    remote_addr: str = "",
    report: TemplateReport | None = None,
) -> TemplateUpload:
    """Check the upload and, when it passes, record it as the template's next version (usable at
    once) and audit `template.upload`. Forbidden without `template.manage` (`p` None: the
    server operator). A report with problems records nothing.

    `report`: `check_template`'s report on these same files, made before the caller opened its
    write transaction (the check renders the sample: it must not hold the write lock)."""
    if p is not None and not can(session, p, "template.manage"):
        raise Forbidden("您无权管理模板")
    template_id = (template_id or "").strip()
    if report is None:
        report = check_template(template_id, docx, schema, sample)
    if not report.ok:
        return TemplateUpload(report)
    row = cf.catalog.add_version(session, template_id, docx, schema, p.user if p else None)
    audit.record(session, "template.upload", actor=p.user if p else None, object_type="template",
                 object_id=template_id, detail={"version": row.version, "sha256": row.docx_sha256,
                 "via": via}, remote_addr=remote_addr)  # fmt: skip
    return TemplateUpload(report, row.version, row.docx_sha256)
