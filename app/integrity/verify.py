"""`casefile verify`: fixity of every blob, the re-render proof of every issued document, the
audit chain, every record against its audit event and every number sequence for gaps
(records.py), the database against the audit checkpoint kept outside it (checkpoint.py), and
the four checks of case files. Returns a list of problems, each naming the record; a check
that crashes on a record missing underneath it is reported, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app import audit
from app.blobs.models import Blob
from app.casefiles.models import Attachment, AttachmentOcr, AttachmentRendition
from app.common.hashing import sha256_hex
from app.container import Casefile
from app.drafting import facts
from app.drafting.drafts import unit_context
from app.drafting.models import DraftVersion, IssuedDocument, ProcessingSlip, ReviewOpinion
from app.identity.models import Unit
from app.integrity import checkpoint, records
from app.integrity.checks import run_checks
from app.jobs.models import OutboxEvent
from app.jobs.stuck import stuck_events
from app.renditions.models import Rendition
from app.search import SearchError
from app.search.indexing import expected_fingerprints, parse_doc_id
from app.templating import RenderError, document_title, render_document
from app.templating.models import TemplateVersion

log = logging.getLogger(__name__)


@dataclass
class Report:
    checked_documents: int = 0
    checked_blobs: int = 0
    problems: list[str] | None = None
    warnings: list[str] = field(default_factory=list)  # derived data (search index): rebuildable
    head: checkpoint.Head | None = None  # the audit chain's head, for the operator to keep
    checkpoint_written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _guarded(problems: list[str], what: str, check: Callable[[], list[str] | None]) -> None:
    """Run one check; a crash in it (a record missing underneath it) is a problem, never a
    traceback, and the other checks still run."""
    try:
        problems.extend(check() or [])
    except Exception as exc:  # noqa: BLE001 - verify reports, it never dies half-way
        log.exception("verify: %s failed", what)
        problems.append(
            f"{what}无法完成：{type(exc).__name__}: {str(exc)[:200]}（记录可能已被删除或改动）"
        )


def verify_store(cf: Casefile, *, write_checkpoint: bool = True) -> Report:
    """Every check, each in its own read transaction; when everything passes, the audit
    checkpoint outside the database advances to the current head."""
    report = Report(problems=[])
    problems = report.problems
    bad_blobs: dict[str, str] = {}
    chain: list[str] = []

    def documents() -> list[str]:
        with cf.db.read() as session:
            for blob in session.scalars(select(Blob)).yield_per(500):
                report.checked_blobs += 1
                problem = cf.blobs.check(blob.sha256, blob.size)
                if problem:
                    bad_blobs[blob.sha256] = problem
            found = []
            for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)):
                report.checked_documents += 1
                label = f"文书 {doc.number} (document {doc.id})"
                try:
                    found += _check_document(cf, session, doc, label, bad_blobs)
                except Exception as exc:  # noqa: BLE001 - one broken record, not the whole run
                    found.append(f"{label}: 无法校验（{type(exc).__name__}: {str(exc)[:200]}）")
            owners = blob_owners(session)
            for sha, problem in bad_blobs.items():
                if not any(sha in p for p in found):
                    names = owners.get(sha) or [f"文件 {sha}"]
                    found += [f"{name}: {problem}（sha256 {sha}）" for name in names]
            return found

    def audit_chain() -> list[str]:
        with cf.db.read() as session:
            chain.extend(audit.verify_chain(session))
            return chain

    def cross_check() -> list[str]:
        with cf.db.read() as session:
            return records.cross_check(session) + facts.problems(session)

    def against_checkpoint() -> list[str]:
        try:
            cp = checkpoint.load(cf.settings)
        except checkpoint.CheckpointError as exc:
            return [str(exc)]
        if cp is None:
            return []
        with cf.db.read() as session:
            return checkpoint.compare(session, cp, chain_ok=not chain)

    _guarded(problems, "文书与文件校验", documents)
    _guarded(problems, "审计日志校验", audit_chain)
    _guarded(problems, "记录与审计日志核对", cross_check)
    _guarded(problems, "审计检查点核对", against_checkpoint)
    _guarded(problems, "档案四性检测", lambda: [str(f) for f in run_checks(cf).findings])
    _guarded(problems, "后台任务", lambda: [e.description for e in stuck_events(cf)])
    report.warnings = index_problems(cf)
    # de-duplicate while keeping order
    seen: set[str] = set()
    report.problems = [p for p in problems if not (p in seen or seen.add(p))]
    with cf.db.read() as session:
        report.head = checkpoint.head_of(session)
        if report.ok and write_checkpoint:
            try:
                checkpoint.advance(cf.settings, checkpoint.snapshot(session))
                report.checkpoint_written = True
            except (OSError, checkpoint.CheckpointError) as exc:
                report.warnings.append(f"审计检查点未能更新（{exc}）")
    return report


def _check_document(cf: Casefile, session, doc: IssuedDocument, label: str, bad_blobs) -> list[str]:
    """The re-render proof of one issued document (DESIGN.md invariant 2)."""
    if doc.docx_sha256 in bad_blobs:
        return [f"{label}: 发文稿 {bad_blobs[doc.docx_sha256]}"]
    problems = []
    version = session.get(DraftVersion, doc.approved_version_id)
    if version is None or version.docx_sha256 != doc.approved_sha256:
        return [f"{label}: 审核通过的版本记录与发文记录不符"]
    if version.docx_sha256 in bad_blobs:
        problems.append(f"{label}: 审核通过的版本文件 {bad_blobs[version.docx_sha256]}")
    tv = session.get(TemplateVersion, doc.template_version_id)
    if tv is None:
        return problems + [f"{label}: 模板版本记录 {doc.template_version_id} 不存在，无法重新生成"]
    if tv.docx_sha256 in bad_blobs or tv.schema_sha256 in bad_blobs:
        return problems + [f"{label}: 模板 {tv.template_id} 第{tv.version}版文件损坏，无法重新生成"]
    unit = session.get(Unit, doc.unit_id)
    if unit is None:
        return problems + [f"{label}: 发文单位记录 {doc.unit_id} 不存在，无法重新生成"]
    try:
        tpl = cf.catalog.load(tv)
        approved = render_document(tpl.schema, tpl.docx, version.data, unit_context(unit))
        issued = render_document(
            tpl.schema, tpl.docx, version.data, unit_context(unit), doc.number, doc.issue_date
        )
        title = document_title(tpl.schema, version.data)
    except (RenderError, OSError) as exc:
        return problems + [f"{label}: 无法重新生成 ({exc})"]
    if sha256_hex(approved) != doc.approved_sha256:
        problems.append(f"{label}: 用记录的模板和数据重新生成的审核稿与审核人批准的版本不一致")
    if sha256_hex(issued) != doc.docx_sha256:
        problems.append(
            f"{label}: 审核稿加上文号和日期重新生成后与发文稿不一致——发文稿在审核后被改动过"
        )
    if title != doc.title:
        problems.append(f"{label}: 标题「{doc.title}」与审核通过的内容生成的标题「{title}」不符")
    return problems


def blob_owners(session) -> dict[str, list[str]]:
    """What each blob is, by the record that names it: a missing or damaged file is reported
    as the document (发文字号) or item it belongs to, not only as a sha256."""
    numbers = dict(session.execute(select(IssuedDocument.id, IssuedDocument.number)).all())
    owners: dict[str, list[str]] = {}

    def add(sha: str | None, name: str) -> None:
        if sha:
            owners.setdefault(sha, []).append(name)

    for doc_id, sha in session.execute(select(Rendition.document_id, Rendition.pdf_sha256)):
        add(sha, f"文书 {numbers.get(doc_id, f'(document {doc_id})')} 的 PDF 版式文件")
    for doc_id, sha in session.execute(
        select(ProcessingSlip.document_id, ProcessingSlip.docx_sha256)
    ):
        add(sha, f"文书 {numbers.get(doc_id, f'(document {doc_id})')} 的发文稿纸")
    for att_id, name, sha in session.execute(
        select(Attachment.id, Attachment.original_name, Attachment.sha256)
    ):
        add(sha, f"案卷材料「{name}」(attachment {att_id})")
    for att_id, sha in session.execute(
        select(AttachmentRendition.attachment_id, AttachmentRendition.pdf_sha256)
    ):
        add(sha, f"案卷材料 (attachment {att_id}) 的 PDF 版式文件")
    for att_id, sha in session.execute(
        select(AttachmentOcr.attachment_id, AttachmentOcr.pdf_sha256)
    ):
        add(sha, f"案卷材料 (attachment {att_id}) 的可检索 PDF（文字识别副本）")
    for step_id, name, sha in session.execute(
        select(ReviewOpinion.step_id, ReviewOpinion.file_name, ReviewOpinion.file_sha256)
    ):
        add(sha, f"书面审核意见「{name}」(step {step_id})")
    for draft_id, number, sha in session.execute(
        select(DraftVersion.draft_id, DraftVersion.number, DraftVersion.docx_sha256)
    ):
        add(sha, f"草稿 {draft_id} 第{number}版")
    for tid, version, docx, schema in session.execute(
        select(TemplateVersion.template_id, TemplateVersion.version,
               TemplateVersion.docx_sha256, TemplateVersion.schema_sha256)
    ):  # fmt: skip
        add(docx, f"模板 {tid} 第{version}版")
        add(schema, f"模板 {tid} 第{version}版的 schema")
    return owners


def index_problems(cf: Casefile) -> list[str]:
    """Issued documents and attachments missing from, or stale in, the search index (derived
    data: the fix is `casefile reindex`, so these are warnings, not archive failures)."""

    try:
        problems = cf.search.check()
        if problems:
            return [f"检索索引损坏：{p}" for p in problems] + [
                "请运行 casefile reindex 重建检索索引"
            ]
        indexed = dict(cf.search.stored_hashes())
    except SearchError as exc:
        return [f"检索索引不可用（{exc}），请运行 casefile reindex 重建"]
    out = []
    with cf.db.read() as session:
        pending: set[tuple[str, int]] = set()
        for e in session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.kind == "index", OutboxEvent.processed_at.is_(None)
            )
        ):
            for kind in ("document", "attachment"):
                if e.payload.get(f"{kind}_id") is not None:
                    pending.add((kind, e.payload[f"{kind}_id"]))
        numbers = dict(session.execute(select(IssuedDocument.id, IssuedDocument.number)).all())
        names = dict(session.execute(select(Attachment.id, Attachment.original_name)).all())
        for doc_id, expected in expected_fingerprints(session).items():
            kind, rid = parse_doc_id(doc_id)
            if (kind, rid) in pending:
                indexed.pop(doc_id, None)
                continue  # the outbox will index it shortly
            label = (
                f"文书 {numbers[rid]} (document {rid})"
                if kind == "document"
                else f"案卷材料「{names[rid]}」(attachment {rid})"
            )
            have = indexed.pop(doc_id, None)
            if have is None:
                out.append(f"{label} 未进入检索索引")
            elif have != expected:
                out.append(f"{label} 的检索索引内容已过期")
    for doc_id in sorted(indexed, key=lambda k: (len(k), k)):
        parsed = parse_doc_id(doc_id)
        if parsed is None:
            continue
        what = "文书 (document" if parsed[0] == "document" else "案卷材料 (attachment"
        out.append(f"检索索引中有档案库里不存在的{what} {parsed[1]})")
    if out:
        out.append("以上检索索引问题可运行 casefile reindex 修复")
    return out
