"""Compliance view for inspectors (督查): what the rules say must have happened and did not.

- 重大行政决策 reviewed after (or never before) the meeting that decided it: a major-decision
  case file whose meeting date is before its legality-review opinion, or that has none.
- 风险提示函 past its reply date (the notice's 反馈期限) with no reply filed: a reply is an item
  with material type "reply" in a case file that holds the notice (answering that notice, or
  answering nothing in particular).
- 合同 issued without review: an issued contract, or a contract filed in a case file, with no
  legality-review opinion dated on or before it in a case file that holds it.
- 规范性文件 (the register, normative.py): a procedure step missing or out of order, a filing
  overdue or late, a document past its validity still marked 有效.
- 决策事项清单: an issued document of a type on its unit's decision list with no approving
  review step by a public lawyer or adviser on the version that was issued.

Which issued documents are risk notices and contracts is what their templates declare
(`document_type.casefile_role` risk-notice / contract, the template registry), so a template
uploaded at run time counts like the built-in ones.

Only what the principal reads is reported. `compliance_report_for` is what the page calls: it
asks the policy, refuses a bad filter by field and audits an inspector's read or export.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, visible_documents
from app.casefiles.models import CaseFile, CaseFileItem
from app.common.spreadsheet import keep_text_as_text
from app.drafting.decision_list import LAWYER_ROLES, DecisionListEntry
from app.drafting.models import DraftVersion, IssuedDocument, ReviewStep
from app.errors import Forbidden, ValidationFailed
from app.identity.models import Unit
from app.registers import normative_rules
from app.registers.models import NormativeDocument
from app.templating import doctypes
from app.templating.models import TemplateVersion

CATEGORIES = {
    "review_after_meeting": "会议审议早于合法性审查",
    "no_review": "重大行政决策无合法性审查意见",
    "overdue_reply": "风险提示函逾期未反馈",
    "contract_unreviewed": "合同未经合法性审查",
    "decision_unreviewed": "清单事项未听取公职律师意见",
} | normative_rules.CATEGORIES


@dataclass(frozen=True)
class ComplianceFinding:
    category: str
    unit_code: str
    unit_name: str
    case_file_id: int | None
    case_title: str
    document_number: str
    date: dt.date | None
    detail: str

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]


def _d(value) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _item_date(item: CaseFileItem) -> dt.date | None:
    return item.document.issue_date if item.document_id else item.doc_date


def compliance_findings(
    session: Session,
    p: Principal | None,
    *,
    unit_code: str | None = None,
    date_from=None,
    date_to=None,
    today=None,
) -> list[ComplianceFinding]:
    """Findings in the principal's units (None: everything), optionally one unit (and its
    sub-units) and a period (by meeting date, notice deadline or contract date)."""
    today, date_from, date_to = _d(today) or dt.date.today(), _d(date_from), _d(date_to)
    units = {u.id: u for u in session.scalars(select(Unit))}
    allowed = set(units) if p is None else p.readable_units()
    if unit_code:
        root = next((u for u in units.values() if u.code == unit_code), None)
        chosen = set()
        if root is not None:
            stack = [root.id]
            while stack:
                uid = stack.pop()
                chosen.add(uid)
                stack += [u.id for u in units.values() if u.parent_id == uid]
        allowed &= chosen

    def in_period(day: dt.date | None) -> bool:
        if day is None:
            return date_from is None and date_to is None
        return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)

    out: list[ComplianceFinding] = []
    # documents filed in a readable case file but restricted (知悉范围) away from this principal:
    # the finding stands, their number and title are not shown
    hidden: set[int] = set()
    if p is not None:
        hidden = set(
            session.scalars(
                select(CaseFileItem.document_id).where(
                    CaseFileItem.document_id.is_not(None),
                    ~CaseFileItem.document_id.in_(
                        select(IssuedDocument.id).where(visible_documents(p))
                    ),
                )
            )
        )
    cases = {c.id: c for c in session.scalars(select(CaseFile).order_by(CaseFile.id))}
    items_by_case: dict[int, list[CaseFileItem]] = {}
    for item in session.scalars(select(CaseFileItem).order_by(CaseFileItem.position)):
        items_by_case.setdefault(item.case_file_id, []).append(item)

    def finding(category, case, number, day, detail, unit_id=None):
        unit = units[unit_id if unit_id is not None else case.unit_id]
        out.append(ComplianceFinding(category, unit.code, unit.name, case.id if case else None,
                                     case.title if case else "", number, day, detail))  # fmt: skip

    # 1. major decisions: the legality review must come before the meeting
    for case in cases.values():
        if case.kind != "major-decision" or case.unit_id not in allowed:
            continue
        if not in_period(case.meeting_on or case.decided_on):
            continue
        reviews = [i for i in items_by_case.get(case.id, []) if i.role == "legality-review"]
        dates = [d for d in (_item_date(i) for i in reviews) if d]
        if not reviews:
            finding("no_review", case, "", case.meeting_on, "案卷中没有合法性审查意见")
        elif case.meeting_on and dates and case.meeting_on < min(dates):
            number = "" if reviews[0].document_id in hidden else reviews[0].doc_number
            finding("review_after_meeting", case, number, case.meeting_on,
                    f"会议审议日期 {case.meeting_on}，合法性审查意见日期 {min(dates)}")  # fmt: skip

    # where each issued document is filed
    filed: dict[int, list[CaseFileItem]] = {}
    for items in items_by_case.values():
        for item in items:
            if item.document_id:
                filed.setdefault(item.document_id, []).append(item)

    registry = doctypes.registry_for(session)
    notice_templates = registry.template_ids(role="risk-notice")
    contract_templates = registry.template_ids(role="contract")
    docs = session.execute(
        select(IssuedDocument, TemplateVersion.template_id)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .where(TemplateVersion.template_id.in_(sorted(notice_templates | contract_templates)))
        .where(true() if p is None else visible_documents(p))
        .order_by(IssuedDocument.id)
    ).all()

    # 2. risk notices past their reply date with no reply filed
    for doc, template_id in docs:
        if template_id not in notice_templates or doc.unit_id not in allowed:
            continue
        data = session.get(DraftVersion, doc.approved_version_id).data or {}
        try:
            reply_by = _d(data.get("reply_by"))
        except ValueError:
            reply_by = None
        if reply_by is None or reply_by >= today or not in_period(reply_by):
            continue
        replied = False
        for item in filed.get(doc.id, []):
            replies = [i for i in items_by_case[item.case_file_id] if i.role == "reply"]
            if any(r.reply_to_item_id in (None, item.id) for r in replies):
                replied = True
        if not replied:
            case = cases[filed[doc.id][0].case_file_id] if doc.id in filed else None
            addressee = data.get("addressee") or ""
            finding("overdue_reply", case, doc.number, reply_by,
                    f"《{doc.title}》致{addressee}，反馈期限 {reply_by}，未见反馈"
                    + ("" if case else "（未归入案卷）"), unit_id=doc.unit_id)  # fmt: skip

    # 3. contracts without a legality review dated on or before them
    contracts: list[tuple[CaseFile | None, str, dt.date | None, str, int, list[CaseFileItem]]] = []
    for doc, template_id in docs:
        if template_id in contract_templates and doc.unit_id in allowed:
            places = filed.get(doc.id, [])
            contracts.append((cases[places[0].case_file_id] if places else None, doc.number,
                              doc.issue_date, doc.title, doc.unit_id, places))  # fmt: skip
    for case in cases.values():
        if case.unit_id not in allowed:
            continue
        for item in items_by_case.get(case.id, []):
            if item.role == "contract" and item.document_id is None:
                contracts.append(
                    (case, item.doc_number, item.doc_date, item.title, case.unit_id, [item])
                )
    for case, number, day, title, unit_id, places in contracts:
        if not in_period(day):
            continue
        reviewed = False
        for place in places:
            for other in items_by_case[place.case_file_id]:
                review_day = _item_date(other)
                if other.role == "legality-review" and (
                    day is None or (review_day and review_day <= day)
                ):
                    reviewed = True
        if not reviewed:
            finding("contract_unreviewed", case, number, day,
                    f"《{title}》未见签订前的合法性审查意见", unit_id=unit_id)  # fmt: skip
    # 4. normative documents: the procedure, the filing, the validity
    entries = session.scalars(
        select(NormativeDocument).where(NormativeDocument.unit_id.in_(allowed or {-1}))
    )
    for entry in entries:
        for found in normative_rules.findings(entry, today):
            if not in_period(found.date):
                continue
            case = cases.get(entry.case_file_id) if entry.case_file_id else None
            finding(found.category, case, entry.number, found.date,
                    f"《{entry.title}》{found.detail}", unit_id=entry.unit_id)  # fmt: skip
    # 5. decisions on the unit's list (决策事项清单) taken without a public lawyer's review
    listed = session.execute(
        select(IssuedDocument)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .join(DecisionListEntry, (DecisionListEntry.unit_id == IssuedDocument.unit_id)
              & (DecisionListEntry.template_id == TemplateVersion.template_id))
        .where(true() if p is None else visible_documents(p))
        .where(~select(ReviewStep.id).where(
            ReviewStep.version_id == IssuedDocument.approved_version_id,
            ReviewStep.decision == "approve", ReviewStep.role.in_(LAWYER_ROLES)).exists())
        .order_by(IssuedDocument.id)
    ).scalars()  # fmt: skip
    for doc in listed:
        if doc.unit_id not in allowed or not in_period(doc.issue_date):
            continue
        places = filed.get(doc.id, [])
        finding("decision_unreviewed", cases[places[0].case_file_id] if places else None,
                doc.number, doc.issue_date,
                f"《{doc.title}》属于本单位决策事项清单所列事项，未见公职律师或法律顾问审核",
                unit_id=doc.unit_id)  # fmt: skip
    out.sort(key=lambda f: (f.category, f.unit_code, f.date or dt.date.min, f.case_title))
    return out


def to_xlsx(findings: list[ComplianceFinding]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "合规检查"
    header = ["问题类别", "单位", "案卷编号", "案卷题名", "文号", "日期", "说明"]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for f in findings:
        ws.append([f.category_label, f.unit_name, f.case_file_id, f.case_title, f.document_number,
                   f.date, f.detail])  # fmt: skip
    for col, width in zip("ABCDEFG", (26, 24, 10, 36, 22, 12, 60), strict=True):
        ws.column_dimensions[col].width = width
    keep_text_as_text(ws)
    for row in ws.iter_rows(min_row=2):
        row[5].number_format = "yyyy-mm-dd"
        row[6].alignment = Alignment(wrap_text=True)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def compliance_report_for(
    session: Session,
    p: Principal | None,
    *,
    unit_code: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    export: bool = False,
    via: str = "",
    remote_addr: str = "",
) -> list[ComplianceFinding]:
    """The findings `p` may see (None: the operator) with the filters as the user gave them:
    Forbidden without `archive.compliance`; a bad date (`from`, `to`) or an unknown unit
    (`unit`) is refused naming its field. An inspector's read or export (the XLSX) is audited
    as compliance.read / compliance.export with the filters, the count and `via`."""
    if p is not None and not can(session, p, "archive.compliance"):
        raise Forbidden("您无权查看合规检查")
    errors = []
    for name, label, value in (("from", "起始日期", date_from), ("to", "截止日期", date_to)):
        try:
            _d(value or None)
        except ValueError:
            errors.append({"field": name, "label": label, "message": "应为 YYYY-MM-DD 格式的日期"})
    if unit_code and session.scalar(select(Unit.id).where(Unit.code == unit_code)) is None:
        errors.append(
            {"field": "unit", "label": "单位", "message": f"没有代码为“{unit_code}”的单位"}
        )
    if errors:
        message = "；".join(f"{e['label']}{e['message']}" for e in errors)
        raise ValidationFailed(message, errors)
    rows = compliance_findings(session, p, unit_code=unit_code or None,
                               date_from=date_from or None, date_to=date_to or None)  # fmt: skip
    if p is not None and p.has("inspector"):
        audit.record(session, "compliance.export" if export else "compliance.read", actor=p.user,
                     detail={"unit": unit_code or None, "from": date_from or None,
                             "to": date_to or None, "results": len(rows), "via": via},
                     remote_addr=remote_addr)  # fmt: skip
    return rows
