"""Matters (法律事务): register, assign (指派), accept or decline, record progress (承办), report
back (反馈), close (办结) or return (退回). Who may do what is app.access.policy's answer; the
state machine is `TRANSITIONS`; every act is a write-once `MatterEvent` and an audit entry.

Functions take the caller's session and principal and run in the caller's transaction.

Long module: one matter's whole life (the state machine, its checks and its records) is read
together; deployment, letters, the decision list and the counts live beside it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.access.policy import Principal, can, is_inspector_read, visible_matters
from app.blobs.store import store_blob
from app.casefiles.attachments import InspectedUpload
from app.casefiles.models import CaseFile
from app.common.clock import today_in_china
from app.container import Casefile
from app.db.base import utcnow
from app.drafting.drafts import STATUS_LABELS as DRAFT_STATUS_LABELS
from app.drafting.models import Draft, IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import RoleGrant, Unit, User
from app.matters.models import (
    ACTIVE,
    KINDS,
    PARTY_ROLES,
    STATUS_LABELS,
    Deployment,
    LawyerProfile,
    Matter,
    MatterDocument,
    MatterEvent,
)
from app.templating.formats import format_problem

#: action -> (states it may start from, state it leads to); None: the state does not change
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "assign": (("pending",), "assigned"),
    "accept": (("assigned",), "handling"),
    "decline": (("assigned",), "pending"),
    "note": (("handling",), None),
    "feedback": (("handling",), "reported"),
    "close": (("reported",), "closed"),
    "return": (("pending", "assigned"), "returned"),
}
ACTION_LABELS = {"assign": "指派", "accept": "接受指派", "decline": "拒绝指派",
                 "note": "记录承办情况", "feedback": "反馈", "close": "办结", "return": "退回"}  # fmt: skip
#: 答辩期 and the like: days from service (送达) to the deadline, by kind
SERVICE_DEADLINES = {
    "admin-litigation": ("答辩期", 15),  # 行政诉讼法 第67条
    "civil-litigation": ("答辩期", 15),  # 民事诉讼法 第128条
    "arbitration": ("答辩期", 15),  # 仲裁法 第25条 (仲裁规则可另定)
    "reconsideration": ("答复期", 10),  # 行政复议法 第48条
}
#: act -> (the policy's right it needs, how a refusal reads)
RIGHTS: dict[str, tuple[str, str]] = {
    "assign": ("matter.assign", "只有本单位法律顾问室负责人可以指派"),
    "accept": ("matter.handle", "只有被指派的承办人可以接受指派"),
    "decline": ("matter.handle", "只有被指派的承办人可以拒绝指派"),
    "note": ("matter.handle", "只有承办人可以填写承办记录"),
    "feedback": ("matter.handle", "只有承办人可以填写反馈"),
    "close": ("matter.assign", "只有本单位法律顾问室负责人可以办结"),
    "return": ("matter.assign", "只有本单位法律顾问室负责人可以退回"),
    "request": ("matter.assign", "只有本单位法律顾问室负责人可以申请调配"),
}
SOON_DAYS = 7  # a deadline this close shows on the home pages
MAX_TEXT = 2000


def _field(field: str, label: str, message: str) -> dict:
    return {"field": field, "label": label, "message": message}


def _refuse(errors: list[dict], what: str = "法律事务信息有误") -> ValidationFailed:
    return ValidationFailed(what + "：" + "；".join(f"{e['label']}{e['message']}" for e in errors),
                            errors)  # fmt: skip


def _text(value, field: str, label: str, limit: int, errors: list, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        errors.append(_field(field, label, "应为文字"))
        return ""
    text = (value or "").strip()
    if required and not text:
        errors.append(_field(field, label, "必填"))
    elif len(text) > limit:
        errors.append(_field(field, label, f"不能超过{limit}字"))
    elif "\x00" in text:
        errors.append(_field(field, label, "不能含有空字符"))
    return text


def _date(value, field: str, label: str, errors: list) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(_field(field, label, "应为 YYYY-MM-DD 格式的日期"))
        return None
    if not 1949 <= day.year <= today_in_china().year + 10:
        errors.append(_field(field, label, "日期超出合理范围"))
        return None
    return day


def default_deadline(kind: str, served_on: dt.date | None) -> tuple[str, dt.date | None]:
    """The statutory deadline counted from service (e.g. 答辩期: 15 days), or ("", None)."""
    if served_on is None or kind not in SERVICE_DEADLINES:
        return "", None
    label, days = SERVICE_DEADLINES[kind]
    return label, served_on + dt.timedelta(days=days)


def get_matter(session: Session, p: Principal | None, matter_id: int) -> Matter:
    """The matter if `p` may read it (None: the operator); NotFound otherwise."""
    matter = session.get(Matter, matter_id)
    if matter is None or (p is not None and not can(session, p, "matter.read", matter)):
        raise NotFound(f"法律事务 {matter_id} 不存在或您无权查看")
    return matter


def open_matter(session: Session, p: Principal | None, matter_id: int, *, via: str = "",
                remote_addr: str = "") -> Matter:  # fmt: skip
    """A single read; an inspector's read across units is audited."""
    matter = get_matter(session, p, matter_id)
    if p is not None and is_inspector_read(p, matter.unit_id):
        audit.record(session, "matter.read", actor=p.user, object_type="matter",
                     object_id=matter.id, detail={"via": via}, remote_addr=remote_addr,
                     at_commit=True)  # fmt: skip
    return matter


def matters_query(p: Principal | None, *, status: str | None = None, unit_code: str | None = None,
                  kind: str | None = None, mine: bool = False) -> Select:  # fmt: skip
    query = select(Matter).order_by(Matter.created_at.desc(), Matter.id.desc())
    if p is not None:
        query = query.where(visible_matters(p))
        if mine:
            query = query.where(Matter.lawyer_id == p.user.id)
    if status:
        query = query.where(Matter.status == status)
    if kind:
        query = query.where(Matter.kind == kind)
    if unit_code:
        query = query.join(Unit, Unit.id == Matter.unit_id).where(Unit.code == unit_code)
    return query


def find_matters(session: Session, p: Principal | None, *, status: str | None = None,
                 unit_code: str | None = None, kind: str | None = None,
                 mine: bool = False) -> Select:  # fmt: skip
    """The query of the matters `p` reads, with the filters as given; a bad one is refused by
    field (status, unit, kind). Lists and counts both use it."""
    errors = []
    if status not in (None, "") and status not in STATUS_LABELS:
        errors.append(_field("status", "状态", "应为：" + "、".join(STATUS_LABELS)))
    if kind not in (None, "") and kind not in KINDS:
        errors.append(_field("kind", "类别", "应为：" + "、".join(KINDS)))
    if unit_code and session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
        errors.append(_field("unit", "单位", f"单位“{unit_code}”不存在"))
    if errors:
        raise _refuse(errors, "查询条件有误")
    return matters_query(p, status=status or None, unit_code=unit_code or None,
                         kind=kind or None, mine=mine)  # fmt: skip


def count_matters(session: Session, query: Select) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def creatable_units(session: Session, p: Principal) -> list[Unit]:
    return [u for u in session.scalars(select(Unit).order_by(Unit.code))
            if can(session, p, "matter.create", u)]  # fmt: skip


def case_file_choices(session: Session, p: Principal, units: list[Unit]) -> list[tuple[int, str]]:
    """The open case files a new matter's material may go into: those `p` reads in the units
    where `p` registers matters (the same rule create_matter applies), newest first, each
    with a label that tells them apart (title, unit, year)."""
    names = {u.id: u.name for u in units}
    cases = session.scalars(select(CaseFile).where(
        CaseFile.status == "open", CaseFile.unit_id.in_(names or {-1}))
        .order_by(CaseFile.created_at.desc(), CaseFile.id.desc()))  # fmt: skip
    return [(c.id, f"{c.title}（{names[c.unit_id]}，{c.created_at.year}年立卷，编号 {c.id}）")
            for c in cases if can(session, p, "casefile.read", c)]  # fmt: skip


def case_file_of(session: Session, p: Principal, matter: Matter) -> CaseFile | None:
    """The matter's case file, if `p` reads it (a deployed lawyer may not: then no link)."""
    case = session.get(CaseFile, matter.case_file_id) if matter.case_file_id else None
    return case if case is not None and can(session, p, "casefile.read", case) else None


def _event(session: Session, p: Principal, matter: Matter, kind: str, *, comment: str = "",
           lawyer_id: int | None = None, upload: tuple[str, str] | None = None,
           justified: bool | None = None, ruling_of: int | None = None,
           remote_addr: str = "", via: str = "", detail: dict | None = None) -> MatterEvent:  # fmt: skip
    event = MatterEvent(
        matter_id=matter.id, kind=kind, user_id=p.user.id, unit_id=p.user.unit_id,
        lawyer_id=lawyer_id, comment=comment, justified=justified, ruling_of=ruling_of,
        file_sha256=upload[0] if upload else None, file_name=upload[1] if upload else "",
    )  # fmt: skip
    session.add(event)
    matter.updated_at = utcnow()
    session.flush()
    audit.record(session, f"matter.{kind}", actor=p.user, object_type="matter",
                 object_id=matter.id,
                 detail={"event": event.id, "status": matter.status, "via": via,
                         "sha256": event.file_sha256, **(detail or {})},
                 remote_addr=remote_addr)  # fmt: skip
    return event


def _move(matter: Matter, action: str) -> None:
    sources, target = TRANSITIONS[action]
    if matter.status not in sources:
        raise WorkflowError(
            f"该法律事务当前状态为“{STATUS_LABELS[matter.status]}”，不能{ACTION_LABELS[action]}"
        )
    if target is not None:
        matter.status = target


def authorize(session: Session, p: Principal, matter_id: int, act: str) -> Matter:
    """The matter if `p` may do `act` (a RIGHTS key) on it: NotFound unless it is readable,
    Forbidden unless the policy allows the act. The API asks this before reading a body, so
    a caller without the right is refused before being told what the body lacks."""
    right, refusal = RIGHTS[act]
    matter = get_matter(session, p, matter_id)
    if not can(session, p, right, matter):
        raise Forbidden(refusal)
    return matter


def _load(session: Session, p: Principal, matter_id: int, action: str, refusal: str) -> Matter:
    query = select(Matter).where(Matter.id == matter_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    matter = session.scalars(query).first()
    if matter is None or not can(session, p, "matter.read", matter):
        raise NotFound(f"法律事务 {matter_id} 不存在或您无权查看")
    if not can(session, p, action, matter):
        raise Forbidden(refusal)
    return matter


def create_matter(session: Session, p: Principal, *, unit_code: str, kind: str, title: str,
                  parties: str = "", party_role: str = "", case_number: str = "", body: str = "",
                  specialty: str = "", served_on=None, deadline=None, deadline_label: str = "",
                  note: str = "", case_file_id: int | None = None, remote_addr: str = "",
                  via: str = "") -> Matter:  # fmt: skip
    """登记: a new matter, 待指派. A 案号 is checked as a template's court_case_number field is;
    the deadline defaults to the statutory one counted from service (答辩期 15 days)."""
    errors: list[dict] = []
    unit = session.scalars(select(Unit).where(Unit.code == (unit_code or ""))).first()
    if unit is None:
        errors.append(_field("unit", "单位", f"单位“{unit_code}”不存在"))
    if kind not in KINDS:
        errors.append(_field("kind", "类别", "应为：" + "、".join(KINDS.values())))
    title = _text(title, "title", "事由", 200, errors, required=True)
    parties = _text(parties, "parties", "当事人", 500, errors)
    party_role = _text(party_role, "party_role", "本单位地位", 10, errors)
    if party_role and party_role not in PARTY_ROLES:
        errors.append(_field("party_role", "本单位地位", "应为：" + "、".join(PARTY_ROLES)))
    case_number = _text(case_number, "case_number", "案号", 60, errors)
    if case_number:
        problem = format_problem("court_case_number", case_number)
        if problem:
            errors.append(_field("case_number", "案号", problem))
    body = _text(body, "body", "受理机关", 100, errors)
    specialty = _text(specialty, "specialty", "所需专长", 60, errors)
    deadline_label = _text(deadline_label, "deadline_label", "期限名称", 30, errors)
    note = _text(note, "note", "备注", MAX_TEXT, errors)
    served = _date(served_on, "served_on", "送达日期", errors)
    due = _date(deadline, "deadline", "办理期限", errors)
    case = None
    if case_file_id is not None:
        case = session.get(CaseFile, case_file_id)
        if case is None or not can(session, p, "casefile.read", case):
            errors.append(_field("case_file", "案卷", f"案卷 {case_file_id} 不存在或您无权查看"))
        elif unit is not None and case.unit_id != unit.id:
            errors.append(_field("case_file", "案卷", "案卷应属于本事务的单位"))
    if errors:
        raise _refuse(errors)
    if not can(session, p, "matter.create", unit):
        raise Forbidden(f"您无权在“{unit.name}”登记法律事务")
    if due is None:
        deadline_label, due = (
            (deadline_label, None)
            if not served
            else (
                deadline_label or default_deadline(kind, served)[0],
                default_deadline(kind, served)[1],
            )
        )
    matter = Matter(
        unit_id=unit.id, kind=kind, title=title, parties=parties, party_role=party_role,
        case_number=case_number, body=body, specialty=specialty, served_on=served, deadline=due,
        deadline_label=deadline_label if due else "", note=note, status="pending",
        case_file_id=case.id if case else None, created_by=p.user.id,
    )  # fmt: skip
    session.add(matter)
    session.flush()
    _event(session, p, matter, "create", remote_addr=remote_addr, via=via,
           detail={"kind": kind, "unit": unit.code, "title": title})  # fmt: skip
    return matter


def has_public_lawyer(session: Session, unit_id: int) -> bool:
    return session.scalar(
        select(RoleGrant.id)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.unit_id == unit_id, RoleGrant.role == "public-lawyer", User.active)
        .limit(1)
    ) is not None  # fmt: skip


def current_load(session: Session, user_id: int) -> int:
    """Matters the lawyer holds now (已指派, 承办中, 已反馈)."""
    return session.scalar(
        select(func.count()).select_from(Matter)
        .where(Matter.lawyer_id == user_id, Matter.status.in_(ACTIVE))
    ) or 0  # fmt: skip


def assignable_lawyers(session: Session, matter: Matter) -> list[User]:
    """Who the unit's head may assign: its public lawyers, or its advisers where it has none
    (公职律师 first; 法律顾问 as the policy's transition, 法律顾问过渡衔接)."""
    role = "public-lawyer" if has_public_lawyer(session, matter.unit_id) else "adviser"
    return list(session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.unit_id == matter.unit_id, RoleGrant.role == role, User.active)
        .order_by(User.name, User.id).distinct()
    ))  # fmt: skip


def deployed_lawyer(session: Session, matter: Matter) -> Deployment | None:
    return session.scalars(
        select(Deployment).where(Deployment.matter_id == matter.id,
                                 Deployment.status == "deployed")
        .order_by(Deployment.id.desc()).limit(1)
    ).first()  # fmt: skip


def _user(session: Session, ref, field: str = "lawyer") -> User:
    query = select(User)
    if isinstance(ref, int) and not isinstance(ref, bool):
        query = query.where(User.id == ref)
    else:
        query = query.where(User.username == str(ref or "").strip().lower())
    user = session.scalars(query).first()
    if user is None or not user.active:
        raise ValidationFailed(f"用户“{ref}”不存在或已停用",
                               [_field(field, "承办人", "用户不存在或已停用")])  # fmt: skip
    return user


def assign(session: Session, p: Principal, matter_id: int, lawyer, comment: str = "",
           remote_addr: str = "", via: str = "") -> Matter:  # fmt: skip
    """指派: the unit's office head gives the matter to one of its public lawyers (or, where it
    has none, an adviser). Lawyers from other units come through a deployment (调配)."""
    matter = _load(session, p, matter_id, *RIGHTS["assign"])
    errors: list[dict] = []
    comment = _text(comment, "comment", "说明", MAX_TEXT, errors)
    if errors:
        raise _refuse(errors)
    user = _user(session, lawyer)
    if user.id not in {u.id for u in assignable_lawyers(session, matter)}:
        raise ValidationFailed(
            f"“{user.name}”不是本单位的公职律师（本单位无公职律师时为法律顾问），不能指派；"
            "本单位没有公职律师的，请向上级单位申请调配",
            [_field("lawyer", "承办人", "应为本单位的公职律师或法律顾问")],
        )
    _move(matter, "assign")
    matter.lawyer_id, matter.assigned_at = user.id, utcnow()
    _event(session, p, matter, "assign", comment=comment, lawyer_id=user.id,
           remote_addr=remote_addr, via=via, detail={"lawyer": user.username})  # fmt: skip
    return matter


def accept(session: Session, p: Principal, matter_id: int, comment: str = "",
           remote_addr: str = "", via: str = "") -> Matter:  # fmt: skip
    return _step_with_comment(session, p, matter_id, "accept", "accepted_at", comment,
                              remote_addr, via)  # fmt: skip


def decline(session: Session, p: Principal, matter_id: int, reason: str,
            remote_addr: str = "", via: str = "") -> Matter:  # fmt: skip
    """拒绝: back to 待指派 with the reason; the office head later rules whether the cause is
    justified (无正当理由拒不办理 counts against the lawyer in the assessment)."""
    matter = _load(session, p, matter_id, *RIGHTS["decline"])
    errors: list[dict] = []
    reason = _text(reason, "reason", "拒绝理由", MAX_TEXT, errors, required=True)
    if errors:
        raise _refuse(errors, "请写明拒绝理由")
    _move(matter, "decline")
    matter.lawyer_id, matter.assigned_at = None, None
    for d in session.scalars(select(Deployment).where(Deployment.matter_id == matter.id,
                                                      Deployment.status == "deployed")):  # fmt: skip
        d.status, d.lawyer_id, d.lawyer_unit_id = (
            "requested",
            None,
            None,
        )  # the upper unit picks again
    _event(session, p, matter, "decline", comment=reason, lawyer_id=p.user.id,
           remote_addr=remote_addr, via=via)  # fmt: skip
    return matter


def rule_decline(session: Session, p: Principal, matter_id: int, event_id: int, justified: bool,
                 comment: str = "", remote_addr: str = "", via: str = "") -> MatterEvent:  # fmt: skip
    """认定: the office head rules a decline's cause justified or not (a later ruling wins)."""
    matter = _load(
        session, p, matter_id, "matter.assign", "只有本单位法律顾问室负责人可以认定拒绝理由"
    )
    declined = session.get(MatterEvent, event_id)
    if declined is None or declined.matter_id != matter.id or declined.kind != "decline":
        raise NotFound(f"办理记录 {event_id} 不是本事务的拒绝记录")
    if not isinstance(justified, bool):
        raise ValidationFailed("请选择是否有正当理由", [_field("justified", "认定", "应为是或否")])
    errors: list[dict] = []
    comment = _text(comment, "comment", "说明", MAX_TEXT, errors)
    if errors:
        raise _refuse(errors)
    return _event(session, p, matter, "rule", comment=comment, lawyer_id=declined.lawyer_id,
                  justified=justified, ruling_of=declined.id, remote_addr=remote_addr, via=via,
                  detail={"decline": declined.id, "justified": justified})  # fmt: skip


def _stored(
    cf: Casefile, session: Session, upload: InspectedUpload | None
) -> tuple[str, str] | None:
    if upload is None:
        return None
    return store_blob(session, cf.blobs, upload.data, upload.media_type), upload.name


def record_progress(cf: Casefile, session: Session, p: Principal, matter_id: int, text: str,
                    upload: InspectedUpload | None = None, *, final: bool = False,
                    remote_addr: str = "", via: str = "") -> MatterEvent:  # fmt: skip
    """承办记录 (a progress note) or, with `final`, the 办理反馈 that moves it to 已反馈; either
    may carry one file (checked by casefiles.attachments.inspect_upload before the transaction)."""
    what = "反馈" if final else "承办记录"
    matter = _load(session, p, matter_id, *RIGHTS["feedback" if final else "note"])
    errors: list[dict] = []
    text = _text(text, "text", what, MAX_TEXT, errors, required=True)
    if errors:
        raise _refuse(errors, f"请填写{what}")
    _move(matter, "feedback" if final else "note")
    if final:
        matter.reported_at = utcnow()
    return _event(session, p, matter, "feedback" if final else "note", comment=text,
                  upload=_stored(cf, session, upload), remote_addr=remote_addr, via=via)  # fmt: skip


def close(session: Session, p: Principal, matter_id: int, comment: str = "",
          remote_addr: str = "", via: str = "") -> Matter:  # fmt: skip
    return _step_with_comment(session, p, matter_id, "close", "closed_at", comment,
                              remote_addr, via)  # fmt: skip


def _step_with_comment(session: Session, p: Principal, matter_id: int, act: str, stamp: str,
                       comment: str, remote_addr: str, via: str) -> Matter:  # fmt: skip
    """A step that takes only an optional comment (接受指派, 办结): the right, the move, the
    time it happened (`stamp`) and its event."""
    matter = _load(session, p, matter_id, *RIGHTS[act])
    errors: list[dict] = []
    comment = _text(comment, "comment", "说明", MAX_TEXT, errors)
    if errors:
        raise _refuse(errors)
    _move(matter, act)
    setattr(matter, stamp, utcnow())
    _event(session, p, matter, act, comment=comment, remote_addr=remote_addr, via=via)
    return matter


def return_matter(session: Session, p: Principal, matter_id: int, reason: str,
                  remote_addr: str = "", via: str = "") -> Matter:  # fmt: skip
    """退回: the legal office does not take the matter (not a legal matter, belongs elsewhere)."""
    matter = _load(session, p, matter_id, *RIGHTS["return"])
    errors: list[dict] = []
    reason = _text(reason, "reason", "退回理由", MAX_TEXT, errors, required=True)
    if errors:
        raise _refuse(errors, "请写明退回理由")
    _move(matter, "return")
    matter.return_reason, matter.lawyer_id, matter.closed_at = reason, None, utcnow()
    for d in session.scalars(select(Deployment).where(Deployment.matter_id == matter.id,
                                                      Deployment.status != "withdrawn")):  # fmt: skip
        d.status = "withdrawn"
    _event(session, p, matter, "return", comment=reason, remote_addr=remote_addr, via=via)
    return matter


def link_document(session: Session, p: Principal, matter_id: int, document_id: int,
                  remote_addr: str = "", via: str = "") -> MatterDocument:  # fmt: skip
    """关联文书: an issued document the office head reads becomes part of the matter."""
    matter = _load(session, p, matter_id, "matter.assign", "只有本单位法律顾问室负责人可以关联文书")
    doc = session.get(IssuedDocument, document_id)
    if doc is None or not can(session, p, "document.read", doc):
        raise ValidationFailed(f"文书 {document_id} 不存在或您无权查看",
                               [_field("document", "文书", "不存在或无权查看")])  # fmt: skip
    found = session.scalars(select(MatterDocument).where(
        MatterDocument.matter_id == matter.id, MatterDocument.document_id == doc.id)).first()  # fmt: skip
    if found is not None:
        raise WorkflowError(f"《{doc.title}》已关联到本事务")
    link = MatterDocument(matter_id=matter.id, document_id=doc.id, added_by=p.user.id)
    session.add(link)
    session.flush()
    _event(session, p, matter, "link", comment=doc.number, remote_addr=remote_addr, via=via,
           detail={"document": doc.id})  # fmt: skip
    return link


def events_of(session: Session, matter: Matter) -> list[MatterEvent]:
    return list(session.scalars(
        select(MatterEvent).where(MatterEvent.matter_id == matter.id).order_by(MatterEvent.id)))  # fmt: skip


def documents_of(session: Session, p: Principal | None, matter: Matter) -> list[IssuedDocument]:
    """The matter's linked documents (and its issued commission letter) that `p` reads."""
    ids = set(session.scalars(select(MatterDocument.document_id)
                              .where(MatterDocument.matter_id == matter.id)))  # fmt: skip
    if matter.letter_draft_id:
        ids |= set(session.scalars(select(IssuedDocument.id)
                                   .where(IssuedDocument.draft_id == matter.letter_draft_id)))  # fmt: skip
    docs = [session.get(IssuedDocument, i) for i in sorted(ids)]
    return [d for d in docs if p is None or can(session, p, "document.read", d)]


def letter_of(session: Session, p: Principal, matter: Matter) -> dict:
    """The matter's commission letter as `p` may see it: the issued document (or the draft
    while it is in review), whether `p` reads it, the unit drafting it and the draft's state."""
    from_draft = session.get(Draft, matter.letter_draft_id) if matter.letter_draft_id else None
    if from_draft is None:
        return {"draft": None, "document": None, "readable": False, "unit": "", "state": ""}
    doc = session.scalars(
        select(IssuedDocument).where(IssuedDocument.draft_id == from_draft.id)
    ).first()
    readable = (
        can(session, p, "document.read", doc)
        if doc is not None
        else can(session, p, "draft.read", from_draft)
    )
    return {"draft": from_draft, "document": doc, "readable": readable,
            "unit": from_draft.unit.name, "state": DRAFT_STATUS_LABELS.get(from_draft.status, "")}  # fmt: skip


def matters_of_draft(session: Session, p: Principal, draft_id: int) -> list[Matter]:
    """The matters (readable by `p`) whose commission letter this draft is: its way back."""
    query = select(Matter).where(Matter.letter_draft_id == draft_id, visible_matters(p))
    return list(session.scalars(query.order_by(Matter.id)))


def matters_of_document(session: Session, p: Principal, doc: IssuedDocument) -> list[Matter]:
    """The matters (readable by `p`) this issued document belongs to: as their commission
    letter or linked to them (关联文书)."""
    linked = select(MatterDocument.matter_id).where(MatterDocument.document_id == doc.id)
    query = select(Matter).where(
        (Matter.letter_draft_id == doc.draft_id) | Matter.id.in_(linked), visible_matters(p)
    )
    return list(session.scalars(query.order_by(Matter.id)))


def event_file(cf: Casefile, session: Session, p: Principal | None, matter_id: int,
               event_id: int, remote_addr: str = "") -> tuple[bytes, str]:  # fmt: skip
    matter = get_matter(session, p, matter_id)
    event = session.get(MatterEvent, event_id)
    if event is None or event.matter_id != matter.id or not event.file_sha256:
        raise NotFound("该记录没有附件")
    if p is not None and is_inspector_read(p, matter.unit_id):
        audit.record(session, "matter.download", actor=p.user, object_type="matter",
                     object_id=matter.id, detail={"event": event.id}, remote_addr=remote_addr)  # fmt: skip
    return cf.blobs.get(event.file_sha256), event.file_name


def save_profile(session: Session, p: Principal, username: str, *, licence: str = "",
                 phone: str = "", specialty: str = "", remote_addr: str = "") -> LawyerProfile:  # fmt: skip
    """A lawyer's licence, phone and specialties: kept by the public lawyer or adviser
    themself, or by an administrator (the policy's "lawyer.profile")."""
    user = _user(session, username, "username")
    refuse_profile(session, p, user)
    errors: list[dict] = []
    licence = _text(licence, "licence", "公职律师证号", 17, errors)
    if licence and format_problem("lawyer_licence", licence):
        errors.append(_field("licence", "公职律师证号", "应为17位数字"))
    phone = _text(phone, "phone", "联系电话", 20, errors)
    if phone and format_problem("phone", phone):
        errors.append(_field("phone", "联系电话", "应为11位手机号或带区号的固定电话"))
    specialty = _text(specialty, "specialty", "专长", 120, errors)
    if errors:
        raise _refuse(errors, "执业信息有误")
    profile = session.get(LawyerProfile, user.id) or LawyerProfile(user_id=user.id)
    profile.licence, profile.phone, profile.specialty = licence, phone, specialty
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    audit.record(session, "lawyer.profile", actor=p.user, object_type="user", object_id=user.id,
                 detail={"licence": licence, "specialty": specialty}, remote_addr=remote_addr)  # fmt: skip
    return profile


def refuse_profile(session: Session, p: Principal, user: User) -> None:
    """Forbidden, with the reason, unless `p` may keep `user`'s 执业信息."""
    if can(session, p, "lawyer.profile", user):
        return
    if user.id != p.user.id and not p.has("admin"):
        raise Forbidden("只能维护本人的执业信息")
    if user.id == p.user.id:
        raise Forbidden("只有公职律师和法律顾问需要维护执业信息")
    raise Forbidden(f"“{user.name}”不是公职律师或法律顾问，不需要执业信息")


def profile_of(session: Session, user_id: int) -> LawyerProfile | None:
    return session.get(LawyerProfile, user_id)


def deadline_alerts(
    session: Session, p: Principal, *, today: dt.date | None = None, soon: int = SOON_DAYS
) -> list[Matter]:
    """Open matters whose deadline has passed or falls within `soon` days, soonest first:
    the lawyer's own, the matters of the units an office head runs, and (for inspectors)
    every matter of the units they inspect. One list for the home pages and the inspector."""
    today = today or today_in_china()
    units = p.units_with("office-head") | p.subtree(p.units_with("inspector"))
    query = (
        select(Matter)
        .where(visible_matters(p), Matter.deadline.is_not(None),
               Matter.deadline <= today + dt.timedelta(days=soon),
               Matter.status.in_(("pending",) + ACTIVE))
        .order_by(Matter.deadline, Matter.id)
        # the unit and the lawyer each alert names, in the same statement
        .options(joinedload(Matter.unit), joinedload(Matter.lawyer).lazyload(User.grants))
    )  # fmt: skip
    return [m for m in session.scalars(query) if m.lawyer_id == p.user.id or m.unit_id in units]


def days_left(matter: Matter, today: dt.date | None = None) -> int | None:
    if matter.deadline is None:
        return None
    return (matter.deadline - (today or today_in_china())).days
