"""The rules of the register of normative documents: the procedure's steps in their order, the
states, the unified number's form, validity, and what the compliance view reports (`findings`).

公开征求意见 → 专家论证 → 合法性审查 → 集体讨论决定 → 统一登记编号 → 公布 → 备案 (within 30 days of
publication). Reported: a step missing before a later one (the four steps before registration
are always required), two steps out of order, a filing overdue or late, an entry past its
validity still marked 有效.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.registers.models import NormativeDocument

STATES = {"in_force": "有效", "expired": "失效", "repealed": "废止", "amended": "已修改"}
DEFAULT_VALID_YEARS = 5
FILING_DAYS = 30  # 备案: within 30 days of publication
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


def until(start: dt.date, years: int) -> dt.date:
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
        out.append(
            Finding("normative_missing", f"缺少{'、'.join(missing)}程序", entry.registered_on)
        )
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


# ---- validation -----------------------------------------------------------------------------


def whole_number(raw: object) -> bool:
    """ASCII digits only (str.isdigit also takes ² and other digits int() refuses)."""
    text = str(raw)
    return text.isascii() and text.isdigit() and len(text) < 19
