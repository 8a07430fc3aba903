"""规范性文件登记簿: the register of normative documents (统一登记、统一编号、统一公布).

Every normative document passes, in this order (policy-texts/004):
公开征求意见 → 专家论证 → 合法性审查 → 集体讨论决定 → 统一登记编号 → 公布 → 备案 (within 30 days of
publication, with the supervising body's 备案号). An entry links the draft regulation's case file,
its legality-review opinion (an issued document) and the meeting that decided it; registering it
takes the next unified number of the unit's sequence for the year (`numbering.next_in_sequence`,
the gapless mechanism of the 发文字号: no gaps, no reuse, a failed registration consumes nothing).
It is valid for `valid_years` (usually 5) from its publication, and its state is 有效, 失效, 废止
or 已修改.

Compliance (`normative_rules.findings`): a step missing before a later one, steps out of order, a
filing overdue (or made late), a document past its validity still marked 有效. The yearly
clean-up (清理) and the XLSX are in normative_export.py.

Access: the register is read by whoever reads a unit's documents (`normative.register`; rows are
those of their readable units); the unit's clerk or office head registers and records the later
steps (`normative.edit`). Every change is audited; an inspector's read or export is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, visible_case_files
from app.casefiles.models import CaseFile
from app.common.clock import today_in_china
from app.config import Settings
from app.db.base import utcnow
from app.drafting.models import IssuedDocument
from app.drafting.numbering import next_in_sequence
from app.errors import Forbidden, NotFound, ValidationFailed
from app.identity.models import Unit
from app.registers import normative_numbers
from app.registers.models import NormativeDocument, NormativeSequence
from app.registers.normative_rules import (
    COLUMNS,
    DEFAULT_VALID_YEARS,
    FIELDS,
    STATES,
    STEPS,
    TEXT_LIMITS,
    Finding,
    findings,
    format_number,
    step_date,
    until,
    valid_years,
    whole_number,
)

REGISTER_ACTION, UPDATE_ACTION = "normative.register", "normative.update"


def _error(name: str, message: str) -> dict:
    return {"field": name, "label": FIELDS[name][0], "message": message}


def _record_id(raw: object) -> bool:
    """A whole number a record id can be (below BIGINT's top)."""
    return whole_number(raw) and 1 <= int(str(raw)) < 10**18


def _clean(
    session: Session, p: Principal | None, unit: Unit, values: Mapping, *, partial: bool
) -> tuple[dict, list[dict]]:
    """{column: value} for the fields given (all of them unless `partial`), and the errors."""
    clean: dict = {}
    errors: list[dict] = []
    for name, (_label, kind) in FIELDS.items():
        if partial and name not in values:
            continue
        raw = values.get(name)
        raw = raw.strip() if isinstance(raw, str) else raw
        column = COLUMNS.get(name, name)
        if kind == "text":
            text = "" if raw is None else str(raw)
            if len(text) > TEXT_LIMITS[name]:
                errors.append(_error(name, f"不超过 {TEXT_LIMITS[name]} 字"))
            elif name == "title" and not text:
                errors.append(_error(name, "请填写文件名称"))
            clean[column] = text
        elif kind == "date":
            if raw in (None, ""):
                clean.setdefault(column, None)  # the review date comes from its opinion
            else:
                try:
                    day = dt.date.fromisoformat(str(raw))
                except ValueError:
                    day = None
                if day is None or not 1900 <= day.year <= 2200:
                    errors.append(_error(name, "应为 YYYY-MM-DD 格式的日期（1900 至 2200 年）"))
                else:
                    clean[column] = day
        elif kind == "int":
            if raw in (None, ""):
                clean[column] = None
            elif not whole_number(raw) or not 1 <= int(str(raw)) <= 50:
                errors.append(_error(name, "应为 1 至 50 之间的整数"))
            else:
                clean[column] = int(str(raw))
        elif kind == "state":
            if raw in (None, ""):
                clean[column] = "in_force"
            else:
                key = next((k for k, v in STATES.items() if raw in (k, v)), None)
                if key is None:
                    errors.append(_error(name, "应为 " + "、".join(STATES.values())))
                clean[column] = key
        elif kind == "case":
            clean[column] = None
            if raw not in (None, ""):
                case = session.get(CaseFile, int(raw)) if _record_id(raw) else None
                readable = case is not None and (
                    p is None or session.scalar(
                        select(CaseFile.id).where(CaseFile.id == case.id, visible_case_files(p))
                    ) is not None
                )  # fmt: skip
                if not readable or case.unit_id != unit.id:
                    errors.append(_error(name, f"本单位没有编号为“{raw}”的案卷"))
                else:
                    clean[column] = case.id
        elif kind == "review":
            clean[column] = None
            if raw not in (None, ""):
                doc = session.scalars(
                    select(IssuedDocument).where(
                        or_(IssuedDocument.number == str(raw),
                            IssuedDocument.id == (int(raw) if _record_id(raw) else -1))
                    )
                ).first()  # fmt: skip
                if doc is None or (p is not None and not can(session, p, "document.read", doc)):
                    errors.append(_error(name, f"没有可查阅的文书“{raw}”"))
                else:
                    clean[column] = doc.id
                    clean.setdefault("review_on", doc.issue_date)
    return clean, errors


def _apply_validity(entry: NormativeDocument, years: int | None) -> None:
    """有效期: from the day it takes effect (its publication by default), `years` long."""
    start = entry.valid_from or entry.published_on
    if start is None:
        entry.valid_until = None
        return
    entry.valid_from = start
    entry.valid_until = until(start, years or valid_years(entry) or DEFAULT_VALID_YEARS)


# ---- the service ----------------------------------------------------------------------------


def _unit(session: Session, unit_code: str | None, p: Principal) -> Unit:
    unit = (
        session.scalars(select(Unit).where(Unit.code == unit_code)).first()
        if unit_code
        else session.get(Unit, p.user.unit_id)
    )
    if unit is None:
        message = f"没有代码为“{unit_code}”的单位"
        raise ValidationFailed(message, [{"field": "unit", "label": "单位", "message": message}])
    return unit


def refuse(errors: list[dict]) -> None:
    if errors:
        message = "；".join(f"{e['label']}：{e['message']}" for e in errors)
        raise ValidationFailed(message, errors)


def register_entry(
    session: Session, p: Principal, values: Mapping, *, unit_code: str | None = None,
    via: str = "", remote_addr: str = "", settings: Settings | None = None,
) -> NormativeDocument:  # fmt: skip
    """统一登记、统一编号: a new entry of the unit's register with the next unified number of
    the year of its registration (today, China time, unless `registered_on` is given). With
    `settings`, held against the audit checkpoint (normative_numbers.py)."""
    unit = _unit(session, unit_code, p)
    if not can(session, p, "normative.edit", unit):
        raise Forbidden(f"您无权为“{unit.name}”登记规范性文件")
    clean, errors = _clean(session, p, unit, values, partial=False)
    refuse(errors)
    years = clean.pop("valid_years", None)
    clean["registered_on"] = clean.get("registered_on") or today_in_china()
    year = clean["registered_on"].year
    if settings is not None:
        normative_numbers.refuse_if_behind(settings, session, unit, year)
    seq = next_in_sequence(session, NormativeSequence, unit_id=unit.id, year=year)
    code = unit.doc_code or unit.code
    entry = NormativeDocument(unit_id=unit.id, number=format_number(code, year, seq),
                              number_year=year, number_seq=seq, created_by=p.user.id,
                              **clean)  # fmt: skip
    _apply_validity(entry, years)
    session.add(entry)
    session.flush()
    audit.record(session, REGISTER_ACTION, actor=p.user, object_type="normative",
                 object_id=entry.id, detail={"number": entry.number, "title": entry.title,
                 "unit": unit.code, "registered_on": entry.registered_on.isoformat(), "via": via},
                 remote_addr=remote_addr)  # fmt: skip
    if settings is not None:
        normative_numbers.advance_after_commit(settings, session, unit, year, seq)
    return entry


def update_entry(
    session: Session, p: Principal, entry_id: int, values: Mapping, *, via: str = "",
    remote_addr: str = "",
) -> NormativeDocument:  # fmt: skip
    """Record later steps (公布, 备案), corrections of dates, the validity or the state. The
    unified number and the registration date never change."""
    entry = open_entry(session, p, entry_id)
    if not can(session, p, "normative.edit", entry.unit):
        raise Forbidden(f"您无权修改“{entry.unit.name}”的规范性文件登记")
    given = {k: v for k, v in values.items() if k in FIELDS and k != "registered_on"}
    clean, errors = _clean(session, p, entry.unit, given, partial=True)
    refuse(errors)
    years = clean.pop("valid_years", None)
    changed = {}
    for column, value in clean.items():
        if getattr(entry, column) != value:
            changed[column] = value.isoformat() if isinstance(value, dt.date) else value
            setattr(entry, column, value)
    if changed or years:
        _apply_validity(entry, years)
    entry.updated_at = utcnow()
    audit.record(session, UPDATE_ACTION, actor=p.user, object_type="normative",
                 object_id=entry.id, detail={"number": entry.number, "changed": changed,
                 "via": via}, remote_addr=remote_addr)  # fmt: skip
    return entry


def open_entry(session: Session, p: Principal | None, entry_id: int) -> NormativeDocument:
    """One entry, if `p` reads the register and the entry's unit (NotFound otherwise)."""
    entry = session.get(NormativeDocument, entry_id)
    if entry is None or (p is not None and not (
        can(session, p, "normative.register") and entry.unit_id in p.readable_units()
    )):  # fmt: skip
        raise NotFound(f"规范性文件登记 {entry_id} 不存在或您无权查看")
    _ = entry.unit.name
    return entry


@dataclass(frozen=True)
class Entry:
    """One row of the register as a reader sees it, with its findings on `today`."""

    entry: NormativeDocument
    case_title: str
    review_number: str
    findings: list[Finding]

    @property
    def state_label(self) -> str:
        return STATES.get(self.entry.state, self.entry.state)

    def as_dict(self) -> dict:
        e = self.entry

        def d(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": e.id, "number": e.number, "title": e.title, "unit": e.unit.code,
            "unit_name": e.unit.name, "case_file_id": e.case_file_id, "case_title": self.case_title or None,
            "review_document_id": e.review_document_id, "review_number": self.review_number or None,
            "steps": [{"step": key, "label": label, "date": d(step_date(e, key))}
                      for key, label in STEPS],
            "comment_from": d(e.comment_from), "comment_to": d(e.comment_to),
            "meeting": e.meeting, "channel": e.channel, "filing_number": e.filing_number,
            "filing_body": e.filing_body, "valid_from": d(e.valid_from),
            "valid_until": d(e.valid_until), "state": e.state, "state_label": self.state_label,
            "note": e.note,
            "findings": [{"category": f.category, "label": f.label, "detail": f.detail}
                         for f in self.findings],
        }  # fmt: skip


@dataclass(frozen=True)
class Register:
    today: dt.date
    entries: list[Entry]
    counts: dict[str, int] = field(default_factory=dict)  # per state, before the state filter
    filters: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "total": len(self.entries), "counts": self.counts,
                "entries": [e.as_dict() for e in self.entries]}  # fmt: skip


def _rows(session: Session, entries: list[NormativeDocument], today: dt.date) -> list[Entry]:
    cases = dict(
        session.execute(
            select(CaseFile.id, CaseFile.title).where(
                CaseFile.id.in_([e.case_file_id for e in entries if e.case_file_id] or [-1])
            )
        ).all()
    )
    numbers = dict(session.execute(select(IssuedDocument.id, IssuedDocument.number).where(
        IssuedDocument.id.in_([e.review_document_id for e in entries if e.review_document_id]
                              or [-1]))).all())  # fmt: skip
    for e in entries:
        _ = e.unit.name
    return [Entry(e, cases.get(e.case_file_id, ""), numbers.get(e.review_document_id, ""),
                  findings(e, today)) for e in entries]  # fmt: skip


def _subtree(session: Session, root: int) -> set[int]:
    units = list(session.execute(select(Unit.id, Unit.parent_id)).all())
    out, stack = set(), [root]
    while stack:
        uid = stack.pop()
        if uid not in out:
            out.add(uid)
            stack += [u for u, parent in units if parent == uid]
    return out


def allowed_units(session: Session, p: Principal | None, unit_code: str | None) -> set[int]:
    allowed = set(session.scalars(select(Unit.id))) if p is None else p.readable_units()
    if unit_code:
        root = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if root is None:
            message = f"没有代码为“{unit_code}”的单位"
            raise ValidationFailed(message, [{"field": "unit", "label": "单位",
                                              "message": message}])  # fmt: skip
        allowed &= _subtree(session, root)
    return allowed


def list_register(
    session: Session, p: Principal | None, *, unit_code: str | None = None, state: str | None = None,
    year: str | int | None = None, q: str = "", problems: bool = False, today: dt.date | None = None,
    export: bool = False, via: str = "", remote_addr: str = "",
) -> Register:  # fmt: skip
    """The register as `p` reads it (None: the operator), filtered by unit (with sub-units),
    state, year of registration, text in the title or number (`q`) and, with `problems`, only
    entries with findings. A bad filter is refused naming its field; an inspector's read or
    export is audited as normative.read / normative.export."""
    if p is not None and not can(session, p, "normative.register"):
        raise Forbidden("您无权查看规范性文件登记簿")
    today = today or today_in_china()
    errors = []
    if state and state not in STATES:
        found = next((k for k, v in STATES.items() if v == state), None)
        if found is None:
            message = "应为 " + "、".join(STATES.values())
            errors.append({"field": "state", "label": "状态", "message": message})
        state = found
    if year not in (None, "") and (not whole_number(year) or not 1900 <= int(str(year)) <= 2200):
        errors.append({"field": "year", "label": "年度", "message": "应为 1900 至 2200 之间的年份"})
    refuse(errors)
    allowed = allowed_units(session, p, unit_code)
    query = select(NormativeDocument).where(NormativeDocument.unit_id.in_(allowed or {-1}))
    if year not in (None, ""):
        query = query.where(NormativeDocument.number_year == int(str(year)))
    text = (q or "").strip()[:100]
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(NormativeDocument.title.like(like),
                                NormativeDocument.number.like(like)))  # fmt: skip
    rows = list(session.scalars(query.order_by(NormativeDocument.number_year.desc(),
                                               NormativeDocument.unit_id,
                                               NormativeDocument.number_seq.desc())))  # fmt: skip
    counts = {k: sum(1 for r in rows if r.state == k) for k in STATES}
    if state:
        rows = [r for r in rows if r.state == state]
    entries = _rows(session, rows, today)
    if problems:
        entries = [e for e in entries if e.findings]
    if p is not None and p.has("inspector"):
        audit.record(session, "normative.export" if export else "normative.read", actor=p.user,
                     detail={"unit": unit_code or None, "state": state or None,
                             "year": str(year) if year else None, "q": text or None,
                             "results": len(entries), "via": via},
                     remote_addr=remote_addr)  # fmt: skip
    return Register(today=today, entries=entries, counts=counts,
                    filters={"unit": unit_code or "", "state": state or "", "year": year or "",
                             "q": text, "problems": problems})  # fmt: skip


def entry_view(session: Session, p: Principal | None, entry_id: int,
               today: dt.date | None = None) -> Entry:  # fmt: skip
    entry = open_entry(session, p, entry_id)
    return _rows(session, [entry], today or today_in_china())[0]
