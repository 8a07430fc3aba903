"""Render a DOCX from a template and validated data: docxtpl in a sandboxed, autoescaping Jinja.

Rendering is reproducible: the same template bytes and data give byte-identical output (zip
entries get fixed timestamps and are stored uncompressed, so the bytes do not depend on the
zlib build either). `casefile verify` relies on this to prove what changed after approval.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import cn2an
from docx.opc.pkgwriter import PackageWriter
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.templating.schema import FieldSpec, TemplateSchema

DRAFT_NUMBER = "（签发时编号）"
DRAFT_DATE = "（签发时填写）"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class RenderError(RuntimeError):
    """The template could not be rendered; the message says where."""


def chinese_date(value: dt.date | str) -> str:
    """成文日期: 2026年11月3日 — Arabic numerals, year in full, no leading zeros."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.year}年{value.month}月{value.day}日"


def format_figures(amount: Decimal) -> str:
    if amount == amount.to_integral_value():
        return f"{int(amount):,}元"
    return f"{amount:,.2f}元"


def rmb_upper(amount: Decimal) -> str:
    """人民币大写, e.g. 人民币捌万元整 (cn2an's rmb mode)."""
    words = cn2an.an2cn(str(amount), "rmb")
    return "人民币" + words


def money_display(value: str) -> dict[str, str]:
    amount = Decimal(value)
    figures = format_figures(amount)
    upper = rmb_upper(amount)
    return {"figures": figures, "upper": upper, "text": f"{figures}（大写：{upper}）"}


def _display(spec: FieldSpec, value: Any) -> Any:
    t = spec.type
    if value is None or value == "":
        return [] if t in {"list", "multichoice"} else ("" if t != "boolean" else False)
    if t == "date":
        return chinese_date(value)
    if t == "daterange":
        # a draft may hold one date of the two so far
        start = chinese_date(value["start"]) if value.get("start") else ""
        end = chinese_date(value["end"]) if value.get("end") else ""
        return {"start": start, "end": end, "text": f"{start}至{end}" if start and end else ""}
    if t == "money":
        return money_display(value)
    if t == "integer":
        return str(value)
    if t == "list":
        if spec.fields:
            return [display_values(spec.fields, row) for row in value]
        return list(value)
    return value


def display_values(specs: tuple[FieldSpec, ...], data: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        value = data.get(spec.name)
        out[spec.name] = _display(spec, value)
        if spec.type == "textarea":
            text = value or ""
            out[f"{spec.name}_paragraphs"] = [p.strip() for p in text.split("\n") if p.strip()]
    return out


def build_context(
    schema: TemplateSchema,
    data: dict,
    unit: dict[str, str],
    number: str | None = None,
    issue_date: dt.date | None = None,
) -> dict[str, Any]:
    ctx = display_values(schema.fields, data)
    ctx.update(
        doc_number=number or DRAFT_NUMBER,
        issue_date=chinese_date(issue_date) if issue_date else DRAFT_DATE,
        is_issued=number is not None,
        unit=dict(unit),
    )
    return ctx


def _environment(autoescape: bool = True) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape)


def document_title(schema: TemplateSchema, data: dict) -> str:
    """The record's title from schema.document_title, rendered over display values."""
    ctx = display_values(schema.fields, data)
    try:
        title = _environment(autoescape=False).from_string(schema.document_title).render(ctx)
    except TemplateError as exc:
        raise RenderError(f"document_title cannot be rendered: {exc}") from exc
    title = " ".join(title.split())
    return title[:200] or schema.title


def normalize_docx(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps, stored entries and a stable order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_STORED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 0
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


class _StoredZipWriter:
    """python-docx's physical package writer, but with fixed timestamps and stored entries."""

    def __init__(self, target: io.BytesIO):
        self._zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED)

    def write(self, pack_uri, blob: bytes) -> None:
        info = zipfile.ZipInfo(pack_uri.membername, date_time=ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        info.create_system = 0
        self._zip.writestr(info, blob)

    def close(self) -> None:
        self._zip.close()


def save_reproducible(tpl: DocxTemplate) -> bytes:
    """Serialise a rendered template straight to the reproducible form.

    Same parts, order and bytes as python-docx's own save followed by normalize_docx(), without
    deflating every part only to inflate it again (tests/test_render.py checks the equality).
    """
    tpl.pre_processing()
    if tpl.zipname_to_replace:  # docxtpl's zip post-processing is not used by casefile
        raise RenderError("replace_zipname is not supported")
    package = tpl.docx.part.package
    for part in package.parts:
        part.before_marshal()
    out = io.BytesIO()
    writer = _StoredZipWriter(out)
    PackageWriter._write_content_types_stream(writer, package.parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, package.parts)
    writer.close()
    return out.getvalue()


def render_docx(template_bytes: bytes, context: dict[str, Any]) -> bytes:
    """Render one DOCX. User values are data: autoescaped, never evaluated as template code."""
    try:
        tpl = DocxTemplate(io.BytesIO(template_bytes))
        tpl.render(context, jinja_env=_environment(autoescape=True))
        return save_reproducible(tpl)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (template line {line})" if line else ""
        raise RenderError(f"template error{where}: {exc}") from exc
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RenderError(f"template cannot be rendered: {exc}") from exc


def render_document(
    schema: TemplateSchema,
    template_bytes: bytes,
    data: dict,
    unit: dict[str, str],
    number: str | None = None,
    issue_date: dt.date | None = None,
) -> bytes:
    """The one render path used by drafts, issuance and verification."""
    return render_docx(template_bytes, build_context(schema, data, unit, number, issue_date))
