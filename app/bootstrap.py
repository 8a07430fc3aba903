"""`casefile init [--demo]`: create the store, sync the templates, a first unit and an admin."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.access.policy import principal
from app.common.clock import today_in_china
from app.container import Casefile
from app.db import migrate
from app.demo import (
    create_demo_dossiers,
    create_demo_matters,
    create_demo_register,
    create_demo_statuses,
)
from app.demo_supervision import create_demo_supervision
from app.drafting import drafts
from app.identity.models import Unit, User
from app.identity.users import add_unit, add_user

ROOT_UNIT = ("WY", "武阳市人民政府", None, "武政")
DEMO_UNITS = [
    ("WY-FZB", "武阳市人民政府法律顾问室", "WY", "武政法"),
    ("WY-SFJ", "武阳市司法局", "WY", "武司"),
    ("WY-ZRZYJ", "武阳市自然资源局", "WY", "武自然资"),
    ("WY-SSZ", "武阳市狮山镇人民政府", "WY", "狮政"),
]
DEMO_PASSWORD = "Casefile-demo-2026"
# username, name, unit, roles
DEMO_USERS = [
    ("clerk", "李文书", "WY-FZB", ["clerk"]),
    ("adviser", "王律师", "WY-FZB", ["adviser"]),
    ("lawyer", "张明远", "WY-FZB", ["public-lawyer"]),  # the commission-letter sample's lawyer
    ("head", "陈主任", "WY-FZB", ["office-head"]),
    ("signatory", "刘副市长", "WY-FZB", ["signatory"]),
    ("inspector", "周督查", "WY", ["inspector"]),
    ("zr-clerk", "孙经办", "WY-ZRZYJ", ["clerk"]),
    ("zr-head", "吴科长", "WY-ZRZYJ", ["office-head"]),
    ("zr-signatory", "郑局长", "WY-ZRZYJ", ["signatory"]),
]


@dataclass
class InitResult:
    created: bool
    admin_username: str | None = None
    admin_password: str | None = None
    templates: list[tuple[str, int]] = field(default_factory=list)
    demo_users: list[tuple[str, str, list[str]]] = field(default_factory=list)
    demo_documents: list[str] = field(default_factory=list)


def prepare(cf: Casefile) -> list[tuple[str, int]]:
    """Migrate the schema and record new versions of shipped templates (idempotent)."""
    migrate.upgrade(cf.db)
    with cf.db.write() as session:
        return cf.catalog.sync(session)


def is_initialised(cf: Casefile) -> bool:
    """True when `casefile init` has run (the schema may still need upgrading: see prepare)."""
    if migrate.current_revision(cf.db) is None:
        return False
    prepare(cf)
    with cf.db.read() as session:
        return (session.scalar(select(func.count()).select_from(User)) or 0) > 0


def init_store(cf: Casefile, demo: bool = False) -> InitResult:
    templates = prepare(cf)
    with cf.db.read() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return InitResult(created=False, templates=templates)
    result = InitResult(created=True, templates=templates)
    with cf.db.write() as session:
        code, name, _, doc_code = ROOT_UNIT
        add_unit(session, code, name, None, doc_code)
        admin, password = add_user(session, "admin", "系统管理员", code, ["admin"])
        result.admin_username, result.admin_password = admin.username, password
    if demo:
        _demo(cf, result)
    return result


def _demo(cf: Casefile, result: InitResult) -> None:
    with cf.db.write() as session:
        for code, name, parent, doc_code in DEMO_UNITS:
            add_unit(session, code, name, parent, doc_code)
        for username, name, unit, roles in DEMO_USERS:
            add_user(
                session, username, name, unit, roles, password=DEMO_PASSWORD, must_change=False
            )
            result.demo_users.append((username, name, roles))
    samples = {tid: cf.catalog.sample(tid) for tid, _ in _shipped_ids(cf)}
    sample = samples.get("commission-letter")
    if sample is None:
        return
    cases = [
        ("（2026）云01行初123号", "某房地产开发有限公司诉武阳市人民政府房屋征收补偿决定"),
        ("（2026）云01行初137号", "张某诉武阳市人民政府政府信息公开"),
        ("（2026）云0102民初4567号", "某建筑公司与武阳市人民政府建设工程施工合同纠纷"),
    ]
    for i, (case_no, case_name) in enumerate(cases):
        data = copy.deepcopy(sample)
        if "case_number" in data:
            data["case_number"] = case_no
        if "case_name" in data:
            data["case_name"] = case_name
        doc = _issue_through_chain(cf, "commission-letter", data, dt.date(2026, 11, 2 + i))
        result.demo_documents.append(doc)
    for data, date in _demo_contracts(samples.get("engagement-contract")):
        try:
            result.demo_documents.append(
                _issue_through_chain(cf, "engagement-contract", data, date)
            )
        except drafts.WorkflowError:
            break  # a changed contract template: the demo keeps its sample contract only
    for tid, data in samples.items():
        # the half-yearly report is made from the demo's records (demo_supervision.py)
        if tid not in ("commission-letter", "adviser-work-report") and data is not None:
            try:
                result.demo_documents.append(
                    _issue_through_chain(cf, tid, data, dt.date(2026, 11, 10))
                )
            except drafts.WorkflowError:
                continue  # a template whose chain the demo users cannot staff

    create_demo_dossiers(cf)
    create_demo_statuses(cf)  # 替代、撤销
    create_demo_register(cf)  # 规范性文件登记簿
    result.demo_users += create_demo_matters(cf, DEMO_PASSWORD)
    create_demo_supervision(cf, samples.get("engagement-contract"))


def _demo_contracts(sample: dict | None) -> list[tuple[dict, dt.date]]:
    """Earlier engagement contracts for the register (聘任合同台账), oldest first: the sample
    firm's contract for 2026, which the sample contract (for 2027) renews, and a scholar's
    专项 contract ending 45 days from today, so the demo always has one to re-engage."""
    if sample is None:
        return []
    current = copy.deepcopy(sample)
    current["term"] = {"start": "2026-01-01", "end": "2026-12-31"}
    end = today_in_china() + dt.timedelta(days=45)
    start = end - dt.timedelta(days=364)
    special = {k: v for k, v in copy.deepcopy(sample).items()
               if k not in {"adviser_uscc", "adviser_representative", "assigned_lawyers", "payee_account"}}  # fmt: skip
    special |= {
        "adviser_kind": "法学专家", "adviser_name": "方立诚", "adviser_employer": "武阳大学法学院",
        "adviser_title": "教授", "adviser_address": "某市某区翠湖北路2号",
        "adviser_phone": "0871-65031234", "service_type": "专项法律顾问",
        "project": "城镇老旧小区改造项目", "fee": "30000",
        "term": {"start": start.isoformat(), "end": end.isoformat()},
    }  # fmt: skip
    contracts = [(current, dt.date(2025, 12, 20)), (special, start - dt.timedelta(days=7))]
    return sorted(contracts, key=lambda c: c[1])


def _shipped_ids(cf: Casefile) -> list[tuple[str, int]]:
    with cf.db.read() as session:
        return [(row.template_id, row.version) for row in cf.catalog.latest_versions(session)]


def _as(session, username: str):
    user = session.scalars(select(User).where(User.username == username)).one()
    return principal(session, user)


def _issue_through_chain(cf: Casefile, template_id: str, data: dict, date: dt.date) -> str:
    with cf.db.write() as session:
        draft = drafts.create_draft(cf, session, _as(session, "clerk"), template_id, data, "WY-FZB")
        drafts.submit(cf, session, _as(session, "clerk"), draft.id)
        tpl = drafts.template_of(cf, session, draft)
        for step in tpl.schema.review_chain:
            reviewer = {"adviser": "adviser", "public-lawyer": "lawyer", "office-head": "head",
                        "signatory": "signatory"}.get(step.role)  # fmt: skip
            if reviewer is None:
                raise drafts.WorkflowError(f"no demo user for role {step.role}")
            drafts.approve(cf, session, _as(session, reviewer), draft.id, comment="同意。")
        doc = drafts.issue(cf, session, _as(session, "clerk"), draft.id, issue_date=date)
        return doc.number


def demo_unit_ids(session) -> dict[str, int]:
    return {u.code: u.id for u in session.scalars(select(Unit))}
