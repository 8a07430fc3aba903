"""法律顾问人才库: the pool from which units choose their advisers.

Inspectors (the justice bureau's supervisors) admit entries for the government whose unit keeps
the pool, record the selection procedure (who proposed, on which criteria, what was decided) and
change an entry's status (在库 / 暂停 / 出库, always with a reason). Every unit at or below the
keeping unit reads the pool and chooses from it: the engagement contract's draft is prefilled
from the chosen entry and from what the unit's earlier contracts already say about the unit.
An entry's engagements are not stored: they are the contracts register's rows naming it.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, pool_keepers, supervised_units
from app.common.clock import today_in_china
from app.drafting.models import DraftVersion, IssuedDocument
from app.errors import Forbidden, NotFound
from app.identity.models import Unit
from app.registers.contracts import ContractEntry, contract_register
from app.supervision.common import date, get_or_404, refuse, text, unit_by_code
from app.supervision.models import ENTRY_KINDS, ENTRY_STATUS_LABELS, Assessment, PoolEntry
from app.templating import doctypes
from app.templating.models import TemplateVersion

LICENCE = re.compile(r"\d{17}")
SPECIALTIES = ("行政法", "经济法", "公司法", "金融", "投资信贷", "民商法", "刑法", "劳动法",
               "知识产权", "环境资源", "建设工程", "土地房产")  # fmt: skip
CONTRACT = "engagement-contract"


@dataclass(frozen=True)
class PoolRow:
    entry: PoolEntry
    keeper: str  # the keeping unit's name
    engagements: list[ContractEntry]  # contracts naming it, in force or not yet started
    last_grade: str = ""  # the latest confirmed annual assessment

    @property
    def status_label(self) -> str:
        return ENTRY_STATUS_LABELS[self.entry.status]

    def as_dict(self) -> dict:
        e = self.entry
        return {
            "id": e.id, "name": e.name, "kind": e.kind, "firm": e.firm, "licence": e.licence,
            "specialties": list(e.specialties or []), "contact": e.contact,
            "admitted_on": e.admitted_on.isoformat(), "status": e.status,
            "status_label": self.status_label, "status_reason": e.status_reason,
            "keeper": self.keeper,
            "selection": {"proposed_by": e.proposed_by, "criteria": e.criteria,
                          "decision": e.decision},
            "engagements": [{"document_id": c.document_id, "number": c.number,
                             "unit_name": c.unit_name, "service_type": c.service_type,
                             "start": c.start.isoformat() if c.start else None,
                             "end": c.end.isoformat() if c.end else None,
                             "status_label": c.status_label} for c in self.engagements],
            "last_grade": self.last_grade or None,
        }  # fmt: skip


def _specialties(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[、,，;；\s]+", value)
    items = [v.strip() for v in (value or []) if isinstance(v, str) and v.strip()]
    if len(items) > 12 or any(len(v) > 20 for v in items):
        raise refuse("specialties", "专业领域", "专业领域最多 12 项，每项不超过 20 个字")
    return list(dict.fromkeys(items))


def _validated(data: dict) -> dict:
    kind = text(data.get("kind"), "kind", "类别", required=True)
    if kind not in ENTRY_KINDS:
        raise refuse("kind", "类别", "类别应为：" + "、".join(ENTRY_KINDS))
    licence = text(data.get("licence"), "licence", "律师执业证号", limit=40)
    if licence and not LICENCE.fullmatch(licence):
        raise refuse("licence", "律师执业证号", "律师执业证号应为 17 位数字")
    if kind == "律师" and not licence:
        raise refuse("licence", "律师执业证号", "律师应填写 17 位律师执业证号")
    return {
        "name": text(data.get("name"), "name", "名称或者姓名", required=True, limit=100),
        "kind": kind,
        "firm": text(data.get("firm"), "firm", "执业机构或者工作单位", limit=100),
        "licence": licence,
        "specialties": _specialties(data.get("specialties")),
        "contact": text(data.get("contact"), "contact", "联系方式", limit=100),
        "admitted_on": date(data.get("admitted_on"), "admitted_on", "入库日期"),
        "proposed_by": text(data.get("proposed_by"), "proposed_by", "推荐人或者推荐单位",
                            required=True, limit=100),
        "criteria": text(data.get("criteria"), "criteria", "遴选条件", required=True, limit=2000),
        "decision": text(data.get("decision"), "decision", "遴选决定", required=True, limit=2000),
    }  # fmt: skip


def check_may_manage(p: Principal) -> None:
    """Refuse whoever keeps no pool at all (before their input is looked at)."""
    if not supervised_units(p):
        raise Forbidden("您无权管理法律顾问人才库")


def admit(session: Session, p: Principal, data: dict, remote_addr: str = "") -> PoolEntry:
    """Admit an entry into the pool kept by `data["keeper"]` (a unit code; default: the unit of
    the principal's inspector grant)."""
    keeper_code = data.get("keeper")
    if keeper_code:
        keeper = unit_by_code(session, keeper_code, "keeper")
    else:
        own = sorted(p.units_with("inspector"))
        keeper = session.get(Unit, own[0]) if own else None
    if keeper is None or not can(session, p, "pool.manage", keeper):
        raise Forbidden("您无权管理该单位的法律顾问人才库")
    clean = _validated(data)
    if clean["licence"] and session.scalar(
        select(PoolEntry.id).where(
            PoolEntry.keeper_unit_id == keeper.id, PoolEntry.licence == clean["licence"]
        )  # fmt: skip
    ):
        raise refuse("licence", "律师执业证号", "该执业证号已在人才库中")
    entry = PoolEntry(keeper_unit_id=keeper.id, created_by=p.user.id, status="active",
                      status_reason="", **clean)  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(session, "pool.admit", actor=p.user, object_type="pool_entry",
                 object_id=entry.id, detail={"name": entry.name, "kind": entry.kind,
                                             "keeper": keeper.code}, remote_addr=remote_addr)  # fmt: skip
    return entry


def visible_entry(session: Session, p: Principal, entry_id) -> PoolEntry:
    entry = get_or_404(session, PoolEntry, entry_id, "人才库条目")
    if not can(session, p, "pool.read") or entry.keeper_unit_id not in pool_keepers(p):
        raise NotFound("人才库条目不存在，或您无权查看")
    return entry


def set_status(session: Session, p: Principal, entry_id, status: str, reason: str,
               remote_addr: str = "") -> PoolEntry:  # fmt: skip
    """在库 / 暂停 / 出库, with the reason (required for 暂停 and 出库)."""
    entry = visible_entry(session, p, entry_id)
    if not can(session, p, "pool.manage", session.get(Unit, entry.keeper_unit_id)):
        raise Forbidden("您无权管理该单位的法律顾问人才库")
    if status not in ENTRY_STATUS_LABELS:
        raise refuse("status", "状态", "状态应为：" + "、".join(ENTRY_STATUS_LABELS.values()))
    reason = text(reason, "reason", "原因", required=status != "active", limit=500)
    _set(session, entry, status, reason, p, remote_addr)
    return entry


def _set(session, entry: PoolEntry, status: str, reason: str, p, remote_addr="") -> None:
    before = entry.status
    entry.status, entry.status_reason = status, reason
    session.flush()
    audit.record(session, "pool.status", actor=p.user, object_type="pool_entry",
                 object_id=entry.id, detail={"before": ENTRY_STATUS_LABELS[before],
                                                       "after": ENTRY_STATUS_LABELS[status],
                                                       "reason": reason},
                 remote_addr=remote_addr)  # fmt: skip


def suspend_after_assessment(session: Session, p: Principal, entry: PoolEntry, reason: str):
    """An 不称职 assessment suspends the entry (the policy's annual renewal of the pool)."""
    if entry.status == "active":
        _set(session, entry, "suspended", reason, p)


def engagements_by_adviser(session: Session, p: Principal,
                           today: dt.date | None = None) -> dict[str, list[ContractEntry]]:  # fmt: skip
    """Contracts in force or about to start, by adviser name, of the units p reads or keeps."""
    units = p.readable_units() | supervised_units(p)
    register = contract_register(session, None, today=today)
    out: dict[str, list[ContractEntry]] = {}
    for c in register.entries:
        if c.unit_id in units and c.status in {"active", "expiring", "not_started"}:
            out.setdefault(c.adviser, []).append(c)
    return out


def list_pool(session: Session, p: Principal, *, status: str | None = None,
              kind: str | None = None, specialty: str | None = None) -> list[PoolRow]:  # fmt: skip
    if not can(session, p, "pool.read"):
        raise Forbidden("您无权查阅法律顾问人才库")
    if status and status not in ENTRY_STATUS_LABELS:
        raise refuse("status", "状态", "状态应为：" + "、".join(ENTRY_STATUS_LABELS.values()))
    if kind and kind not in ENTRY_KINDS:
        raise refuse("kind", "类别", "类别应为：" + "、".join(ENTRY_KINDS))
    query = select(PoolEntry).where(PoolEntry.keeper_unit_id.in_(pool_keepers(p) or {-1}))
    if status:
        query = query.where(PoolEntry.status == status)
    if kind:
        query = query.where(PoolEntry.kind == kind)
    entries = [e for e in session.scalars(query.order_by(PoolEntry.kind, PoolEntry.id))
               if not specialty or specialty in (e.specialties or [])]  # fmt: skip
    names = {u.id: u.name for u in session.scalars(select(Unit))}
    engaged = engagements_by_adviser(session, p)
    grades = dict(session.execute(
        select(Assessment.entry_id, Assessment.grade)
        .where(Assessment.state == "signed", Assessment.entry_id.is_not(None))
        .order_by(Assessment.year, Assessment.id)
    ).all())  # fmt: skip
    return [PoolRow(entry=e, keeper=names.get(e.keeper_unit_id, ""),
                    engagements=engaged.get(e.name, []), last_grade=grades.get(e.id, ""))
            for e in entries]  # fmt: skip


# ---- choosing an adviser: the engagement contract's draft, prefilled ---------------------------

ADVISER_FIELDS = ("adviser_kind", "adviser_name", "adviser_uscc", "adviser_representative",
                  "adviser_licence", "adviser_employer", "adviser_title", "adviser_address",
                  "adviser_phone", "assigned_lawyers", "payee_account", "project")  # fmt: skip


def _latest_contract_data(session: Session, unit_id: int, adviser: str | None = None) -> dict:
    """The approved data of the unit's latest issued engagement contract (optionally with one
    adviser): what the unit already entered once about itself."""
    found = doctypes.registry_for(session).types.get(CONTRACT)
    if not found:
        return {}
    rows = session.execute(
        select(DraftVersion.data)
        .join(IssuedDocument, IssuedDocument.approved_version_id == DraftVersion.id)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .where(IssuedDocument.unit_id == unit_id,
               TemplateVersion.template_id.in_(sorted(found.template_ids)))
        .order_by(IssuedDocument.issue_date.desc(), IssuedDocument.id.desc())
    ).scalars().all()  # fmt: skip
    for data in rows:
        if isinstance(data, dict) and (adviser is None or data.get("adviser_name") == adviser):
            return copy.deepcopy(data)
    return {}


def _filing_body(session: Session, keeper_id: int) -> str:
    keeper = session.get(Unit, keeper_id)
    name = keeper.name if keeper else ""
    return name.replace("人民政府", "司法局") if "人民政府" in name else ""


def engagement_prefill(session: Session, p: Principal, entry_id, unit_code: str | None) -> dict:
    """The engagement contract's initial data for `unit_code` choosing pool entry `entry_id`:
    the unit's own particulars from its latest contract, the adviser's from the pool, and a
    one-year standing term starting tomorrow."""
    entry = visible_entry(session, p, entry_id)
    if entry.status != "active":
        raise refuse("pool_entry", "人才库条目",
                     f"{entry.name}的状态为{ENTRY_STATUS_LABELS[entry.status]}，不能选聘")  # fmt: skip
    unit = unit_by_code(session, unit_code) if unit_code else session.get(Unit, p.user.unit_id)
    if not can(session, p, "draft.create", unit):
        raise Forbidden(f"您在“{unit.name}”没有起草文书的权限")
    data = {k: v for k, v in _latest_contract_data(session, unit.id).items()
            if k not in ADVISER_FIELDS and k != "term"}  # fmt: skip
    data |= {"adviser_kind": entry.kind, "adviser_name": entry.name}
    if entry.kind == "律师":
        data |= {"adviser_licence": entry.licence, "adviser_employer": entry.firm}
    elif entry.kind == "法学专家":
        data["adviser_employer"] = entry.firm
    if entry.contact:
        data["adviser_phone"] = entry.contact
    start = today_in_china() + dt.timedelta(days=1)
    end = dt.date(start.year + 1, start.month, start.day) - dt.timedelta(days=1)
    data["term"] = {"start": start.isoformat(), "end": end.isoformat()}
    data.setdefault("service_type", "常年法律顾问")
    data["filing_body"] = data.get("filing_body") or _filing_body(session, entry.keeper_unit_id)
    return data


def renewal_prefill(session: Session, p: Principal, document_id) -> tuple[dict, str]:
    """续聘: the contract's own data with the next term of the same length; (data, unit code)."""
    doc = get_or_404(session, IssuedDocument, document_id, "聘任合同")
    if not can(session, p, "document.read", doc):
        raise NotFound("聘任合同不存在，或您无权查看")
    unit = session.get(Unit, doc.unit_id)
    if not can(session, p, "draft.create", unit):
        raise Forbidden(f"您在“{unit.name}”没有起草文书的权限")
    version = session.get(DraftVersion, doc.approved_version_id)
    data = copy.deepcopy(version.data) if isinstance(version.data, dict) else {}
    term = data.get("term") if isinstance(data.get("term"), dict) else {}
    try:
        old_start = dt.date.fromisoformat(term["start"])
        old_end = dt.date.fromisoformat(term["end"])
    except (KeyError, TypeError, ValueError):
        raise refuse("renew", "续聘", "原合同没有有效的聘任期限，不能续聘") from None
    start = old_end + dt.timedelta(days=1)
    data["term"] = {"start": start.isoformat(),
                    "end": (start + (old_end - old_start)).isoformat()}  # fmt: skip
    return data, unit.code
