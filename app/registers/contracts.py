"""法律顾问聘任合同台账: the register of issued engagement contracts, with expiry reminders.

Long module: the register, its reminder, its filters and its spreadsheet read the contracts one way, kept together.

Computed from the archive, never stored: each row is an issued document of the
`engagement-contract` type (the built-in template, or an uploaded variant that declares
`document_type.search_type: engagement-contract` and keeps its fields), read with the data of
its approved version (the text every reviewer approved; issuance adds only the number and the
date), so the register always agrees with the archive.

Status on a given day (China time):
- 未开始 before the term starts;
- 已到期 after the term ends;
- 即将到期 when the term ends within the reminder window. The end day itself is still in force,
  so a term ending today is 即将到期 with 0 days remaining;
- 履行中 otherwise.

A contract superseded by a correction (已被替代) or revoked (已撤销) has ended on the day that took
effect, whatever its term said: it is listed with that status and the day, never reminded of,
and neither renews nor is renewed.

A contract is 已续聘 when a later contract of the same unit with the same adviser, service type
and (for 专项) project ends after it. A unit must re-engage before a term ends; once it has,
the contract no longer counts towards the reminder (`ContractRegister.due`).

Only what the principal reads is listed: documents of their readable units that pass
`can(…, "document.read", …)`, so restricted contracts (知悉范围) stay with their readers. A
renewal is looked for among those rows only, so a hidden contract's number never shows.

`contract_register_for` is what the web page, the API and `casefile contracts` call: it takes
the filters as the user typed them, refuses bad ones by field name, asks the policy and audits
an inspector's read; `contract_register` computes the register for code that already checked.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, true
from sqlalchemy.orm import Session, aliased

from app import audit
from app.access.policy import Principal, can, visible_documents
from app.common.clock import today_in_china
from app.common.spreadsheet import keep_text_as_text
from app.drafting.models import DocumentStatus, DraftVersion, IssuedDocument
from app.errors import Forbidden, ValidationFailed
from app.identity.models import Unit, all_units
from app.templating import doctypes
from app.templating.models import TemplateVersion

DOC_TYPE = "engagement-contract"  # the search type of the documents the register lists
DEFAULT_WINDOW = 60  # days before the end of a term when a contract is 即将到期
MAX_WINDOW = 3650

STATUS_LABELS = {
    "expiring": "即将到期",
    "active": "履行中",
    "not_started": "未开始",
    "expired": "已到期",
    "unknown": "期限不明",
    "superseded": "已被替代",
    "revoked": "已撤销",
}
ENDED = ("superseded", "revoked")  # ended by a record beside the document, not by its term


@dataclass(frozen=True)
class ContractEntry:
    document_id: int
    number: str
    title: str
    issue_date: dt.date
    unit_id: int
    unit_code: str
    unit_name: str  # 甲方: the issuing unit
    adviser: str  # 乙方
    adviser_kind: str  # 律师事务所 / 律师 / 法学专家
    service_type: str  # 常年法律顾问 / 专项法律顾问
    project: str  # 专项事项
    start: dt.date | None
    end: dt.date | None
    fee: Decimal | None
    filing_body: str  # 备案机关
    status: str
    days_remaining: int | None  # days from today to the last day of the term; < 0 once ended
    starts_in: int | None = None  # days until the term starts, while 未开始
    renewed_by: str = ""  # 发文字号 of the contract that renews this one
    ended_on: dt.date | None = None  # superseded or revoked: the day it ended
    superseded_by: str = ""  # 发文字号 of the correction that superseded it

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def remaining_label(self) -> str:
        if self.status == "superseded":
            return f"{self.ended_on.isoformat()} 起由 {self.superseded_by} 替代"
        if self.status == "revoked":
            return f"{self.ended_on.isoformat()} 起撤销"
        days = self.days_remaining
        if days is None:
            return "—"
        if self.status == "not_started":
            return f"{self.starts_in} 日后起算"
        if days < 0:
            return f"已过 {-days} 日"
        return "今日届满" if days == 0 else f"剩 {days} 日"

    def as_dict(self) -> dict:
        return {
            "document_id": self.document_id,
            "number": self.number,
            "title": self.title,
            "issue_date": self.issue_date.isoformat(),
            "unit": self.unit_code,
            "unit_name": self.unit_name,
            "adviser": self.adviser,
            "adviser_kind": self.adviser_kind,
            "service_type": self.service_type,
            "project": self.project,
            "term": {
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
            },
            "days_remaining": self.days_remaining,
            "status": self.status,
            "status_label": self.status_label,
            "renewed_by": self.renewed_by or None,
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
            "superseded_by": self.superseded_by or None,
            "fee": str(self.fee) if self.fee is not None else None,
            "filing_body": self.filing_body,
        }


@dataclass(frozen=True)
class ContractRegister:
    today: dt.date
    window: int
    entries: list[ContractEntry]  # after the status filter, sorted by end of term
    counts: dict[str, int] = field(default_factory=dict)  # per status, before the status filter
    due: int = 0  # 即将到期 and not yet renewed: what the reminder counts
    unit_code: str | None = None  # the filters it was asked for
    status: str | None = None

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "window": self.window,
            "total": len(self.entries),
            "counts": self.counts,
            "due": self.due,
            "contracts": [e.as_dict() for e in self.entries],
        }


def contract_status(
    start: dt.date | None, end: dt.date | None, today: dt.date, window: int
) -> tuple[str, int | None]:
    """(status, days remaining) of a term on `today`."""
    if start is None or end is None:
        return "unknown", None
    remaining = (end - today).days
    if today < start:
        return "not_started", remaining
    if remaining < 0:
        return "expired", remaining
    if remaining <= window:
        return "expiring", remaining
    return "active", remaining


def parse_window(value, label: str = "提醒期限", name: str = "window") -> int:
    """Days of the reminder window from user input (a form, a query string, the CLI)."""
    if value in (None, ""):
        return DEFAULT_WINDOW
    try:
        days = int(str(value).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_WINDOW:
        message = f"{label}应为 0 至 {MAX_WINDOW} 之间的天数"
        raise ValidationFailed(message, [{"field": name, "label": label, "message": message}])
    return days


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _fee(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _subtree(units: dict[int, Unit], root: int) -> set[int]:
    out, stack = set(), [root]
    while stack:
        uid = stack.pop()
        if uid not in out:
            out.add(uid)
            stack += [u.id for u in units.values() if u.parent_id == uid]
    return out


_SUCCESSOR = aliased(IssuedDocument)  # the correction that superseded a contract (built once)


def contract_register(
    session: Session,
    p: Principal | None,
    *,
    today: dt.date | None = None,
    window: int = DEFAULT_WINDOW,
    unit_code: str | None = None,
    status: str | None = None,
) -> ContractRegister:
    """The contracts the principal reads (None: the operator, all of them), optionally of one
    unit and its sub-units and of one status, sorted by the end of their term."""
    today, window = today or today_in_china(), parse_window(window)
    if status and status not in STATUS_LABELS:
        message = "状态应为：" + "、".join(f"{k}（{v}）" for k, v in STATUS_LABELS.items())
        raise ValidationFailed(message, [{"field": "status", "label": "状态", "message": message}])
    units = {u.id: u for u in all_units(session)}
    allowed = set(units) if p is None else p.readable_units()
    if unit_code:
        root = next((u.id for u in units.values() if u.code == unit_code), None)
        if root is None:
            message = f"没有代码为“{unit_code}”的单位"
            raise ValidationFailed(
                message, [{"field": "unit", "label": "单位", "message": message}]
            )
        allowed &= _subtree(units, root)

    found = doctypes.registry_for(session).types.get(DOC_TYPE)
    template_ids = sorted(found.template_ids) if found else []
    successor, doc = _SUCCESSOR, IssuedDocument
    rows = session.execute(  # each contract with its status record: one statement
        select(doc.id, doc.number, doc.title, doc.issue_date, doc.unit_id, doc.docx_sha256,
               doc.approved_version_id, DocumentStatus.status, DocumentStatus.effective_on,
               successor.number)
        .join(TemplateVersion, TemplateVersion.id == doc.template_version_id)
        .join(DraftVersion, DraftVersion.id == doc.approved_version_id)
        .outerjoin(DocumentStatus, DocumentStatus.document_id == doc.id)
        .outerjoin(successor, successor.id == DocumentStatus.successor_id)
        .where(TemplateVersion.template_id.in_(template_ids), doc.unit_id.in_(allowed or {-1}))
        .where(true() if p is None else visible_documents(p))
        .order_by(doc.id)
    ).all()  # fmt: skip
    terms = _terms_of(session, rows)
    entries: list[ContractEntry] = []
    for doc_id, number, title, issue_date, unit_id, _sha, _v, ended, ended_on, by in rows:
        t = terms[doc_id]
        state, remaining = contract_status(t.start, t.end, today, window)
        unit = units[unit_id]
        entries.append(ContractEntry(
            document_id=doc_id, number=number, title=title, issue_date=issue_date,
            unit_id=unit.id, unit_code=unit.code, unit_name=unit.name,
            adviser=t.adviser, adviser_kind=t.adviser_kind, service_type=t.service_type,
            project=t.project, start=t.start, end=t.end, fee=t.fee, filing_body=t.filing_body,
            status=state, days_remaining=remaining,
            starts_in=(t.start - today).days if state == "not_started" else None,
        ))  # fmt: skip
        if ended is not None:
            entries[-1] = replace(entries[-1], status=ended, days_remaining=None,
                                  starts_in=None, ended_on=ended_on,
                                  superseded_by=by or "")  # fmt: skip
    entries = _mark_renewals(entries)
    entries.sort(key=lambda e: (e.end or dt.date.max, e.start or dt.date.max, e.document_id))
    counts = {key: 0 for key in STATUS_LABELS}
    for e in entries:
        counts[e.status] += 1
    due = sum(1 for e in entries if e.status == "expiring" and not e.renewed_by)
    if status:
        entries = [e for e in entries if e.status == status]
    return ContractRegister(today=today, window=window, entries=entries, counts=counts, due=due,
                            unit_code=unit_code or None, status=status or None)  # fmt: skip


@dataclass(frozen=True)
class _Terms:
    """What a contract's approved text says of its term and parties."""

    adviser: str
    adviser_kind: str
    service_type: str
    project: str
    start: dt.date | None
    end: dt.date | None
    fee: Decimal | None
    filing_body: str


# An issued document and its approved version never change (write-once tables), so what their
# data says is read and parsed once per process, not on every page that shows the register
# (each home page does, for its reminder). Keyed by the issued file's hash too: a database
# restored under a running process cannot hand it another document's terms.
_TERMS: dict[tuple[int, str], _Terms] = {}
_TERMS_MAX = 100_000


def _terms_of(session: Session, rows) -> dict[int, _Terms]:
    missing = {r[6]: (r[0], r[5]) for r in rows if (r[0], r[5]) not in _TERMS}
    if missing:
        if len(_TERMS) > _TERMS_MAX:
            _TERMS.clear()
        for version_id, data in session.execute(
            select(DraftVersion.id, DraftVersion.data).where(DraftVersion.id.in_(missing))
        ):
            _TERMS[missing[version_id]] = _parse_terms(data)
    return {r[0]: _TERMS[(r[0], r[5])] for r in rows}


def _parse_terms(data) -> _Terms:
    data = data if isinstance(data, dict) else {}
    term = data.get("term") if isinstance(data.get("term"), dict) else {}
    service = _text(data, "service_type")
    return _Terms(
        adviser=_text(data, "adviser_name") or _text(data, "party_b"),
        adviser_kind=_text(data, "adviser_kind"), service_type=service,
        project=_text(data, "project") if service != "常年法律顾问" else "",
        start=_date(term.get("start")), end=_date(term.get("end")), fee=_fee(data.get("fee")),
        filing_body=_text(data, "filing_body"),
    )  # fmt: skip


def contract_register_for(
    session: Session,
    p: Principal | None,
    *,
    unit_code: str | None = None,
    window: int | str | None = None,
    status: str | None = None,
    expiring: int | str | None = None,
    export: bool = False,
    via: str = "",
    remote_addr: str = "",
) -> ContractRegister:
    """聘任合同台账 as `p` reads it (None: the operator), with the filters as the user gave them.

    `window` is the reminder window in days (default 60); `expiring=N` is short for
    `status="expiring", window=N`. A bad value is refused naming its field (`window`,
    `expiring`, `status`, `unit`), never replaced by a default. Forbidden without the
    `contract.register` right. An inspector's read (`export`: the XLSX) is audited as
    contracts.read / contracts.export with the filters, the number of rows and `via`.
    """
    if p is not None and not can(session, p, "contract.register"):
        raise Forbidden("您无权查看聘任合同台账")
    status = status or None
    if expiring not in (None, ""):
        if status not in (None, "expiring") or window not in (None, ""):
            message = "到期天数只列出即将到期的合同，不能与其他状态或提醒期限同用"
            raise ValidationFailed(
                message, [{"field": "expiring", "label": "到期天数", "message": message}]
            )
        status, days = "expiring", parse_window(expiring, label="到期天数", name="expiring")
    else:
        days = parse_window(window)
    register = contract_register(session, p, window=days, unit_code=unit_code or None,
                                 status=status)  # fmt: skip
    if p is not None and p.has("inspector"):
        audit.record(session, "contracts.export" if export else "contracts.read", actor=p.user,
                     detail={"unit": register.unit_code, "status": register.status,
                             "window": register.window, "results": len(register.entries),
                             "via": via}, remote_addr=remote_addr)  # fmt: skip
    return register


def contract_reminder(session: Session, p: Principal) -> ContractRegister | None:
    """The home page's notice: contracts ending within the default window, not yet renewed;
    None for whoever may not see the register."""
    if not can(session, p, "contract.register"):
        return None
    return contract_register(session, p, window=DEFAULT_WINDOW)


def _mark_renewals(entries: list[ContractEntry]) -> list[ContractEntry]:
    """Each contract with the number of the earliest later contract that continues it."""
    groups: dict[tuple, list[ContractEntry]] = {}
    for e in entries:
        if e.start and e.end and e.adviser and e.status not in ENDED:
            groups.setdefault((e.unit_id, e.adviser, e.service_type, e.project), []).append(e)
    out = []
    for e in entries:
        key = (e.unit_id, e.adviser, e.service_type, e.project)
        candidates = groups.get(key, []) if e.start and e.end and e.status not in ENDED else []
        later = [o for o in candidates if o.start > e.start and o.end > e.end]
        if later:
            e = replace(e, renewed_by=min(later, key=lambda o: (o.start, o.document_id)).number)
        out.append(e)
    return out


def to_xlsx(register: ContractRegister) -> bytes:
    """The register as a spreadsheet: one row per contract, dates as dates, fees as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "聘任合同台账"
    header = ["序号", "发文字号", "聘任单位（甲方）", "法律顾问（乙方）", "乙方类型", "顾问类型",
              "专项事项", "聘任起始日期", "聘任截止日期", "剩余天数", "状态", "续聘或替代合同",
              "服务费（元）", "备案机关", "成文日期"]  # fmt: skip
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, e in enumerate(register.entries, start=1):
        ws.append([i, e.number, e.unit_name, e.adviser, e.adviser_kind, e.service_type, e.project,
                   e.start, e.end, e.days_remaining, e.status_label,
                   e.superseded_by or e.renewed_by, e.fee,
                   e.filing_body, e.issue_date])  # fmt: skip
    keep_text_as_text(ws)
    for row in ws.iter_rows(min_row=2):
        for col in (7, 8, 14):
            row[col].number_format = "yyyy-mm-dd"
        row[12].number_format = "#,##0.00"
    widths = (6, 24, 28, 28, 12, 14, 24, 14, 14, 10, 10, 24, 14, 18, 14)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
