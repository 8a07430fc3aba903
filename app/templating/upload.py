"""Uploading a template or a new version of one (模板上传): the one path the admin page, the API
(`POST /api/v1/templates/<id>/versions`) and `casefile templates check|add` take. Checked before
anything is stored (app/templating/inspect.py); a version that passes is recorded and audited
once. Also what an administrator reads back: the DOCX and schema.yaml of any stored version
(`template_file`), and a schema proposed from a DOCX (`propose`, app/templating/proposal.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.common import media_types
from app.container import Casefile
from app.errors import Forbidden, NotFound, ValidationFailed
from app.templating.inspect import TemplateReport, inspect_template
from app.templating.models import TemplateVersion
from app.templating.proposal import SchemaProposal, propose_schema

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
    require_manage(session, p)
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


YAML = "application/yaml"
MAX_VERSION = 2**31 - 1  # template_versions.version is a 32-bit integer
TEMPLATE_FILES = {"docx": "template.docx", "schema": "schema.yaml"}


@dataclass(frozen=True)
class TemplateFile:
    data: bytes
    media_type: str
    name: str  # e.g. risk-notice-v3-template.docx


def require_manage(session: Session, p: Principal | None) -> None:
    """Forbidden unless `p` may manage templates (`p` None: the server operator)."""
    if p is not None and not can(session, p, "template.manage"):
        raise Forbidden("只有管理员可以管理模板")


def template_file(
    cf: Casefile,
    session: Session,
    p: Principal | None,
    template_id: str,
    version: int | None,
    which: str,
) -> TemplateFile:
    """The DOCX (`which` "docx") or schema.yaml ("schema") of a stored version, byte for byte
    as recorded; `version` None: the newest. Forbidden without `template.manage`."""
    require_manage(session, p)
    if which not in TEMPLATE_FILES:
        raise NotFound("只能下载模板文件（template.docx）或字段定义（schema.yaml）")
    if version is not None and not 1 <= version <= MAX_VERSION:  # a typed number, never an overflow
        raise NotFound(f"模板“{template_id}”没有第{version}版")
    query = select(TemplateVersion).where(TemplateVersion.template_id == template_id)
    if version is not None:
        query = query.where(TemplateVersion.version == version)
    row = session.scalars(query.order_by(TemplateVersion.version.desc()).limit(1)).first()
    if row is None:
        which_version = f"第{version}版" if version is not None else "任何版本"
        raise NotFound(f"模板“{template_id}”没有{which_version}")
    sha = row.docx_sha256 if which == "docx" else row.schema_sha256
    media = media_types.DOCX if which == "docx" else YAML
    return TemplateFile(
        cf.blobs.get(sha), media, f"{row.template_id}-v{row.version}-{TEMPLATE_FILES[which]}"
    )


def propose(
    session: Session, p: Principal | None, template_id: str, docx: bytes | None
) -> SchemaProposal:
    """The placeholders of an uploaded DOCX and a schema.yaml proposed for it (nothing stored)."""
    require_manage(session, p)
    template_id = (template_id or "").strip()
    if docx is not None and len(docx) > MAX_TEMPLATE_BYTES:
        raise _refuse("docx", FILE_LABELS["docx"], f"{FILE_LABELS['docx']}超过 10 MB")
    if not docx:
        raise _refuse("docx", FILE_LABELS["docx"], f"请选择{FILE_LABELS['docx']}")
    return propose_schema(template_id, docx)


def report_errors(report: TemplateReport) -> list[dict]:
    """A refused report as field errors (the API's 422): each problem names its file."""
    out = []
    for problem in report.problems:
        if problem.startswith("schema.yaml"):
            name = "schema"
        elif problem.startswith("示例数据"):
            name = "sample"
        else:
            name = "docx"
        out.append({"field": name, "label": FILE_LABELS[name], "message": problem})
    return out
