"""Drafts and the review chain: create, edit, submit, approve, return, issue.

Long module: the review chain's state machine (draft, submit, approve, return, note, issue) and the queues derived from it share one set of step rules.

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
import logging
from dataclasses import dataclass, field

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.access.policy import CO_SIGN_ROLES, Principal, can, principal
from app.blobs.store import store_blob
from app.common import media_types
from app.common.clock import today_in_china
from app.common.text import check_text
from app.container import Casefile
from app.db.base import utcnow
from app.db.memo import session_memo
from app.drafting import decision_list, facts, notify, sequences, status
from app.drafting.models import (
    Draft,
    DraftVersion,
    IssuedDocument,
    ReviewOpinion,
    ReviewStep,
    VersionCoSignUnit,
)
from app.drafting.numbering import allocate_number, format_number
from app.drafting.opinions import OpinionFile, attach_opinion
from app.drafting.registry import RegistryReferences
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError, require_confirmation
from app.identity.models import ROLE_LABELS, RoleGrant, Unit, User
from app.integrity import checkpoint
from app.jobs.models import OutboxEvent
from app.templating import RenderError, describe_errors, document_title, render_document
from app.templating.catalog import LoadedTemplate
from app.templating.models import TemplateVersion
from app.templating.schema import REFERENCE_TYPES, ChainStep
from app.templating.validation import Checked, check

log = logging.getLogger(__name__)

STATUS_LABELS = {
    "draft": "草稿",
    "in_review": "审核中",
    "returned": "已退回修改",
    "approved": "已审核待发文",
    "issued": "已发文",
    "deleted": "已删除",
}
DECISION_LABELS = {
    "submit": "提交审核",
    "approve": "同意",
    "return": "退回修改",
    "issue": "发文",
    "note": "补充意见",
    "withdraw": "撤回审核",
}
# What a reviewer or an issuer confirms before an act that cannot be undone (the web form's
# checkbox label; the CLI asks it unless --yes; an API call is its own confirmation).
APPROVE_CONFIRMATION = (
    "我已核对审核对象的全文，确认同意。同意意见一经签署即归档，任何人（包括本人）都不能修改或撤销"
)
ISSUE_CONFIRMATION = (
    "我已核对审核稿，确认发文。发文将分配发文字号，文书即成为正式文件，此后不能修改、撤销或删除"
)
CO_SIGN = "co-sign"
STEP_ROLE_LABELS = ROLE_LABELS | {CO_SIGN: "会签单位负责人或签发人", "drafter": "起草人"}


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
    """The draft's review steps in order, each with its user (read once per session until it
    writes: a document's page asks for them, then its slip and the chain state)."""

    def read() -> list[ReviewStep]:
        return list(session.scalars(
            select(ReviewStep).where(ReviewStep.draft_id == draft.id).order_by(ReviewStep.id)
            .options(joinedload(ReviewStep.user).lazyload(User.grants))
        ))  # fmt: skip

    return list(session_memo(session, ("review_steps", draft.id), read))


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


def open_draft(session: Session, p: Principal | None, draft_id: int) -> Draft:
    """The draft, if `p` may read it (None: the operator); NotFound otherwise, so that a draft
    one may not see is indistinguishable from one that does not exist."""
    draft = session.get(Draft, draft_id)
    if draft is None or (p is not None and not can(session, p, "draft.read", draft)):
        raise NotFound(f"草稿 {draft_id} 不存在或您无权查看")
    return draft


def _validated(
    tpl: LoadedTemplate, data: object, refs: RegistryReferences | None = None
) -> Checked:
    """A draft's data as it may be saved: nothing malformed; fields may still be missing."""
    found = check(tpl.schema, data, refs, draft=True)
    if found.errors:
        raise ValidationFailed(
            "表单有误，请按提示修改后重新提交", describe_errors(tpl.schema, found.errors)
        )
    return found


def progress(tpl: LoadedTemplate, data: object) -> Checked:
    """How complete `data` is as a draft of `tpl` (已填写 filled/total 项, what is missing)."""
    return check(tpl.schema, data, draft=True)


def completeness(
    cf: Casefile, session: Session, draft: Draft, version: DraftVersion | None = None
) -> Checked:
    """How complete the draft's current version (or `version`) is."""
    tpl = template_of(cf, session, draft)
    return progress(tpl, (version or current_version(session, draft)).data)


def missing_fields(tpl: LoadedTemplate, found: Checked) -> list[dict[str, str]]:
    """The missing fields of `found`, each with its path, Chinese label and message."""
    return describe_errors(tpl.schema, found.missing)


def _draft_title(tpl: LoadedTemplate, found: Checked) -> str:
    """The record's title; a half-filled draft is called by its template until it is complete
    (document_title would print the blanks)."""
    if found.missing:
        return f"{tpl.schema.title}（未填写完整）"
    return document_title(tpl.schema, found.clean)


def _has_references(tpl: LoadedTemplate) -> bool:
    return any(
        f.type in REFERENCE_TYPES or any(sub.type in REFERENCE_TYPES for sub in f.fields)
        for f in tpl.schema.fields
    )


def _render_version(cf: Casefile, tpl: LoadedTemplate, data: dict, unit: Unit) -> bytes:
    try:
        return render_document(tpl.schema, tpl.docx, data, unit_context(unit))
    except RenderError as exc:
        raise WorkflowError(f"模板无法生成文档，请联系管理员：{exc}") from exc


def _has_co_sign(tpl: LoadedTemplate) -> bool:
    return any(s.role == CO_SIGN for s in tpl.schema.review_chain)


def _co_sign_units(
    session: Session, tpl: LoadedTemplate, drafting_unit_id: int, codes: list[str] | tuple[str, ...]
) -> list[int]:
    """The units named for 会签, checked: known, distinct, not the drafting unit itself."""
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list | tuple):
        raise ValidationFailed(
            "会签单位应为单位代码列表",
            [{"field": "co_sign_units", "label": "会签单位", "message": "应为单位代码列表"}],
        )
    codes = [str(c).strip() for c in codes if str(c).strip()]
    if not codes:
        return []
    if not _has_co_sign(tpl):
        raise ValidationFailed(
            "该文书的审核流程没有会签环节，不能选择会签单位",
            [{"field": "co_sign_units", "label": "会签单位", "message": "该文书无需会签"}],
        )
    found = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    problems = []
    for code in codes:
        unit = found.get(code)
        if unit is None:
            problems.append(f"单位“{code}”不存在")
        elif unit.id == drafting_unit_id:
            problems.append(f"“{unit.name}”是发文单位本身，不能再作为会签单位")
    if problems:
        raise ValidationFailed(
            "会签单位有误：" + "；".join(problems),
            [{"field": "co_sign_units", "label": "会签单位", "message": m} for m in problems],
        )
    return list(dict.fromkeys(found[c].id for c in codes))


def _add_version(
    cf: Casefile,
    session: Session,
    p: Principal,
    draft: Draft,
    tpl: LoadedTemplate,
    found: Checked,
    co_units: list[int] | tuple[int, ...] = (),
) -> DraftVersion:
    data = found.clean
    unit = session.get(Unit, draft.unit_id)
    docx = _render_version(cf, tpl, data, unit)
    sha = store_blob(session, cf.blobs, docx, media_types.DOCX)
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
    draft.title = _draft_title(tpl, found)
    draft.updated_at = utcnow()
    session.flush()
    for unit_id in co_units:
        session.add(VersionCoSignUnit(version_id=version.id, unit_id=unit_id))
    return version


def create_draft(
    cf: Casefile,
    session: Session,
    p: Principal,
    template_id: str,
    data: object,
    unit_code: str | None = None,
    remote_addr: str = "",
    co_sign_units: list[str] | tuple[str, ...] = (),
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
    found = _validated(tpl, data, RegistryReferences(session, p, unit))
    draft = Draft(
        template_version_id=row.id,
        unit_id=unit.id,
        created_by=p.user.id,
        title=_draft_title(tpl, found),
        status="draft",
        current_version=0,
    )
    co_units = _co_sign_units(session, tpl, unit.id, co_sign_units)
    session.add(draft)
    session.flush()
    version = _add_version(cf, session, p, draft, tpl, found, co_units)
    audit.record(
        session, "draft.create", actor=p.user, object_type="draft", object_id=draft.id,
        detail={"template": f"{row.template_id}@{row.version}", "sha256": version.docx_sha256},
        remote_addr=remote_addr,
    )  # fmt: skip
    return draft


def edit_draft(
    cf: Casefile, session: Session, p: Principal, draft_id: int, data: object, remote_addr: str = "",
    co_sign_units: list[str] | tuple[str, ...] | None = None,
) -> DraftVersion:  # fmt: skip
    """A new version (co_sign_units None: keep the current version's co-signing units)."""
    draft = _load_draft(session, draft_id, lock=True)
    if draft.status == "issued":
        raise WorkflowError("该文书已发文，不能再修改；如需更正请另行起草")
    if draft.status == "deleted":
        raise NotFound(f"草稿 {draft_id} 不存在")
    if not can(session, p, "draft.edit", draft):
        raise Forbidden("只有起草人可以修改草稿")
    tpl = template_of(cf, session, draft)
    found = _validated(tpl, data, RegistryReferences(session, p, session.get(Unit, draft.unit_id)))
    previous = current_version(session, draft)
    old_units = co_sign_unit_ids(session, previous)
    co_units = (
        list(old_units)
        if co_sign_units is None
        else _co_sign_units(session, tpl, draft.unit_id, co_sign_units)
    )
    if found.clean == previous.data and tuple(co_units) == old_units:
        raise WorkflowError("内容没有变化，无需保存新版本")
    version = _add_version(cf, session, p, draft, tpl, found, co_units)
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
    unit_id: int | None = None,
) -> ReviewStep:
    step = ReviewStep(
        draft_id=draft.id,
        version_id=version.id,
        version_sha256=version.docx_sha256,
        step_index=index,
        step_name=name,
        role=role,
        unit_id=unit_id or draft.unit_id,
        user_id=p.user.id,
        decision=decision,
        comment=comment,
    )
    session.add(step)
    draft.updated_at = utcnow()
    session.flush()
    return step


def _clean_comment(
    comment: str | None, required: bool = False, what: str = "退回时请写明需要修改的内容"
) -> str:
    text = check_text(comment, "comment", "意见", multiline=True, max_length=2000)
    if required and not text:
        raise ValidationFailed(what, [{"field": "comment", "label": "意见", "message": what}])
    return text


def _refuse_incomplete(
    session: Session, p: Principal, draft: Draft, tpl: LoadedTemplate, version: DraftVersion
) -> None:
    """Submission needs the whole document: every missing field is named at once, and so is a
    reference (a unit, a person, a contract) that is gone since the draft was saved."""
    refs = (
        RegistryReferences(session, p, session.get(Unit, draft.unit_id))
        if _has_references(tpl)
        else None
    )
    found = check(tpl.schema, version.data, refs)
    if found.complete:
        return
    problems = describe_errors(tpl.schema, found.missing | found.errors)
    if found.missing:
        names = "、".join(e["label"] for e in describe_errors(tpl.schema, found.missing))
        message = f"草稿还有{len(found.missing)}处未填写，不能提交审核：{names}"
    else:
        message = "草稿引用的单位、人员或法律顾问已有变化，请修改草稿后再提交"
    raise ValidationFailed(message, problems)


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
    tpl = template_of(cf, session, draft)
    _refuse_incomplete(session, p, draft, tpl, version)
    if _has_co_sign(tpl) and not co_sign_unit_ids(session, version):
        raise ValidationFailed(
            "该文书需要会签，请先修改草稿，选择会签单位后再提交",
            [{"field": "co_sign_units", "label": "会签单位", "message": "请至少选择一个会签单位"}],
        )
    step = _step(session, p, draft, version, "submit", index=None, name="submit",
                 role="drafter", comment=_clean_comment(comment))  # fmt: skip
    draft.status = "in_review"
    audit.record(session, "draft.submit", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"version": version.number, "sha256": version.docx_sha256,
                         "step_id": step.id}, remote_addr=remote_addr)  # fmt: skip
    _notify(cf, session, draft, "submit", p)
    return step


def withdraw_refusal(draft: Draft, states: list[StepState]) -> str | None:
    """Why the drafter may not withdraw the draft now (None: they may)."""
    if draft.status != "in_review":
        return f"草稿当前状态为“{STATUS_LABELS[draft.status]}”，不在审核中，无需撤回"
    if any(st.approvals for st in states):
        return "已有审核人同意，不能再撤回；如需修改，请联系当前环节的审核人退回"
    return None


def delete_refusal(session: Session, draft: Draft) -> str | None:
    """Why the drafter may not delete the draft (None: it was never submitted, so they may)."""
    submitted = session.scalar(
        select(ReviewStep.id).where(ReviewStep.draft_id == draft.id).limit(1)
    )
    if draft.status != "draft" or submitted is not None:
        return "该草稿已提交过审核，不能删除（审核过的版本须留档）；审核前可以撤回后修改"
    return None


def withdraw(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str = "",
    remote_addr: str = "",
) -> ReviewStep:  # fmt: skip
    """撤回: the drafter takes a submitted draft back before anyone approved it. The withdrawal
    is a step of its own (the submission and the version stay on record); the draft is a draft
    again, to be edited and submitted anew."""
    draft = _load_draft(session, draft_id, lock=True)
    if not can(session, p, "draft.edit", draft):
        raise Forbidden("只有起草人可以撤回自己提交的草稿")
    version = current_version(session, draft)
    states = chain_state(session, draft, template_of(cf, session, draft), version)
    why_not = withdraw_refusal(draft, states)
    if why_not:
        raise WorkflowError(why_not)
    step = _step(session, p, draft, version, "withdraw", index=None, name="withdraw",
                 role="drafter", comment=_clean_comment(comment))  # fmt: skip
    draft.status = "draft"
    audit.record(session, "draft.withdraw", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"step": "withdraw", "version": version.number,
                         "sha256": version.docx_sha256, "step_id": step.id},
                 remote_addr=remote_addr)  # fmt: skip
    return step


def delete_draft(session: Session, p: Principal, draft_id: int, remote_addr: str = "") -> Draft:
    """Delete a draft that was never submitted. Its versions are write-once and stay in the
    store; the draft is marked deleted, which hides it from every list and page."""
    draft = _load_draft(session, draft_id, lock=True)
    if not can(session, p, "draft.edit", draft):
        raise Forbidden("只有起草人可以删除自己的草稿")
    why_not = delete_refusal(session, draft)
    if why_not:
        raise WorkflowError(why_not)
    draft.status = "deleted"
    draft.updated_at = utcnow()
    audit.record(session, "draft.delete", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"title": draft.title, "versions": draft.current_version},
                 remote_addr=remote_addr)  # fmt: skip
    return draft


@dataclass(frozen=True)
class ReturnNotice:
    """Why a draft came back: who returned it, at which step (its Chinese name), when, why."""

    who: str
    step_label: str
    role_label: str
    comment: str
    at: dt.datetime


def return_notice(cf: Casefile, session: Session, draft: Draft) -> ReturnNotice | None:
    """The return the drafter still has to answer: the latest return, unless the draft was
    submitted again (or issued) since."""
    if draft.status not in {"returned", "draft"}:
        return None
    last = session.scalars(
        select(ReviewStep)
        .where(
            ReviewStep.draft_id == draft.id,
            ReviewStep.decision.in_(["submit", "return", "withdraw"]),
        )
        .order_by(ReviewStep.id.desc())
        .limit(1)
    ).first()
    if last is None or last.decision != "return":
        return None
    chain = template_of(cf, session, draft).schema.review_chain
    index = last.step_index
    label = chain[index].label if index is not None and index < len(chain) else last.step_name
    return ReturnNotice(who=last.user.name, step_label=label,
                        role_label=STEP_ROLE_LABELS.get(last.role, last.role),
                        comment=last.comment, at=last.created_at)  # fmt: skip


def review_slot(
    session: Session, p: Principal, draft: Draft, states: list[StepState]
) -> ReviewSlot:
    """The step this principal may fill now on the current version, or why not (raises)."""
    if draft.status != "in_review":
        raise WorkflowError(f"草稿当前状态为“{STATUS_LABELS[draft.status]}”，不在审核中")
    if not can(session, p, "draft.review", draft):
        raise Forbidden("您在该单位没有审核权限")
    pending = pending_step(states)
    if pending is None:
        raise WorkflowError("所有审核环节已完成")
    if pending.step.role == CO_SIGN:
        slot = next(
            (
                ReviewSlot(pending, unit_id, CO_SIGN)
                for unit_id in pending.open_units()
                for role in CO_SIGN_ROLES
                if (unit_id, role) in p.grants
            ),
            None,
        )
        if slot is None:
            names = "、".join(session.get(Unit, u).name for u in pending.open_units())
            raise Forbidden(
                f"当前环节“{pending.step.label}”需由会签单位（{names}）的负责人或签发人办理"
            )
    elif p.role_in_unit(pending.step.role, draft.unit_id):
        role = pending.step.role
        if role == "adviser" and (draft.unit_id, "adviser") not in p.grants:
            role = "public-lawyer"  # record the role actually held
        slot = ReviewSlot(pending, draft.unit_id, role)
    else:
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
    return slot


def _reviewable(
    cf: Casefile, session: Session, p: Principal, draft: Draft
) -> tuple[DraftVersion, list[StepState], ReviewSlot]:
    if draft.status != "in_review":
        raise WorkflowError(f"草稿当前状态为“{STATUS_LABELS[draft.status]}”，不在审核中")
    tpl = template_of(cf, session, draft)
    version = current_version(session, draft)
    states = chain_state(session, draft, tpl, version)
    return version, states, review_slot(session, p, draft, states)


def approve(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str = "",
    remote_addr: str = "", opinion: OpinionFile | None = None, *, confirmed: bool = True,
) -> ReviewStep:  # fmt: skip
    """Approve the pending step. A signed approval cannot be undone: a surface that takes a
    click passes the user's confirmation of APPROVE_CONFIRMATION as `confirmed`."""
    draft = _load_draft(session, draft_id, lock=True)
    return _decide(cf, session, p, draft, "approve", _clean_comment(comment), opinion, remote_addr,
                   confirmed=confirmed)  # fmt: skip


def return_draft(
    cf: Casefile, session: Session, p: Principal, draft_id: int, comment: str,
    remote_addr: str = "", opinion: OpinionFile | None = None,
) -> ReviewStep:  # fmt: skip
    draft = _load_draft(session, draft_id, lock=True)
    text = _clean_comment(comment, required=True)
    return _decide(cf, session, p, draft, "return", text, opinion, remote_addr)


def _decide(
    cf: Casefile, session: Session, p: Principal, draft: Draft, decision: str, comment: str,
    opinion: OpinionFile | None, remote_addr: str, *, confirmed: bool = True,
) -> ReviewStep:  # fmt: skip
    """Fill the pending step with `decision` ("approve" or "return"): the step, its opinion,
    the draft's new status, the audit entry and the notification."""
    version, states, slot = _reviewable(cf, session, p, draft)
    if decision == "approve":  # after the refusals: who may not act hears why, not "confirm"
        require_confirmation(confirmed, APPROVE_CONFIRMATION)
    pending = slot.state
    if decision == "approve" and pending.step.role in decision_list.SIGN_OFF_ROLES:
        refusal = decision_list.sign_off_refusal(session, draft, version)  # 决策事项清单
        if refusal:
            raise WorkflowError(refusal)
    step = _step(session, p, draft, version, decision, index=pending.index,
                 name=pending.step.name, role=slot.role, unit_id=slot.unit_id,
                 comment=comment)  # fmt: skip
    attach_opinion(cf, session, step, opinion)
    if decision == "return":
        draft.status = "returned"
    else:
        pending.approvals.append(step)
        if pending_step(states) is None:
            draft.status = "approved"
    audit.record(session, f"draft.{decision}", actor=p.user, object_type="draft",
                 object_id=draft.id, detail={"step": pending.step.name, "version": version.number,
                                             "sha256": version.docx_sha256, "step_id": step.id},
                 remote_addr=remote_addr)  # fmt: skip
    _notify(cf, session, draft, decision, p)
    return step


def add_note(
    cf: Casefile, session: Session, p: Principal, draft_id: int, supersedes: int, comment: str,
    remote_addr: str = "", opinion: OpinionFile | None = None,
) -> ReviewStep:  # fmt: skip
    """A later opinion that supersedes one of the author's own steps; the earlier one stays.

    Nobody can edit a signed opinion; this is how its author corrects or adds to it, also after
    issuance. A note never counts as an approval and does not move the chain."""
    draft = _load_draft(session, draft_id, lock=True)
    if not can(session, p, "draft.read", draft):
        raise NotFound(f"草稿 {draft_id} 不存在")
    earlier = session.get(ReviewStep, supersedes)
    if earlier is None or earlier.draft_id != draft.id:
        raise NotFound(f"办理记录 {supersedes} 不属于草稿 {draft_id}")
    if earlier.user_id != p.user.id or earlier.decision not in {"approve", "return", "note"}:
        raise Forbidden("只能对自己签署的审核意见作补充说明，他人的意见任何人不得改动")
    text = _clean_comment(comment, required=True, what="请写明补充或更正的意见")
    version = session.get(DraftVersion, earlier.version_id)
    step = _step(session, p, draft, version, "note", index=None, name=earlier.step_name,
                 role=earlier.role, unit_id=earlier.unit_id, comment=text)  # fmt: skip
    attach_opinion(cf, session, step, opinion, supersedes=earlier)
    audit.record(session, "draft.note", actor=p.user, object_type="draft", object_id=draft.id,
                 detail={"supersedes": earlier.id, "step": step.id,
                         "sha256": version.docx_sha256}, remote_addr=remote_addr)  # fmt: skip
    return step


def issue(
    cf: Casefile, session: Session, p: Principal, draft_id: int, remote_addr: str = "",
    issue_date: dt.date | None = None, *, confirmed: bool = True,
) -> IssuedDocument:  # fmt: skip
    """BEGIN; allocate number; render approved data + number + date; blob; record; outbox;
    audit. Issuing cannot be undone: a surface that takes a click passes the user's
    confirmation of ISSUE_CONFIRMATION as `confirmed`. The processing slip (发文稿纸) is
    archived from the outbox right after the commit: it is built from these records only
    (steps up to issued_at), so it is the same bytes whenever it is made, and issuing does not
    wait for it."""
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
    refusal = decision_list.sign_off_refusal(session, draft, version)  # 决策事项清单
    if refusal:
        raise WorkflowError(refusal)
    unit = session.get(Unit, draft.unit_id)
    if not unit.doc_code:
        raise WorkflowError(f"“{unit.name}”尚未设置机关代字，请管理员先设置后再发文")
    require_confirmation(confirmed, ISSUE_CONFIRMATION)
    code = unit.doc_code + tpl.schema.numbering_suffix
    date = issue_date or today_in_china()
    status.refuse_if_target_closed(session, draft)  # a correction of a document still in force
    sequences.refuse_if_behind(cf.settings, session, unit, code, date.year)
    seq = allocate_number(session, unit.id, code, date.year)
    number = format_number(code, date.year, seq)
    try:
        docx = render_document(tpl.schema, tpl.docx, version.data, unit_context(unit), number, date)
    except RenderError as exc:
        raise WorkflowError(f"模板无法生成文档，请联系管理员：{exc}") from exc
    sha = store_blob(session, cf.blobs, docx, media_types.DOCX)
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
        issued_at=utcnow(),
        issued_by=p.user.id,
        approved_version_id=version.id,
        approved_sha256=version.docx_sha256,
        docx_sha256=sha,
    )
    session.add(doc)
    draft.status = "issued"
    draft.updated_at = utcnow()
    session.flush()
    facts.record(session, doc, version.data)  # what supervision counts of it
    for kind in ("slip", "index", "rendition"):
        session.add(OutboxEvent(kind=kind, payload={"document_id": doc.id}))
    status.supersede_on_issue(session, p, draft, doc, remote_addr)  # 替代, for a correction
    audit.record(session, "document.issue", actor=p.user, object_type="document",
                 object_id=doc.id, detail={"number": number, "sha256": sha,
                 "approved_sha256": version.docx_sha256, "draft": draft.id, "title": doc.title,
                 "issue_date": date.isoformat(),
                 "issued_at": doc.issued_at.isoformat(timespec="microseconds")},
                 remote_addr=remote_addr)  # fmt: skip
    _advance_checkpoint_after_commit(cf, session, unit, (unit.id, code, date.year), seq)
    _notify(cf, session, draft, "issue", p)
    return doc


def _advance_checkpoint_after_commit(
    cf: Casefile, session: Session, unit: Unit, key: tuple[int, str, int], seq: int
) -> None:
    """Once the issuing transaction commits, the audit checkpoint outside the database learns
    the new head and number (a crash in between leaves it one behind: `verify` catches up)."""
    head = checkpoint.head_of(session)  # this transaction's own document.issue entry
    new = checkpoint.Checkpoint(head=head, sequences={key: seq}, units={unit.id: unit.code})

    def write(_session: Session) -> None:
        try:
            checkpoint.advance(cf.settings, new)
        except (OSError, checkpoint.CheckpointError):
            log.exception("could not advance the audit checkpoint after issuing %s", seq)

    sa_event.listen(session, "after_commit", write, once=True)


def _notify(cf: Casefile, session: Session, draft: Draft, event: str, p: Principal) -> None:
    """Queue e-mail about this step in this transaction (notify says who is told what)."""
    if not cf.settings.smtp_host:
        return
    try:
        waiting = None
        if draft.status == "in_review":
            states = chain_state(
                session, draft, template_of(cf, session, draft), current_version(session, draft)
            )
            pending = pending_step(states)
            waiting = notify.Waiting(
                reviewers_for(session, draft, states), pending.step.label if pending else None
            )
        mails = notify.mails_for(session, draft, event, p, waiting)
    except Exception:  # noqa: BLE001 - notification trouble never blocks the workflow
        log.exception("could not work out notification recipients for draft %s", draft.id)
        return
    notify.queue_mails(session, draft, mails)


def opinions_of(session: Session, draft: Draft) -> dict[int, ReviewOpinion]:
    """Written opinions (files, supersessions) by review step id."""
    return {
        o.step_id: o
        for o in session.scalars(
            select(ReviewOpinion)
            .join(ReviewStep, ReviewStep.id == ReviewOpinion.step_id)
            .where(ReviewStep.draft_id == draft.id)
        )
    }


def reviewers_for(session: Session, draft: Draft, states: list[StepState]) -> list[int]:
    """User ids who could fill the pending step now (for notifications and the head's view)."""

    pending = pending_step(states)
    if pending is None or draft.status != "in_review":
        return []
    if pending.step.role == CO_SIGN:
        pairs = [(u, r) for u in pending.open_units() for r in CO_SIGN_ROLES]
    else:
        roles = (
            ["adviser", "public-lawyer"] if pending.step.role == "adviser" else [pending.step.role]
        )
        pairs = [(draft.unit_id, r) for r in roles]
    user_ids = {
        g.user_id
        for unit_id, role in pairs
        for g in session.scalars(
            select(RoleGrant).where(RoleGrant.unit_id == unit_id, RoleGrant.role == role)
        )
    }
    out = []
    for uid in sorted(user_ids):
        user = session.get(User, uid)
        try:
            review_slot(session, principal(session, user), draft, states)
        except WorkflowError:
            continue
        out.append(uid)
    return out


def _co_sign_candidates(session: Session, p: Principal) -> list[Draft]:
    units = p.units_with(*CO_SIGN_ROLES)
    if not units:
        return []
    return list(
        session.scalars(
            select(Draft)
            .join(
                DraftVersion,
                (DraftVersion.draft_id == Draft.id)
                & (DraftVersion.number == Draft.current_version),
            )
            .join(VersionCoSignUnit, VersionCoSignUnit.version_id == DraftVersion.id)
            .where(Draft.status == "in_review", VersionCoSignUnit.unit_id.in_(units))
            .distinct()
        )
    )


def queue(session: Session, p: Principal, cf: Casefile) -> dict[str, list[Draft]]:
    """What waits for this user, what they sent, and (for office heads) all pending drafts.

    Lists come oldest first where they are work to do; `waiting_since` gives the age."""
    mine = list(
        session.scalars(
            select(Draft)
            .where(Draft.created_by == p.user.id, Draft.status.not_in(["issued", "deleted"]))
            .order_by(Draft.updated_at.desc())
        )
    )
    reviewer_units = {
        u for u, r in p.grants if r in {"adviser", "public-lawyer", "office-head", "signatory"}
    }
    candidates: dict[int, Draft] = {}
    if reviewer_units:
        for draft in session.scalars(
            select(Draft)
            .where(Draft.status == "in_review", Draft.unit_id.in_(reviewer_units))
            .order_by(Draft.updated_at)
        ):
            candidates[draft.id] = draft
    for draft in _co_sign_candidates(session, p):
        candidates.setdefault(draft.id, draft)
    waiting = []
    for draft in sorted(candidates.values(), key=lambda d: (d.updated_at, d.id)):
        tpl = template_of(cf, session, draft)
        states = chain_state(session, draft, tpl, current_version(session, draft))
        try:
            review_slot(session, p, draft, states)
        except WorkflowError:
            continue
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


def waiting_since(session: Session, draft: Draft) -> dt.datetime:
    """When the draft last moved (a step, an edit): the age shown in the work queues."""
    last = session.scalar(
        select(ReviewStep.created_at)
        .where(ReviewStep.draft_id == draft.id, ReviewStep.decision != "note")
        .order_by(ReviewStep.id.desc())
        .limit(1)
    )
    return max(filter(None, (last, draft.updated_at)))


def pending_summary(cf: Casefile, session: Session, draft: Draft) -> str:
    """Where a draft stands, in words a clerk reads in the queue."""
    if draft.status == "in_review":
        tpl = template_of(cf, session, draft)
        pending = pending_step(chain_state(session, draft, tpl, current_version(session, draft)))
        if pending is not None:
            if pending.step.role == CO_SIGN:
                names = "、".join(session.get(Unit, u).name for u in pending.open_units())
                return f"待{pending.step.label}（{names}）"
            got = (
                f"，已{len(pending.approvals)}/{pending.step.approvals}人"
                if pending.step.approvals > 1
                else ""
            )
            return f"待{pending.step.label}（{pending.role_label}{got}）"
    if draft.status == "returned":
        return "已退回，待起草人修改后重新提交"
    if draft.status == "approved":
        return "审核完毕，待发文"
    if draft.status == "draft":
        return "未提交审核"
    return STATUS_LABELS.get(draft.status, draft.status)
