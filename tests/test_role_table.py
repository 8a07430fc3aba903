"""The role table in docs/security.md is the policy's own: the document shows
app.access.roles.render_markdown(), and can() answers every cell of ROLE_TABLE."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import REPO
from sqlalchemy import select

from app.access.policy import can, principal
from app.access.roles import (
    CAPABILITIES,
    NO,
    OWN,
    PRECEDENT,
    ROLE_TABLE,
    SUBTREE,
    UNIT,
    YES,
    render_markdown,
)
from app.casefiles.models import CaseFile
from app.drafting.models import Draft, DraftVersion, IssuedDocument
from app.identity.models import ROLES, RoleGrant, Unit, User
from app.identity.users import add_unit
from app.templating.models import TemplateVersion


def test_security_md_shows_the_policy_table():
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- role-table -->\n(.*?)<!-- /role-table -->", text, re.S)
    assert found, "docs/security.md lacks the <!-- role-table --> block"
    assert found.group(1) == render_markdown(), (
        "docs/security.md's role table differs from app/access/roles.py; "
        "regenerate it with `python -m app.access.roles`"
    )


def test_every_role_and_capability_is_in_the_table():
    assert set(ROLE_TABLE) == set(ROLES)
    for row in ROLE_TABLE.values():
        assert set(row) == set(CAPABILITIES)


@pytest.fixture
def world(cf):
    """GOV > A > A1 and GOV > B; a document, draft and case file of someone else in each, and
    in A a precedent and a non-precedent document."""
    with cf.db.write() as s:
        add_unit(s, "A", "甲局", "GOV", "甲")
        add_unit(s, "A1", "甲局下属中心", "A", "甲下")
        add_unit(s, "B", "乙局", "GOV", "乙")
        units = {u.code: u.id for u in s.scalars(select(Unit))}
        other = s.scalars(select(User).where(User.username == "zr-clerk")).one()
        tv = {
            t: s.scalars(select(TemplateVersion.id).where(TemplateVersion.template_id == t)).first()
            for t in ("legality-review-opinion", "commission-letter")
        }
        docs, drafts, cases = {}, {}, {}
        seq = 0
        sha = s.scalars(select(TemplateVersion.docx_sha256)).first()
        for code in ("A", "A1", "B"):
            for template in ("legality-review-opinion", "commission-letter"):
                draft = Draft(template_version_id=tv[template], unit_id=units[code],
                              created_by=other.id, title="他人文书", status="issued")  # fmt: skip
                s.add(draft)
                s.flush()
                version = DraftVersion(draft_id=draft.id, number=1, data={}, docx_sha256=sha,
                                       created_by=other.id)  # fmt: skip
                s.add(version)
                s.flush()
                seq += 1
                doc = IssuedDocument(
                    draft_id=draft.id, unit_id=units[code], template_version_id=tv[template],
                    title="他人文书", number=f"表〔2026〕{seq}号", number_code="表",
                    number_year=2026, number_seq=seq, issue_date=dt.date(2026, 1, 5),
                    issued_by=other.id, approved_version_id=version.id, approved_sha256=sha,
                    docx_sha256=sha,
                )  # fmt: skip
                s.add(doc)
                s.flush()
                docs[code, template] = doc.id
            draft = Draft(template_version_id=tv["commission-letter"], unit_id=units[code],
                          created_by=other.id, title="他人草稿", status="in_review")  # fmt: skip
            s.add(draft)
            s.flush()
            drafts[code] = draft.id
            case = CaseFile(unit_id=units[code], title="他人案卷", kind="other", retention="D10",
                            responsible="某人", created_by=other.id)  # fmt: skip
            s.add(case)
            s.flush()
            cases[code] = case.id
    return units, docs, drafts, cases


def _expected(scope: str, code: str, precedent: bool = True) -> bool:
    if scope == UNIT:
        return code == "A"
    if scope == SUBTREE:
        return code in ("A", "A1")
    if scope == PRECEDENT:
        return code == "A" and precedent
    if scope in (YES,):
        return True
    return False  # NO, OWN (the objects here are somebody else's)


@pytest.mark.parametrize("role", ROLES)
def test_can_answers_every_cell(cf, world, role):
    units, docs, drafts, cases = world
    row = ROLE_TABLE[role]
    with cf.db.write() as s:
        user = User(username=f"t-{role}", name="测试", unit_id=units["A"], password_hash="-",
                    must_change_password=False)  # fmt: skip
        s.add(user)
        s.flush()
        s.add(RoleGrant(user_id=user.id, unit_id=units["A"], role=role))
        s.flush()
        s.refresh(user)
        p = principal(s, user)
        for code in ("A", "A1", "B"):
            unit = s.get(Unit, units[code])
            for template, is_precedent in (("legality-review-opinion", True),
                                           ("commission-letter", False)):  # fmt: skip
                doc = s.get(IssuedDocument, docs[code, template])
                for cap in ("document.read", "document.correct", "document.revoke"):
                    assert can(s, p, cap, doc) == _expected(row[cap], code, is_precedent), (
                        role, cap, code, template)  # fmt: skip
            draft = s.get(Draft, drafts[code])
            case = s.get(CaseFile, cases[code])
            for cap, obj in (("draft.create", unit), ("draft.review", draft),
                             ("draft.issue", draft), ("draft.restrict", draft),
                             ("casefile.create", unit), ("casefile.read", case),
                             ("normative.edit", unit),
                             ("pool.manage", unit), ("service.record", unit), ("filing.submit", unit),
                             ("assessment.conduct", unit), ("assessment.sign", unit)):  # fmt: skip
                assert can(s, p, cap, obj) == _expected(row[cap], code), (role, cap, code)
        for cap in ("contract.register", "archive.compliance", "archive.checks", "audit.read",
                    "user.manage", "normative.register", "pool.read", "supervision.dashboard"):  # fmt: skip
            assert can(s, p, cap) == (row[cap] == YES), (role, cap)
        # OWN: what the user drafted or created, anywhere they may create it
        if row["draft.create"] != NO or row["draft.restrict"] == OWN:
            mine = Draft(template_version_id=drafts and s.get(Draft, drafts["A"]).template_version_id,
                         unit_id=units["A"], created_by=user.id, title="本人草稿", status="draft")  # fmt: skip
            s.add(mine)
            s.flush()
            assert can(s, p, "draft.restrict", mine) == (row["draft.restrict"] in (OWN, UNIT))
        if row["casefile.create"] != NO:
            own_case = CaseFile(unit_id=units["B"], title="本人案卷", kind="other",
                                retention="D10", responsible="某人", created_by=user.id)  # fmt: skip
            s.add(own_case)
            s.flush()
            assert can(s, p, "casefile.read", own_case)
