"""Drafts and the review chain: create, edit, submit, approve, return, issue.

Rules (DESIGN.md invariants 1–3): every step records who, role, when, decision, comment and the
sha256 of the exact version seen; approvals count only for the version they saw, so an edit voids
them; the drafter never approves; one person fills at most one step of a chain; issuance needs
every step approved on the current version and adds only the number and the date.

A `co-sign` step (会签) is filled by the office head or signatory of each co-signing unit listed
on the version under review; every listed unit must approve. A written opinion may carry a
file; a signed step is never changed, its author may only add a later `note` that supersedes it.
The processing slip (发文稿纸) is generated and archived in the issuing transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.archive.blobs import store_blob
from app.auth.policy import Principal, can
from app.db.models import (
    ROLE_LABELS,
    Draft,
    DraftVersion,
    IssuedDocument,
    OutboxEvent,
    ReviewStep,
    TemplateVersion,
    Unit,
    utcnow,
)
from app.numbering import allocate_number, format_number
from app.services import Casefile
from app.templating import RenderError, describe_errors, document_title, render_document, validate
from app.templating.catalog import DOCX_MEDIA, LoadedTemplate
from app.templating.schema import ChainStep
from app.workflow.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.workflow.models import ProcessingSlip, ReviewOpinion, VersionCoSignUnit
from app.workflow.opinions import OpinionFile, attach_opinion

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))  # China Standard Time, no DST

STATUS_LABELS = {
    "draft": "草稿",
    "in_review": "审核中",
    "returned": "已退回修改",
    "approved": "已审核待发文",
    "issued": "已发文",
}
DECISION_LABELS = {
    "submit": "提交审核",
    "approve": "同意",
    "return": "退回修改",
    "issue": "发文",
    "note": "补充意见",
}
CO_SIGN = "co-sign"
CO_SIGN_ROLES = ("office-head", "signatory")  # who may co-sign for a unit
STEP_ROLE_LABELS = ROLE_LABELS | {CO_SIGN: "会签单位负责人或签发人", "drafter": "起草人"}


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()


def unit_context(unit: Unit) -> dict[str, str]:
    return {"name": unit.name, "code": unit.code, "doc_code": unit.doc_code or ""}


@dataclass
class StepState:
    index: int
    step: ChainStep
    approvals: list[ReviewStep] = field(default_factory=list)
    units: tuple[int, ...] = ()  # co-sign: the units that must each approve

    def open_units(self) -> list[int]:
        """Co-signing units still short of the step's approvals."""
        return [
            u
            for u in self.units
            if sum(1 for a in self.approvals if a.unit_id == u) < self.step.approvals
        ]

    @property
    def done(self) -> bool:
        if self.step.role == CO_SIGN:
            return bool(self.units) and not self.open_units()
        return len(self.approvals) >= self.step.approvals

    @property
    def role_label(self) -> str:
        return STEP_ROLE_LABELS.get(self.step.role, self.step.role)


@dataclass(frozen=True)
class ReviewSlot:
    """The step a reviewer would fill now, for which unit, in which role."""

    state: StepState
    unit_id: int
    role: str


def template_of(cf: Casefile, session: Session, draft: Draft) -> LoadedTemplate:
    row = session.get(TemplateVersion, draft.template_version_id)
    return cf.catalog.load(row)


def current_version(session: Session, draft: Draft) -> DraftVersion:
    return session.scalars(
        select(DraftVersion).where(
            DraftVersion.draft_id == draft.id, DraftVersion.number == draft.current_version
        )
    ).one()


def steps_of(session: Session, draft: Draft) -> list[ReviewStep]:
    return list(
        session.scalars(
            select(ReviewStep).where(ReviewStep.draft_id == draft.id).order_by(ReviewStep.id)
        )
    )


def co_sign_unit_ids(session: Session, version: DraftVersion) -> tuple[int, ...]:
    return tuple(
        session.scalars(
            select(VersionCoSignUnit.unit_id)
            .where(VersionCoSignUnit.version_id == version.id)
            .order_by(VersionCoSignUnit.id)
        )
    )


def chain_state(
    session: Session, draft: Draft, tpl: LoadedTemplate, version: DraftVersion
) -> list[StepState]:
    """Approvals per chain step that count: those on the current version since its submission."""
    units = co_sign_unit_ids(session, version) if _has_co_sign(tpl) else ()
    states = [
        StepState(i, s, units=units if s.role == CO_SIGN else ())
        for i, s in enumerate(tpl.schema.review_chain)
    ]
    history = steps_of(session, draft)
    # only approvals after the latest submission of this version count (a return resets the chain)
    last_submit = max(
        (s.id for s in history if s.decision == "submit" and s.version_id == version.id),
        default=None,
    )
    if last_submit is None:
        return states
    for s in history:
        if (
            s.id > last_submit
            and s.decision == "approve"
            and s.version_id == version.id
            and s.step_index is not None
            and s.step_index < len(states)
        ):
            states[s.step_index].approvals.append(s)
    return states


def pending_step(states: list[StepState]) -> StepState | None:
    return next((s for s in states if not s.done), None)


def _load_draft(session: Session, draft_id: int, *, lock: bool = False) -> Draft:
    query = select(Draft).where(Draft.id == draft_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    draft = session.scalars(query).first()
    if draft is None:
        raise NotFound(f"草稿 {draft_id} 不存在")
    return draft


def _validated(tpl: LoadedTemplate, data: object) -> dict:
    clean, errors = validate(tpl.schema, data)
    if errors:
        raise ValidationFailed(
            "表单有误，请按提示修改后重新提交", describe_errors(tpl.schema, errors)
        )
    return clean


def _render_version(cf: Casefile, tpl: LoadedTemplate, data: dict, unit: Unit) -> bytes:
    try:
        return render_document(tpl.schema, tpl.docx, data, unit_context(unit))
    except RenderError as exc:
        raise WorkflowError(f"模板无法生成文档，请联系管理员：{exc}") from exc


def _add_version(
    cf: Casefile, session: Session, p: Principal, draft: Draft, tpl: LoadedTemplate, data: dict
) -> DraftVersion:
    unit = session.get(Unit, draft.unit_id)
    docx = _render_version(cf, tpl, data, unit)
    sha = store_blob(session, cf.blobs, docx, DOCX_MEDIA)
    number = (
        session.scalar(
            select(DraftVersion.number)
            .where(DraftVersion.draft_id == draft.id)
            .order_by(DraftVersion.number.desc())
            .limit(1)
        )
        or 0
    ) + 1
    version = DraftVersion(
        draft_id=draft.id, number=number, data=data, docx_sha256=sha, created_by=p.user.id
    )
    session.add(version)
    draft.current_version = number
    draft.title = document_title(tpl.schema, data)
    draft.updated_at = utcnow()
    session.flush()
    return version


def create_draft(
    cf: Casefile,
    session: Session,
    p: Principal,
    template_id: str,
    data: object,
    unit_code: str | None = None,
    remote_addr: str = "",
) -> Draft:
    row = cf.catalog.latest_row(session, template_id)
    if row is None:
        raise NotFound(f"模板“{template_id}”不存在")
    tpl = cf.catalog.load(row)
    unit = (
        session.scalars(select(Unit).where(Unit.code == unit_code)).first()
        if unit_code
        else session.get(Unit, p.user.unit_id)
    )
    if unit is None:
        raise NotFound(f"单位“{unit_code}”不存在")
    if not can(session, p, "draft.create", unit):
        raise Forbidden(f"您在“{unit.name}”没有起草文书的权限")
    clean = _validated(tpl, data)
    draft = Draft(
        template_version_id=row.id,
        unit_id=unit.id,
        created_by=p.user.id,
        title=document_title(tpl.schema, clean),
        status="draft",
        current_version=0,
    )
    session.add(draft)
    session.flush()
    version = _add_version(cf, session, p, draft, tpl, clean)
    audit.record(
        session, "draft.create", actor=p.user, object_type="draft", object_id=draft.id,
        detail={"template": f"{row.template_id}@{row.version}", "sha256": version.docx_sha256},
        remote_addr=remote_addr,
    )  # fmt: skip
    return draft


def edit_draft(
    cf: Casefile, session: Session, p: Principal, draft_id: int, data: object, remote_addr: str = ""
) -> DraftVersion:
    draft = _load_draft(session, draft_id, lock=True)
    if draft.status == "issued":
        raise WorkflowError("该文书已发文，不能再修改；如需更正请另行起草")
    if not can(session, p, "draft.edit", draft):
        raise Forbidden("只有起草人可以修改草稿")
    tpl = template_of(cf, session, draft)
    clean = _validated(tpl, data)
    if clean == current_version(session, draft).data:
        raise WorkflowError("内容没有变化，无需保存新版本")
    version = _add_version(cf, session, p, draft, tpl, clean)
    voided = draft.status in {"in_review", "approved"}
    draft.status = "draft"  # the changed text must be submitted and reviewed again
    audit.record(
        session, "draft.edit", actor=p.user, object_type="draft", object_id=draft.id,
        detail={"version": version.number, "sha256": version.docx_sha256, "voided_approvals": voided},
        remote_addr=remote_addr,
    )  # fmt: skip
    return version


def _step(
    session: Session,
    p: Principal,
    draft: Draft,
    version: DraftVersion,
    decision: str,
    *,
    index: int | None,
    name: str,
    role: str,
    comment: str,
) -> ReviewStep:
    step = ReviewStep(
        draft_id=draft.id,
        version_id=version.id,
        version_sha256=version.docx_sha256,
        step_index=index,
        step_name=name,
        role=role,
        unit_id=draft.unit_id,
        user_id=p.user.id,
        decision=decision,
        comment=comment,
    )
    session.add(step)
    draft.updated_at = utcnow()
    session.flush()
    return step


def _clean_comment(comment: str | None, required: bool = False) -> str:
    text = (comment or "").strip()
    if len(text) > 2000:
        raise ValidationFailed(
            "意见不能超过2000字",
            [{"field": "comment", "label": "意见", "message": "不能超过2000字"}],
        )
    if required and not text:
        raise ValidationFailed(
            "退回时请写明需要修改的内容",
            [{"field": "comment", "label": "意见", "message": "退回时请写明需要修改的内容"}],
        )
    return text


def submit(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str = "",
    remote_addr: str = "",
) -> ReviewStep:  # fmt: skip
    draft = _load_draft(session, draft_id, lock=True)
    if not can(session, p, "draft.submit", draft):
        raise Forbidden("只有起草人可以提交审核")
    if draft.status not in {"draft", "returned"}:
        raise WorkflowError(f"草稿当前状态为“{STATUS_LABELS[draft.status]}”，不能提交审核")
    version = current_version(session, draft)
    step = _step(session, p, draft, version, "submit", index=None, name="submit",
                 role="drafter", comment=_clean_comment(comment))  # fmt: skip
    draft.status = "in_review"
    audit.record(session, "draft.submit", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"version": version.number, "sha256": version.docx_sha256},
                 remote_addr=remote_addr)  # fmt: skip
    return step


def _reviewable(
    cf: Casefile, session: Session, p: Principal, draft: Draft
) -> tuple[LoadedTemplate, DraftVersion, list[StepState], StepState]:
    if draft.status != "in_review":
        raise WorkflowError(f"草稿当前状态为“{STATUS_LABELS[draft.status]}”，不在审核中")
    if not can(session, p, "draft.review", draft):
        raise Forbidden("您在该单位没有审核权限")
    tpl = template_of(cf, session, draft)
    version = current_version(session, draft)
    states = chain_state(session, draft, tpl, version)
    pending = pending_step(states)
    if pending is None:
        raise WorkflowError("所有审核环节已完成")
    if not p.role_in_unit(pending.step.role, draft.unit_id):
        raise Forbidden(
            f"当前环节“{pending.step.label}”需由本单位的{pending.role_label}办理，您没有该角色"
        )
    authors = set(
        session.scalars(select(DraftVersion.created_by).where(DraftVersion.draft_id == draft.id))
    )
    if p.user.id in authors or p.user.id == draft.created_by:
        raise Forbidden("起草人不能审核自己起草的文书")
    for s in steps_of(session, draft):
        if (
            s.user_id == p.user.id
            and s.decision in {"approve", "return"}
            and s.step_index is not None
            and s.step_index != pending.index
        ):
            raise Forbidden("同一人不能在同一审核链中担任两个环节")
    if any(a.user_id == p.user.id for a in pending.approvals):
        raise WorkflowError("您已审核同意该版本，等待其他审核人")
    return tpl, version, states, pending


def approve(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str = "",
    remote_addr: str = "",
) -> ReviewStep:  # fmt: skip
    draft = _load_draft(session, draft_id, lock=True)
    tpl, version, states, pending = _reviewable(cf, session, p, draft)
    step = _step(session, p, draft, version, "approve", index=pending.index,
                 name=pending.step.name, role=pending.step.role,
                 comment=_clean_comment(comment))  # fmt: skip
    pending.approvals.append(step)
    if pending_step(states) is None:
        draft.status = "approved"
    audit.record(session, "draft.approve", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"step": pending.step.name, "version": version.number,
                         "sha256": version.docx_sha256}, remote_addr=remote_addr)  # fmt: skip
    return step


def return_draft(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str,
    remote_addr: str = "",
) -> ReviewStep:  # fmt: skip
    draft = _load_draft(session, draft_id, lock=True)
    text = _clean_comment(comment, required=True)
    tpl, version, states, pending = _reviewable(cf, session, p, draft)
    step = _step(session, p, draft, version, "return", index=pending.index,
                 name=pending.step.name, role=pending.step.role, comment=text)  # fmt: skip
    draft.status = "returned"
    audit.record(session, "draft.return", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"step": pending.step.name, "version": version.number,
                         "sha256": version.docx_sha256}, remote_addr=remote_addr)  # fmt: skip
    return step


def issue(
    cf: Casefile, session: Session, p: Principal, draft_id: int, remote_addr: str = "",
    issue_date: dt.date | None = None,
) -> IssuedDocument:  # fmt: skip
    """BEGIN; allocate number; render approved data + number + date; blob; record; outbox; audit."""
    draft = _load_draft(session, draft_id, lock=True)
    if draft.status == "issued":
        raise WorkflowError("该文书已经发文")
    if not can(session, p, "draft.issue", draft):
        raise Forbidden("您没有发文权限：只有起草人或本单位经办人、法律顾问室负责人可以发文")
    tpl = template_of(cf, session, draft)
    version = current_version(session, draft)
    states = chain_state(session, draft, tpl, version)
    missing = [s.step.label for s in states if not s.done]
    if draft.status != "approved" or missing:
        raise WorkflowError(
            "审核尚未完成，不能发文" + (f"：待办环节 {'、'.join(missing)}" if missing else "")
        )
    unit = session.get(Unit, draft.unit_id)
    if not unit.doc_code:
        raise WorkflowError(f"“{unit.name}”尚未设置机关代字，请管理员先设置后再发文")
    code = unit.doc_code + tpl.schema.numbering_suffix
    date = issue_date or today_in_china()
    seq = allocate_number(session, unit.id, code, date.year)
    number = format_number(code, date.year, seq)
    try:
        docx = render_document(tpl.schema, tpl.docx, version.data, unit_context(unit), number, date)
    except RenderError as exc:
        raise WorkflowError(f"模板无法生成文档，请联系管理员：{exc}") from exc
    sha = store_blob(session, cf.blobs, docx, DOCX_MEDIA)
    doc = IssuedDocument(
        draft_id=draft.id,
        unit_id=unit.id,
        template_version_id=draft.template_version_id,
        title=draft.title,
        number=number,
        number_code=code,
        number_year=date.year,
        number_seq=seq,
        issue_date=date,
        issued_by=p.user.id,
        approved_version_id=version.id,
        approved_sha256=version.docx_sha256,
        docx_sha256=sha,
    )
    session.add(doc)
    draft.status = "issued"
    draft.updated_at = utcnow()
    session.flush()
    for kind in ("index", "rendition"):
        session.add(OutboxEvent(kind=kind, payload={"document_id": doc.id}))
    audit.record(session, "document.issue", actor=p.user, object_type="document",
                 object_id=doc.id, detail={"number": number, "sha256": sha,
                 "approved_sha256": version.docx_sha256, "draft": draft.id},
                 remote_addr=remote_addr)  # fmt: skip
    return doc


def queue(session: Session, p: Principal, cf: Casefile) -> dict[str, list[Draft]]:
    """What waits for this user, what they sent, and (for office heads) all pending drafts."""
    mine = list(
        session.scalars(
            select(Draft)
            .where(Draft.created_by == p.user.id, Draft.status != "issued")
            .order_by(Draft.updated_at.desc())
        )
    )
    reviewer_units = {
        u for u, r in p.grants if r in {"adviser", "public-lawyer", "office-head", "signatory"}
    }
    waiting = []
    if reviewer_units:
        candidates = session.scalars(
            select(Draft)
            .where(Draft.status == "in_review", Draft.unit_id.in_(reviewer_units))
            .order_by(Draft.updated_at)
        )
        for draft in candidates:
            tpl = template_of(cf, session, draft)
            pending = pending_step(
                chain_state(session, draft, tpl, current_version(session, draft))
            )
            if (
                pending
                and p.role_in_unit(pending.step.role, draft.unit_id)
                and draft.created_by != p.user.id
            ):
                if not any(a.user_id == p.user.id for a in pending.approvals):
                    waiting.append(draft)
    ready = list(
        session.scalars(
            select(Draft)
            .where(
                Draft.status == "approved",
                Draft.unit_id.in_(p.units_with("clerk", "office-head") or {-1}),
            )
            .order_by(Draft.updated_at)
        )
    )
    unit_pending: list[Draft] = []
    heads = p.subtree(p.units_with("office-head"))
    if heads:
        unit_pending = list(
            session.scalars(
                select(Draft)
                .where(
                    Draft.status.in_(["in_review", "returned", "approved"]),
                    Draft.unit_id.in_(heads),
                )
                .order_by(Draft.updated_at)
            )
        )
    return {"waiting": waiting, "mine": mine, "ready": ready, "unit_pending": unit_pending}
