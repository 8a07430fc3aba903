"""四性检测 (DA/T 70): authenticity, integrity, usability and security of every filed record.

- 真实性 authenticity: the file hashes to what was recorded, its 档号 and recorded digest agree
  with the record, and a PDF rendition's embedded metadata names the record it was made from.
- 完整性 integrity: required metadata present, every file and rendition present, no gaps in
  the 件号 of a sequence.
- 可用性 usability: each file opens (DOCX with python-docx, PDF with pypdf, images, OFD).
- 安全性 security: creation, filing and closing are in the audit log; every file lies inside
  the archive's blob store, is not world-writable, and no PDF carries scripts.

Every finding names the record: case file, item and 档号.

Long module: the four checks share one walk over every case file, item and file.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
import zipfile
from dataclasses import dataclass, field

from sqlalchemy import select

from app import audit
from app.access.policy import Principal, can, visible_case_files, visible_documents
from app.audit.labels import action_label
from app.audit.models import AuditEntry
from app.casefiles.attachments import IMAGE_TYPES
from app.casefiles.contents import item_sha256, items_of, references_of
from app.casefiles.metadata import case_gaps, item_gaps
from app.casefiles.models import (
    ArchivalReference,
    ArchivalSequence,
    AttachmentRendition,
    CaseFile,
    CaseFileItem,
)
from app.casefiles.service import format_reference
from app.common.hashing import sha256_hex
from app.common.upload_safety import pdf_active_content
from app.container import Casefile
from app.drafting.models import IssuedDocument
from app.errors import Forbidden
from app.jobs.stuck import stuck_events
from app.renditions import PdfError, read_metadata
from app.renditions.models import Rendition

CHECKS = ("authenticity", "integrity", "usability", "security")
LABELS = {
    "authenticity": "真实性",
    "integrity": "完整性",
    "usability": "可用性",
    "security": "安全性",
}


@dataclass(frozen=True)
class Finding:
    check: str
    record: str
    message: str
    case_file_id: int | None = None

    def __str__(self) -> str:
        return f"[{LABELS[self.check]}] {self.record}：{self.message}"


@dataclass
class ChecksReport:
    case_files: int = 0
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)  # outbox work that keeps failing (admins)

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_check(self) -> dict[str, list[Finding]]:
        return {c: [f for f in self.findings if f.check == c] for c in CHECKS}

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "case_files": self.case_files,
            "records": self.records,
            "checks": {
                c: {"label": LABELS[c], "ok": not fs, "problems": [str(f) for f in fs]}
                for c, fs in self.by_check().items()
            },
        }


class _Files:
    """Reads each blob once; remembers what is wrong with it."""

    def __init__(self, cf: Casefile):
        self.cf = cf
        self.root = os.path.realpath(cf.blobs.root)

    def read(self, sha: str) -> tuple[bytes | None, str | None]:
        path = self.cf.blobs.path(sha)
        if not path.exists():
            return None, "文件缺失"
        data = path.read_bytes()

        actual = sha256_hex(data)
        if actual != sha:
            return data, f"内容被改动（SHA-256 {actual[:16]}… 与登记的 {sha[:16]}… 不符）"
        return data, None

    def location_problem(self, sha: str) -> str | None:
        path = self.cf.blobs.path(sha)
        if not os.path.lexists(path):
            return None  # reported by integrity
        real = os.path.realpath(path)
        if path.is_symlink() or os.path.commonpath([real, self.root]) != self.root:
            return f"文件存放位置不在档案库内（{real}）"
        mode = os.stat(real).st_mode
        if mode & stat.S_IWOTH:
            return "文件对所有用户可写"
        return None


def _opens(file_type: str, data: bytes) -> str | None:
    """None when the file opens with the library that reads its kind; else why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if file_type == "pdf":
                from pypdf import PdfReader

                reader = PdfReader(io.BytesIO(data), strict=False)
                if reader.is_encrypted:
                    return "PDF 已加密，无法打开"
                if not reader.pages:
                    return "PDF 没有页面"
                for page in reader.pages:
                    _ = page.mediabox, page.get_contents()
            elif file_type == "docx":
                from docx import Document

                Document(io.BytesIO(data)).paragraphs  # noqa: B018
            elif file_type in IMAGE_TYPES:
                from PIL import Image

                with Image.open(io.BytesIO(data)) as img:
                    img.load()
            elif file_type == "ofd":
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    if "OFD.xml" not in zf.namelist() or zf.testzip() is not None:
                        return "OFD 文件结构不完整"
    except Exception as exc:  # noqa: BLE001 - every failure to open is the finding
        return f"无法打开（{type(exc).__name__}: {str(exc)[:120]}）"
    return None


def _label(
    case: CaseFile,
    item: CaseFileItem | None = None,
    ref: ArchivalReference | None = None,
    masked: bool = False,
) -> str:
    text = f"案卷 {case.id}「{case.title}」"
    if item is not None:
        text += f"第{item.position}件" + ("（限定知悉范围）" if masked else f"「{item.title}」")
        if ref is not None:
            text += f"（档号 {ref.reference}）"
    return text


def run_checks(
    cf: Casefile, case_id: int | None = None, p: Principal | None = None
) -> ChecksReport:
    """The four checks over every case file (or one); with a principal, over the case files it
    reads, and an item filed from a document restricted away from it (知悉范围) is named by its
    position only."""

    report = ChecksReport()
    files = _Files(cf)
    add = report.findings.append
    with cf.db.read() as s:
        query = select(CaseFile).order_by(CaseFile.id)
        if case_id is not None:
            query = query.where(CaseFile.id == case_id)
        hidden: set[int] = set()
        if p is not None:
            query = query.where(visible_case_files(p))
            hidden = set(
                s.scalars(
                    select(IssuedDocument.id).where(
                        IssuedDocument.id.in_(
                            select(CaseFileItem.document_id).where(
                                CaseFileItem.document_id.is_not(None)
                            )
                        ),
                        ~visible_documents(p),
                    )
                )
            )
        for case in s.scalars(query):
            report.case_files += 1
            here = _label(case)
            missing = case_gaps(case)
            if case.status == "closed" and not (case.fonds_code and case.archive_year):
                missing.append("全宗号和年度")
            if missing:
                add(Finding("integrity", here, "缺少必备元数据：" + "、".join(missing), case.id))
            events = _audit_events(s, case)
            first = "casefile.import" if case.imported_from else "casefile.create"
            if first not in events:
                add(
                    Finding("security", here, f"审计日志中没有{action_label(first)}的记录", case.id)
                )
            if (
                case.status == "closed"
                and not case.imported_from
                and "casefile.close" not in events
            ):
                add(Finding("security", here, "审计日志中没有归档（封卷）的记录", case.id))
            refs = references_of(s, case)
            items = items_of(s, case)
            positions = [i.position for i in items]
            if positions != list(range(1, len(items) + 1)):
                add(Finding("integrity", here, f"卷内文件序号不连续：{positions}", case.id))
            filed = {d.get("item") for d in events.get("casefile.add", [])}
            for item in items:
                report.records += 1
                ref = refs.get(item.id)
                _check_item(cf, s, files, case, item, ref, filed, add, read_metadata, PdfError,
                            masked=item.document_id in hidden)  # fmt: skip
            seqs = [refs[i.id].seq for i in items if i.id in refs]
            if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                add(Finding("integrity", here, "卷内件号不连续：" + "、".join(f"{n:04d}" for n in seqs),
                            case.id))  # fmt: skip
        if case_id is None:
            _check_sequences(s, add)
        else:
            _check_sequences(s, add, only_case=case_id)
    return report


def _audit_events(s, case: CaseFile) -> dict[str, list[dict]]:
    events: dict[str, list[dict]] = {}
    for action, detail in s.execute(
        select(AuditEntry.action, AuditEntry.detail).where(
            AuditEntry.object_type == "case_file", AuditEntry.object_id == str(case.id)
        )
    ):
        events.setdefault(action, []).append(detail or {})
    return events


def _check_item(
    cf, s, files: _Files, case, item, ref, filed, add, read_metadata, PdfError, masked=False
) -> None:
    label = _label(case, item, ref, masked)
    cid = case.id
    gaps = item_gaps(item)
    if "题名" in gaps:
        add(Finding("integrity", label, "缺少题名", cid))
    if case.status == "closed":
        missing = ([] if ref is not None else ["档号"]) + [g for g in gaps if g != "题名"]
        if missing:
            add(Finding("integrity", label, "缺少必备元数据：" + "、".join(missing), cid))
    if not case.imported_from and item.id not in filed:
        add(Finding("security", label, "审计日志中没有此件归入案卷的记录", cid))

    if (item.document if item.document_id else item.attachment) is None:  # deleted underneath
        gone = f"文书 {item.document_id}" if item.document_id else f"材料 {item.attachment_id}"
        return add(Finding("integrity", label, f"归入的{gone}在档案库中已不存在", cid))
    sha = item_sha256(item)  # the original
    file_type = "docx" if item.document_id else item.attachment.file_type
    data, problem = files.read(sha)
    if problem == "文件缺失":
        add(Finding("integrity", label, "原件文件缺失（" + sha[:16] + "…）", cid))
    elif problem:
        add(Finding("authenticity", label, "原件" + problem, cid))
    if item.attachment_id and data is not None and len(data) != item.attachment.size:
        add(
            Finding(
                "authenticity",
                label,
                f"文件大小 {len(data)} 与登记的 {item.attachment.size} 不符",
                cid,
            )
        )
    if data is not None:
        why = _opens(file_type, data)
        if why:
            add(Finding("usability", label, "原件" + why, cid))
        if file_type == "pdf" and (active := pdf_active_content(data)):
            add(Finding("security", label, active, cid))
    loc = files.location_problem(sha)
    if loc:
        add(Finding("security", label, loc, cid))

    # the archival reference
    if ref is not None:
        if ref.sha256 != sha:
            add(Finding("authenticity", label, "档号登记时的 SHA-256 与文件记录不符", cid))
        expected = format_reference(ref.fonds_code, ref.category_code, ref.year, ref.retention,
                                    ref.org_code, ref.seq)  # fmt: skip
        if ref.reference != expected or ref.retention != case.retention:
            add(
                Finding(
                    "authenticity",
                    label,
                    f"档号与其组成项或案卷的保管期限不符（应为 {expected}）",
                    cid,
                )
            )

    # the PDF rendition
    needs_rendition = item.document_id is not None or file_type == "docx"
    if not needs_rendition:
        return
    if item.document_id:
        row = s.scalars(select(Rendition).where(Rendition.document_id == item.document_id)).first()
        expect = {
            "CasefileNumber": item.document.number,
            "CasefileDocxSha256": item.document.docx_sha256,
        }
    else:
        row = s.scalars(
            select(AttachmentRendition).where(
                AttachmentRendition.attachment_id == item.attachment_id
            )
        ).first()
        expect = {"CasefileDocxSha256": item.attachment.sha256}
    if row is None:
        return  # renditions are derived: export makes the missing ones (DESIGN.md invariant 7)
    pdf, problem = files.read(row.pdf_sha256)
    if problem == "文件缺失":
        add(Finding("integrity", label, "PDF 版式文件缺失", cid))
        return
    if problem:
        add(Finding("authenticity", label, "PDF 版式文件" + problem, cid))
    loc = files.location_problem(row.pdf_sha256)
    if loc:
        add(Finding("security", label, "PDF 版式文件" + loc, cid))
    why = _opens("pdf", pdf)
    if why:
        add(Finding("usability", label, "PDF 版式文件" + why, cid))
        return
    try:
        meta = read_metadata(pdf)
    except PdfError as exc:
        add(Finding("usability", label, f"PDF 版式文件元数据无法读取（{exc}）", cid))
        return
    wrong = [k for k, v in expect.items() if meta.get(k) != v]
    if wrong:
        add(
            Finding(
                "authenticity", label, "PDF 版式文件的元数据与记录不符：" + "、".join(wrong), cid
            )
        )


def _check_sequences(s, add, only_case: int | None = None) -> None:
    """件号 of each (全宗, 门类, 年度, 保管期限, 机构) sequence run 1..last without gaps.
    References read in from transfer packages belong to another store's sequences."""
    imported = {
        cid for (cid,) in s.execute(select(CaseFile.id).where(CaseFile.imported_from.is_not(None)))
    }
    for seq in s.scalars(select(ArchivalSequence)):
        refs = [r for r in s.scalars(select(ArchivalReference).where(
            ArchivalReference.fonds_code == seq.fonds_code, ArchivalReference.category_code == seq.category_code,
            ArchivalReference.year == seq.year, ArchivalReference.retention == seq.retention,
            ArchivalReference.org_code == seq.org_code,
        ).order_by(ArchivalReference.seq)) if r.case_file_id not in imported]  # fmt: skip
        if only_case is not None and not any(r.case_file_id == only_case for r in refs):
            continue
        have = {r.seq for r in refs}
        gaps = [n for n in range(1, seq.last_value + 1) if n not in have]
        if not gaps:
            continue
        name = f"档号序列 {seq.fonds_code}-{seq.category_code}·{seq.year}-{seq.retention}-{seq.org_code}"
        for n in gaps[:20]:
            before = max((r for r in refs if r.seq < n), key=lambda r: r.seq, default=None)
            after = min((r for r in refs if r.seq > n), key=lambda r: r.seq, default=None)
            near = before or after
            where = ""
            if near is not None:
                case = s.get(CaseFile, near.case_file_id)
                where = f"，缺号位于{_label(case)}附近（{near.reference}）"
            add(Finding("integrity", name, f"件号不连续：缺 {n:04d}{where}",
                        near.case_file_id if near else None))  # fmt: skip


def archive_checks_for(
    cf: Casefile, p: Principal | None, *, via: str = "", remote_addr: str = ""
) -> ChecksReport:
    """The four checks as `p` asks for them (the archive checks page): Forbidden without
    `archive.checks`; every run by a user is audited (`p` None: the operator)."""
    if p is not None:
        with cf.db.write() as s:
            if not can(s, p, "archive.checks"):
                raise Forbidden("您无权查看档案四性检测")
            audit.record(s, "archive.checks", actor=p.user, detail={"via": via} if via else None,
                         remote_addr=remote_addr)  # fmt: skip
    report = run_checks(cf, p=p)
    if p is None or p.has("admin"):  # they name documents (restricted ones too): operators only
        report.stuck = [e.description for e in stuck_events(cf)]
    return report
