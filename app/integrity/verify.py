"""`casefile verify`: fixity of every blob, the re-render proof of every issued document, and
the audit chain. Returns a list of problems, each naming the record."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app import audit
from app.blobs.models import Blob
from app.casefiles.models import Attachment
from app.common.hashing import sha256_hex
from app.container import Casefile
from app.drafting.drafts import unit_context
from app.drafting.models import Draft, DraftVersion, IssuedDocument
from app.identity.models import Unit
from app.integrity.checks import run_checks
from app.jobs.models import OutboxEvent
from app.jobs.stuck import stuck_events
from app.search import SearchError
from app.search.indexing import expected_fingerprints, parse_doc_id
from app.templating import RenderError, render_document
from app.templating.models import TemplateVersion


@dataclass
class Report:
    checked_documents: int = 0
    checked_blobs: int = 0
    problems: list[str] | None = None
    warnings: list[str] = field(default_factory=list)  # derived data (search index): rebuildable

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(cf: Casefile) -> Report:
    report = Report(problems=[])
    problems = report.problems
    with cf.db.read() as session:
        bad_blobs: dict[str, str] = {}
        for blob in session.scalars(select(Blob)).yield_per(500):
            report.checked_blobs += 1
            problem = cf.blobs.check(blob.sha256, blob.size)
            if problem:
                bad_blobs[blob.sha256] = problem
        for doc in session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).yield_per(
            200
        ):
            report.checked_documents += 1
            label = f"文书 {doc.number} (document {doc.id})"
            if doc.docx_sha256 in bad_blobs:
                problems.append(f"{label}: 发文稿 {bad_blobs[doc.docx_sha256]}")
                continue
            version = session.get(DraftVersion, doc.approved_version_id)
            if version is None or version.docx_sha256 != doc.approved_sha256:
                problems.append(f"{label}: 审核通过的版本记录与发文记录不符")
                continue
            if version.docx_sha256 in bad_blobs:
                problems.append(f"{label}: 审核通过的版本文件 {bad_blobs[version.docx_sha256]}")
            tv = session.get(TemplateVersion, doc.template_version_id)
            if tv.docx_sha256 in bad_blobs or tv.schema_sha256 in bad_blobs:
                problems.append(
                    f"{label}: 模板 {tv.template_id} 第{tv.version}版文件损坏，无法重新生成"
                )
                continue
            try:
                tpl = cf.catalog.load(tv)
                unit = unit_context(session.get(Unit, doc.unit_id))
                approved = render_document(tpl.schema, tpl.docx, version.data, unit)
                issued = render_document(
                    tpl.schema, tpl.docx, version.data, unit, doc.number, doc.issue_date
                )
            except (RenderError, OSError) as exc:
                problems.append(f"{label}: 无法重新生成 ({exc})")
                continue
            if sha256_hex(approved) != doc.approved_sha256:
                problems.append(
                    f"{label}: 用记录的模板和数据重新生成的审核稿与审核人批准的版本不一致"
                )
            if sha256_hex(issued) != doc.docx_sha256:
                problems.append(
                    f"{label}: 审核稿加上文号和日期重新生成后与发文稿不一致——发文稿在审核后被改动过"
                )
        for version in session.scalars(select(DraftVersion)).yield_per(500):
            if version.docx_sha256 in bad_blobs:
                draft = session.get(Draft, version.draft_id)
                problems.append(
                    f"草稿 {draft.id}「{draft.title}」第{version.number}版: {bad_blobs[version.docx_sha256]}"
                )
        reported = {p for p in problems}
        for sha, problem in bad_blobs.items():
            if not any(sha in p for p in reported):
                problems.append(f"文件 {sha}: {problem}")
        problems.extend(audit.verify_chain(session))

    problems.extend(str(f) for f in run_checks(cf).findings)
    problems.extend(e.description for e in stuck_events(cf))  # outbox work that keeps failing
    report.warnings = index_problems(cf)
    # de-duplicate while keeping order
    seen: set[str] = set()
    report.problems = [p for p in problems if not (p in seen or seen.add(p))]
    return report


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
