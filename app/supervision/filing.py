"""合同备案: every issued engagement contract goes to the supervising justice bureau.

The queue is computed: an issued contract without a registered filing waits in it. The bureau
(an inspector over the contract's unit) registers it with a filing number (备案号) or returns it
with a reason; the unit sees the state and, after a return, sends it again with a note. A
contract not registered within FILING_DAYS of signing (its date of issue) is overdue.
Contracts are read through the contracts register, so the policy (and 知悉范围) decides which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can
from app.common.clock import today_in_china
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, NotFound
from app.registers.contracts import ContractRegister, contract_register
from app.supervision.common import date, refuse, text
from app.supervision.models import FILING_STATE_LABELS, ContractFiling

FILING_DAYS = 30  # days after signing within which a contract is to be registered


@dataclass(frozen=True)
class FilingRow:
    document_id: int
    number: str
    unit_id: int
    unit_name: str
    adviser: str
    signed_on: dt.date
    due_on: dt.date
    state: str
    filing_number: str
    filed_on: dt.date | None
    reason: str
    overdue: bool
    days_late: int  # days past the due date (0 when on time or not yet due)

    @property
    def state_label(self) -> str:
        return FILING_STATE_LABELS[self.state]

    @property
    def on_time(self) -> bool:
        return (
            self.state == "registered"
            and self.filed_on is not None
            and (self.filed_on <= self.due_on)
        )

    def as_dict(self) -> dict:
        return {"document_id": self.document_id, "number": self.number,
                "unit_name": self.unit_name, "adviser": self.adviser,
                "signed_on": self.signed_on.isoformat(), "due_on": self.due_on.isoformat(),
                "state": self.state, "state_label": self.state_label,
                "filing_number": self.filing_number or None,
                "filed_on": self.filed_on.isoformat() if self.filed_on else None,
                "reason": self.reason, "overdue": self.overdue, "days_late": self.days_late}  # fmt: skip


def filing_rows(session: Session, p: Principal | None, *, today: dt.date | None = None,
                units: set[int] | None = None,
                register: ContractRegister | None = None) -> list[FilingRow]:  # fmt: skip
    """Every engagement contract p reads (None: all), with its filing state (`register`: the
    contracts register p already read for `today`)."""
    today = today or today_in_china()
    register = register or contract_register(session, p, today=today)
    filings = {f.document_id: f for f in session.scalars(select(ContractFiling))}
    rows = []
    for c in register.entries:
        if units is not None and c.unit_id not in units:
            continue
        f = filings.get(c.document_id)
        state = f.state if f else "pending"
        due = c.issue_date + dt.timedelta(days=FILING_DAYS)
        filed_on = f.filed_on if f else None
        late_until = filed_on if state == "registered" else today
        days_late = max(0, (late_until - due).days) if late_until else 0
        rows.append(FilingRow(
            document_id=c.document_id, number=c.number, unit_id=c.unit_id,
            unit_name=c.unit_name, adviser=c.adviser, signed_on=c.issue_date, due_on=due,
            state=state, filing_number=(f.filing_number or "") if f else "", filed_on=filed_on,
            reason=f.reason if f else "", overdue=state != "registered" and today > due,
            days_late=days_late,
        ))  # fmt: skip
    rows.sort(key=lambda r: (r.state == "registered", r.due_on, r.document_id))
    return rows


def filing_queue(session: Session, p: Principal, *, state: str | None = None,
                 overdue: bool = False, today: dt.date | None = None) -> list[FilingRow]:  # fmt: skip
    """The filings p sees: a bureau's queue over its subtree, a unit's own contracts."""
    if not can(session, p, "contract.register"):
        raise Forbidden("您无权查看合同备案")
    if state and state not in FILING_STATE_LABELS:
        raise refuse(
            "state", "备案状态", "备案状态应为：" + "、".join(FILING_STATE_LABELS.values())
        )
    rows = filing_rows(session, p, today=today)
    if state:
        rows = [r for r in rows if r.state == state]
    if overdue:
        rows = [r for r in rows if r.overdue]
    return rows


def contract_for(session: Session, p: Principal, document_id) -> IssuedDocument:
    """The engagement contract p reads, or NotFound; a document of another type is refused."""
    try:
        doc = session.get(IssuedDocument, int(document_id))
    except (TypeError, ValueError):
        doc = None
    if doc is None or not can(session, p, "document.read", doc):
        raise NotFound("聘任合同不存在，或您无权查看")
    if not any(r.document_id == doc.id for r in filing_rows(session, p, units={doc.unit_id})):
        raise refuse("document", "聘任合同", "该文书不是法律顾问聘任合同，无需备案")
    return doc


def _filing(session: Session, doc: IssuedDocument) -> ContractFiling:
    f = session.scalars(select(ContractFiling).where(ContractFiling.document_id == doc.id)).first()
    if f is None:
        f = ContractFiling(document_id=doc.id, state="pending", reason="")
        session.add(f)
    return f


def register_filing(session: Session, p: Principal, document_id, filing_number: str,
                    filed_on=None, remote_addr: str = "") -> ContractFiling:  # fmt: skip
    """The bureau registers the contract under a filing number (备案号)."""
    doc = contract_for(session, p, document_id)
    if not can(session, p, "filing.register", doc):
        raise Forbidden("您无权登记该合同的备案")
    number = text(filing_number, "filing_number", "备案号", required=True, limit=50)
    day = date(filed_on, "filed_on", "备案日期", required=False) or today_in_china()
    if day < doc.issue_date:
        raise refuse("filed_on", "备案日期", "备案日期不能早于合同签订日期")
    f = _filing(session, doc)
    if f.state == "registered":
        raise refuse("document", "聘任合同", f"该合同已备案，备案号 {f.filing_number}")
    taken = session.scalar(select(ContractFiling.id).where(
        ContractFiling.filing_number == number, ContractFiling.document_id != doc.id))  # fmt: skip
    if taken:
        raise refuse("filing_number", "备案号", f"备案号“{number}”已被使用")
    f.state, f.filing_number, f.filed_on, f.decided_by, f.reason = (
        "registered",
        number,
        day,
        p.user.id,
        "",
    )
    session.flush()
    audit.record(session, "filing.register", actor=p.user, object_type="document",
                 object_id=doc.id, detail={"filing_number": number, "filed_on": day.isoformat()},
                 remote_addr=remote_addr)  # fmt: skip
    return f


def return_filing(session: Session, p: Principal, document_id, reason: str,
                  remote_addr: str = "") -> ContractFiling:  # fmt: skip
    """The bureau returns the contract to its unit, with the reason."""
    doc = contract_for(session, p, document_id)
    if not can(session, p, "filing.register", doc):
        raise Forbidden("您无权处理该合同的备案")
    why = text(reason, "reason", "退回原因", required=True, limit=500)
    f = _filing(session, doc)
    if f.state == "registered":
        raise refuse("document", "聘任合同", "该合同已备案，不能退回")
    f.state, f.reason, f.decided_by = "returned", why, p.user.id
    session.flush()
    audit.record(session, "filing.return", actor=p.user, object_type="document",
                 object_id=doc.id, detail={"reason": why}, remote_addr=remote_addr)  # fmt: skip
    return f


def resubmit_filing(session: Session, p: Principal, document_id, note: str = "",
                    remote_addr: str = "") -> ContractFiling:  # fmt: skip
    """The unit sends a returned contract again (with what it did about the reason)."""
    doc = contract_for(session, p, document_id)
    if not can(session, p, "filing.submit", doc):
        raise Forbidden("您无权报送该合同的备案")
    f = _filing(session, doc)
    if f.state != "returned":
        raise refuse("document", "聘任合同", "只有被退回的合同需要重新报送")
    f.state, f.reason = "pending", text(note, "note", "说明", limit=500)
    session.flush()
    audit.record(session, "filing.resubmit", actor=p.user, object_type="document",
                 object_id=doc.id, detail={"note": f.reason}, remote_addr=remote_addr)  # fmt: skip
    return f
