"""规范性文件登记簿: the register of normative documents (统一登记、统一编号、统一公布).

Long module: the register's one service (validation of an entry, registration with its unified
number, later steps, the list, the compliance rules, the yearly clean-up and the XLSX) shares the
step table and the field rules; splitting it would scatter one rule set over several files.

Every normative document passes, in this order (policy-texts/004):
公开征求意见 → 专家论证 → 合法性审查 → 集体讨论决定 → 统一登记编号 → 公布 → 备案 (within 30 days of
publication, with the supervising body's 备案号). An entry links the draft regulation's case file,
its legality-review opinion (an issued document) and the meeting that decided it; registering it
takes the next unified number of the unit's sequence for the year (`numbering.next_in_sequence`,
the gapless mechanism of the 发文字号: no gaps, no reuse, a failed registration consumes nothing).
It is valid for `valid_years` (usually 5) from its publication, and its state is 有效, 失效, 废止
or 已修改.

Compliance (`findings`): a step missing before a later one, steps out of order, a filing overdue
(or made late), a document past its validity still marked 有效. The yearly clean-up (清理) lists
what is in force at the end of a year for review.

Access: the register is read by whoever reads a unit's documents (`normative.register`; rows are
those of their readable units); the unit's clerk or office head registers and records the later
steps (`normative.edit`). Every change is audited; an inspector's read or export is audited.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import Principal, can, visible_case_files
from app.casefiles.models import CaseFile
from app.common.clock import today_in_china
from app.common.spreadsheet import keep_text_as_text
from app.db.base import utcnow
from app.drafting.models import IssuedDocument
from app.drafting.numbering import next_in_sequence
from app.errors import Forbidden, NotFound, ValidationFailed
from app.identity.models import Unit
from app.registers.models import NormativeDocument, NormativeSequence

STATES = {"in_force": "有效", "expired": "失效", "repealed": "废止", "amended": "已修改"}
DEFAULT_VALID_YEARS = 5
FILING_DAYS = 30  # 备案: within 30 days of publication
REGISTER_ACTION, UPDATE_ACTION = "normative.register", "normative.update"

# the procedure in its order: (key, label); the date of each step is `step_date`
STEPS = (
    ("comment", "公开征求意见"),
    ("expert", "专家论证"),
    ("review", "合法性审查"),
    ("decision", "集体讨论决定"),
    ("register", "统一登记编号"),
    ("publish", "公布"),
    ("file", "备案"),
)
STEP_LABELS = dict(STEPS)
BEFORE_REGISTRATION = ("comment", "expert", "review", "decision")

CATEGORIES = {
    "normative_missing": "规范性文件缺少制定程序",
    "normative_order": "规范性文件程序顺序不当",
    "normative_filing_overdue": "规范性文件逾期未备案",
    "normative_filed_late": "规范性文件超过30日备案",
    "normative_expired": "规范性文件超过有效期",
}

# the form's fields: name → (label, kind); kind: text, date, int, state, case, review
FIELDS: dict[str, tuple[str, str]] = {
    "title": ("文件名称", "text"),
    "case_file": ("制定案卷", "case"),
    "comment_from": ("公开征求意见起始日期", "date"),
    "comment_to": ("公开征求意见截止日期", "date"),
    "expert_on": ("专家论证日期", "date"),
    "review_document": ("合法性审查意见书（发文字号）", "review"),
    "review_on": ("合法性审查日期", "date"),
    "meeting": ("集体讨论决定的会议", "text"),
    "decided_on": ("集体讨论决定日期", "date"),
    "registered_on": ("登记日期", "date"),
    "published_on": ("公布日期", "date"),
    "channel": ("公布载体", "text"),
    "filed_on": ("备案日期", "date"),
    "filing_number": ("备案号", "text"),
    "filing_body": ("备案机关", "text"),
    "valid_from": ("施行日期", "date"),
    "valid_years": ("有效期（年）", "int"),
    "state": ("状态", "state"),
    "note": ("备注", "text"),
}
TEXT_LIMITS = {"title": 200, "meeting": 200, "channel": 200, "filing_number": 64,
               "filing_body": 200, "note": 2000}  # fmt: skip
COLUMNS = {  # field → model column (the form's names differ for links and validity)
    "case_file": "case_file_id", "review_document": "review_document_id",
}  # fmt: skip


def format_number(code: str, year: int, seq: int) -> str:
    """统一编号, the form normative documents carry: 武政规〔2026〕3号."""
    return f"{code}规〔{year}〕{seq}号"


def step_date(entry: NormativeDocument, key: str) -> dt.date | None:
    return {
        "comment": entry.comment_to or entry.comment_from,
        "expert": entry.expert_on,
        "review": entry.review_on,
        "decision": entry.decided_on,
        "register": entry.registered_on,
        "publish": entry.published_on,
        "file": entry.filed_on,
    }[key]


def valid_years(entry: NormativeDocument) -> int | None:
    if entry.valid_from is None or entry.valid_until is None:
        return None
    return entry.valid_until.year - entry.valid_from.year + (
        1 if (entry.valid_until.month, entry.valid_until.day) >= (entry.valid_from.month,
                                                                   entry.valid_from.day) else 0
    )  # fmt: skip


def _until(start: dt.date, years: int) -> dt.date:
    """The last day of `years` years from `start` (a 29 February start ends on 28 February)."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:
        end = start.replace(year=start.year + years, day=28)
    return end - dt.timedelta(days=1)


# ---- findings (compliance) ------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    category: str
    detail: str
    date: dt.date | None = None

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]


def findings(entry: NormativeDocument, today: dt.date) -> list[Finding]:
    """What the procedure rules say went wrong with one entry."""
    out: list[Finding] = []
    dates = {key: step_date(entry, key) for key, _ in STEPS}
    done = [key for key, _ in STEPS if dates[key] is not None]
    last = max((i for i, (key, _) in enumerate(STEPS) if dates[key] is not None), default=-1)
    missing = [label for i, (key, label) in enumerate(STEPS)
               if dates[key] is None and (i < last or key in BEFORE_REGISTRATION)]  # fmt: skip
    if missing:
        out.append(Finding("normative_missing", f"缺少{'、'.join(missing)}程序", entry.registered_on))
    latest: tuple[str, dt.date] | None = None
    for key in done:
        day = dates[key]
        if latest is not None and day < latest[1]:
            out.append(Finding("normative_order", f"{STEP_LABELS[key]}（{day.isoformat()}）早于"
                               f"{STEP_LABELS[latest[0]]}（{latest[1].isoformat()}）", day))  # fmt: skip
        if latest is None or day >= latest[1]:
            latest = (key, day)
    if entry.published_on is not None:
        due = entry.published_on + dt.timedelta(days=FILING_DAYS)
        if entry.filed_on is None and today > due:
            out.append(Finding("normative_filing_overdue",
                               f"{entry.published_on.isoformat()} 公布，应于 {due.isoformat()} 前备案，"
                               f"已逾期 {(today - due).days} 日", due))  # fmt: skip
        elif entry.filed_on is not None and entry.filed_on > due:
            out.append(Finding("normative_filed_late",
                               f"{entry.published_on.isoformat()} 公布，{entry.filed_on.isoformat()} "
                               f"才备案（超过 {FILING_DAYS} 日）", entry.filed_on))  # fmt: skip
    if entry.state == "in_force" and entry.valid_until is not None and entry.valid_until < today:
        out.append(Finding("normative_expired",
                           f"有效期至 {entry.valid_until.isoformat()}，仍登记为有效，应予清理",
                           entry.valid_until))  # fmt: skip
    return out


# ---- validation -----------------------------------------------------------------------------


def _error(name: str, message: str) -> dict:
    return {"field": name, "label": FIELDS[name][0], "message": message}


def _whole(raw: object) -> bool:
    """ASCII digits only (str.isdigit also takes ² and other digits int() refuses)."""
    text = str(raw)
    return text.isascii() and text.isdigit() and len(text) < 19


def _record_id(raw: object) -> bool:
    """A whole number a record id can be (below BIGINT's top)."""
    return _whole(raw) and 1 <= int(str(raw)) < 10**18


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
            elif not _whole(raw) or not 1 <= int(str(raw)) <= 50:
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
    entry.valid_until = _until(start, years or valid_years(entry) or DEFAULT_VALID_YEARS)


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


def _refuse(errors: list[dict]) -> None:
    if errors:
        message = "；".join(f"{e['label']}：{e['message']}" for e in errors)
        raise ValidationFailed(message, errors)


def register_entry(
    session: Session, p: Principal, values: Mapping, *, unit_code: str | None = None,
    via: str = "", remote_addr: str = "",
) -> NormativeDocument:  # fmt: skip
    """统一登记、统一编号: a new entry of the unit's register with the next unified number of
    the year of its registration (today, China time, unless `registered_on` is given)."""
    unit = _unit(session, unit_code, p)
    if not can(session, p, "normative.edit", unit):
        raise Forbidden(f"您无权为“{unit.name}”登记规范性文件")
    clean, errors = _clean(session, p, unit, values, partial=False)
    _refuse(errors)
    years = clean.pop("valid_years", None)
    clean["registered_on"] = clean.get("registered_on") or today_in_china()
    year = clean["registered_on"].year
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
    _refuse(errors)
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
    cases = dict(session.execute(select(CaseFile.id, CaseFile.title).where(
        CaseFile.id.in_([e.case_file_id for e in entries if e.case_file_id] or [-1]))).all())
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
    if year not in (None, "") and (not _whole(year) or not 1900 <= int(str(year)) <= 2200):
        errors.append({"field": "year", "label": "年度", "message": "应为 1900 至 2200 之间的年份"})
    _refuse(errors)
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


# ---- the yearly clean-up (清理) ---------------------------------------------------------------


@dataclass(frozen=True)
class CleanupRow:
    entry: Entry
    advice: str


def cleanup(session: Session, p: Principal | None, year: int | str, *, unit_code: str | None = None,
            via: str = "", remote_addr: str = "") -> list[CleanupRow]:  # fmt: skip
    """清理: what is in force at the end of `year` (registered by then, state 有效), each with
    what the review should look at (validity ended or ending next year, or to be evaluated)."""
    if not _whole(year) or not 1900 <= int(str(year)) <= 2200:
        _refuse([{"field": "year", "label": "年度", "message": "应为 1900 至 2200 之间的年份"}])
    year = int(str(year))
    end = dt.date(year, 12, 31)
    register = list_register(session, p, unit_code=unit_code, state="in_force", via=via,
                             remote_addr=remote_addr, today=end)  # fmt: skip
    out = []
    for row in register.entries:
        e = row.entry
        if e.registered_on > end:
            continue
        if e.valid_until is not None and e.valid_until <= end:
            advice = f"有效期已于 {e.valid_until.isoformat()} 届满，应宣布失效或重新制定"
        elif e.valid_until is not None and e.valid_until.year == year + 1:
            advice = f"有效期将于 {e.valid_until.isoformat()} 届满，请评估是否继续施行"
        elif e.valid_until is None:
            advice = "未登记有效期，请补充公布和施行日期"
        else:
            advice = "继续有效，请评估是否与上位法一致"
        out.append(CleanupRow(row, advice))
    return out


# ---- XLSX -----------------------------------------------------------------------------------


def to_xlsx(entries: list[Entry], title: str = "规范性文件登记簿",
            advice: list[str] | None = None) -> bytes:  # fmt: skip
    from openpyxl import Workbook  # lazy: openpyxl loads only for an export
    from openpyxl.styles import Font  # lazy: as above

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    header = ["序号", "统一编号", "文件名称", "制定单位", "公开征求意见", "专家论证", "合法性审查",
              "合法性审查意见书", "集体讨论决定", "会议", "登记日期", "公布日期", "公布载体",
              "备案日期", "备案号", "施行日期", "有效期至", "状态", "问题"]  # fmt: skip
    if advice is not None:
        header.append("清理意见")
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(entries, start=1):
        e = row.entry
        values = [i, e.number, e.title, e.unit.name, step_date(e, "comment"), e.expert_on,
                  e.review_on, row.review_number, e.decided_on, e.meeting, e.registered_on,
                  e.published_on, e.channel, e.filed_on, e.filing_number, e.valid_from,
                  e.valid_until, row.state_label, "；".join(f.detail for f in row.findings)]  # fmt: skip
        if advice is not None:
            values.append(advice[i - 1])
        ws.append(values)
    keep_text_as_text(ws)
    for r in ws.iter_rows(min_row=2):
        for col in (4, 5, 6, 8, 10, 11, 13, 15, 16):
            r[col].number_format = "yyyy-mm-dd"
    for col, width in enumerate((6, 22, 36, 24, 12, 12, 12, 22, 12, 24, 12, 12, 20, 12, 18, 12,
                                 12, 8, 40, 40)[: len(header)], start=1):  # fmt: skip
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
