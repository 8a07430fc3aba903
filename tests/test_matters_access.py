"""Who reads and runs matters (法律事务): the role table's matter rows against can(), and a
deployed lawyer (调配) who reads exactly the matter's records of the requesting unit, the same
in lists, counts, single reads and search."""

from __future__ import annotations

import pytest
from casefile_factories import make_docx, new_case, upload
from conftest import as_user
from matterutil import act, add_gov_head, new_matter
from sqlalchemy import func, select

from app.access.policy import can, principal, search_scope, visible_case_files
from app.access.roles import ASSIGNED, NO, ROLE_TABLE, SUBTREE, UNIT
from app.casefiles.models import CaseFile
from app.drafting import drafts
from app.drafting.documents import list_documents
from app.drafting.models import IssuedDocument
from app.errors import Forbidden, NotFound, ValidationFailed, WorkflowError
from app.identity.models import ROLES, RoleGrant, Unit, User
from app.identity.users import add_unit, add_user
from app.jobs.outbox import drain
from app.matters import deployment, service
from app.matters.models import Deployment, Matter
from app.matters.stats import matter_counts
from app.search import SearchQuery

MATTER_CAPS = ("matter.read", "matter.create", "matter.assign", "matter.handle",
               "decision_list.manage")  # fmt: skip


def _expected(scope: str, code: str, mine: bool) -> bool:
    if scope == UNIT:
        return code == "A"
    if scope == SUBTREE:
        return code in ("A", "A1")
    if scope == ASSIGNED:
        return mine
    assert scope == NO, scope
    return False


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_can_answers_every_matter_cell(cf, role):
    """GOV > A > A1 and GOV > B: in each a matter of somebody else's and one assigned to the
    user; can() must answer each cell of the role table's matter rows."""
    with cf.db.write() as s:
        add_unit(s, "A", "甲局", "GOV", "甲")
        add_unit(s, "A1", "甲局下属中心", "A", "甲下")
        add_unit(s, "B", "乙局", "GOV", "乙")
        units = {u.code: u for u in s.scalars(select(Unit))}
        other = s.scalars(select(User).where(User.username == "zr-clerk")).one()
        user = User(username=f"t-{role}", name="测试", unit_id=units["A"].id, password_hash="-",
                    must_change_password=False)  # fmt: skip
        s.add(user)
        s.flush()
        s.add(RoleGrant(user_id=user.id, unit_id=units["A"].id, role=role))
        s.flush()
        s.refresh(user)
        p = principal(s, user)
        row = ROLE_TABLE[role]
        for code in ("A", "A1", "B"):
            for mine in (False, True):
                m = Matter(unit_id=units[code].id, kind="other", title="事务", status="assigned",
                           lawyer_id=user.id if mine else other.id, created_by=other.id)  # fmt: skip
                s.add(m)
                s.flush()
                for cap in ("matter.read", "matter.assign", "matter.handle"):
                    scope = row[cap]
                    want = _expected(scope, code, mine) or (cap == "matter.read" and mine)
                    assert can(s, p, cap, m) == want, (role, cap, code, mine)
            for cap in ("matter.create", "decision_list.manage"):
                assert can(s, p, cap, units[code]) == _expected(row[cap], code, False), (
                    role, cap, code)  # fmt: skip


def _issue_in_zrj(cf, subject: str) -> int:
    with cf.db.write() as s:
        clerk = as_user(s, "zr-clerk")
        d = drafts.create_draft(cf, s, clerk, "quick", {"subject": subject}, "ZRJ")
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "zr-sign"), d.id)
        return drafts.issue(cf, s, clerk, d.id).id


def _found(cf, username: str, text: str) -> set[str]:
    with cf.db.read() as s:
        scope = search_scope(s, as_user(s, username))
    return {h.doc_id for h in cf.search.search(SearchQuery(text=text), scope).hits}


def test_a_deployed_lawyer_reads_the_matters_records_and_nothing_else(quick_cf):
    cf = quick_cf
    add_gov_head(cf)
    with cf.db.write() as s:
        add_user(s, "zr-sign", "自然资源局签发人", "ZRJ", ["signatory"], password="x" * 12,
                 must_change=False)  # fmt: skip
    doc_a = _issue_in_zrj(cf, "征收补偿决定甲")
    doc_b = _issue_in_zrj(cf, "征收补偿决定乙")
    case_c = new_case(cf, "征收补偿诉讼案卷", user="zr-clerk", unit_code="ZRJ", kind="litigation")
    case_d = new_case(cf, "其他案卷", user="zr-clerk", unit_code="ZRJ", kind="other")
    upload(cf, case_c, make_docx("答辩材料", "丙地块补偿测算说明"), "丙.docx", user="zr-clerk",
           title="丙地块补偿测算说明")  # fmt: skip
    upload(cf, case_d, make_docx("内部材料", "丁地块补偿测算说明"), "丁.docx", user="zr-clerk",
           title="丁地块补偿测算说明")  # fmt: skip
    matter = new_matter(cf, user="zr-clerk", unit="ZRJ", case_file_id=case_c,
                        title="某公司诉武阳市自然资源局征收补偿")  # fmt: skip
    other = new_matter(cf, user="zr-clerk", unit="ZRJ", title="另一事务")

    # ZRJ has no public lawyer: its head cannot assign, and asks the level above (GOV)
    with pytest.raises(ValidationFailed):
        act(cf, "zr-head", service.assign, matter, "lawyer")
    with pytest.raises(Forbidden):
        act(cf, "zr-clerk", deployment.request_deployment, matter)
    dep = act(cf, "zr-head", deployment.request_deployment, matter, specialty="行政诉讼").id
    with pytest.raises(WorkflowError):
        act(cf, "zr-head", deployment.request_deployment, matter)
    with pytest.raises(NotFound):  # FZB's head is not the unit asked: not even told of it
        act(cf, "head", deployment.deploy, dep, "lawyer")
    with cf.db.write() as s:
        service.save_profile(s, as_user(s, "lawyer"), "lawyer", licence="15301202610123456",
                             phone="13808712345", specialty="行政诉讼、行政复议")  # fmt: skip
        gov = as_user(s, "gov-head")
        assert [c.user.username for c in deployment.candidates(s, gov, dep)] == ["lawyer"]
        assert deployment.candidates(s, gov, dep, specialty="劳动争议") == []
        assert [r.id for r in deployment.pending_requests(s, gov)] == [dep]
    with pytest.raises(ValidationFailed):  # not a public lawyer of GOV's system
        act(cf, "gov-head", deployment.deploy, dep, "adviser")
    act(cf, "gov-head", deployment.deploy, dep, "lawyer", "请支持")
    act(cf, "lawyer", service.accept, matter)
    act(cf, "zr-head", service.link_document, matter, doc_a)
    drain(cf, kinds=("index",))

    def reads():
        with cf.db.read() as s:
            p = as_user(s, "lawyer")
            docs = {d.id for d in list_documents(s, p, per_page=100).documents}
            zr_docs = {d for d in docs if s.get(IssuedDocument, d).unit_id != p.user.unit_id}
            cases = set(s.scalars(select(CaseFile.id).where(visible_case_files(p))))
            single = {
                "a": can(s, p, "document.read", s.get(IssuedDocument, doc_a)),
                "b": can(s, p, "document.read", s.get(IssuedDocument, doc_b)),
                "c": can(s, p, "casefile.read", s.get(CaseFile, case_c)),
                "d": can(s, p, "casefile.read", s.get(CaseFile, case_d)),
                "m": can(s, p, "matter.read", s.get(Matter, matter)),
                "other": can(s, p, "matter.read", s.get(Matter, other)),
            }
            listed = set(s.scalars(service.find_matters(s, p)).all())
            return zr_docs, cases, single, {m.id for m in listed}

    zr_docs, cases, single, listed = reads()
    assert zr_docs == {doc_a} and cases == {case_c} and listed == {matter}
    assert single == {"a": True, "b": False, "c": True, "d": False, "m": True, "other": False}
    assert _found(cf, "lawyer", "征收补偿决定") == {str(doc_a)}
    assert _found(cf, "lawyer", "补偿测算说明") and all(
        h.startswith("att-") for h in _found(cf, "lawyer", "补偿测算说明"))  # fmt: skip
    assert len(_found(cf, "lawyer", "补偿测算说明")) == 1  # 丙 only, not 丁
    assert len(_found(cf, "zr-clerk", "补偿测算说明")) == 2  # the unit's clerk reads both

    # counted for both units' statistics
    with cf.db.read() as s:
        dep_row = s.get(Deployment, dep)
        assert dep_row.status == "deployed" and dep_row.lawyer_unit_id is not None
    with cf.db.write() as s:
        service.record_progress(cf, s, as_user(s, "lawyer"), matter, "已出庭", final=True)
        service.close(s, as_user(s, "zr-head"), matter)
    with cf.db.read() as s:
        rows = {r.name: r for r in matter_counts(s, None, by="unit")}
        assert rows["武阳市自然资源局"].deployed_in == 1 and rows["武阳市自然资源局"].handled == 1
        assert rows["武阳市人民政府法律顾问室"].deployed_out == 1
        count = s.scalar(select(func.count()).select_from(Matter))
        assert count == 2
    # the matter closed, the lawyer's access to its records ends with it
    zr_docs, cases, single, listed = reads()
    assert zr_docs == set() and cases == set() and not single["a"] and not single["c"]
    assert single["m"] and _found(cf, "lawyer", "征收补偿决定") == set()


def test_a_licence_profile_is_kept_by_its_lawyer_or_an_administrator(cf):
    """执业信息: a public lawyer or adviser keeps their own, an administrator anyone's who
    handles matters; nobody else, and nobody keeps one for a user who handles none."""

    def keep(actor: str, owner: str) -> str:
        try:
            with cf.db.write() as s:
                service.save_profile(s, as_user(s, actor), owner, specialty=f"{actor}填写")
        except Forbidden as refused:
            return refused.message
        return "ok"

    assert keep("lawyer", "lawyer") == keep("adviser", "adviser") == keep("admin", "lawyer") == "ok"
    assert keep("clerk", "clerk") == "只有公职律师和法律顾问需要维护执业信息"
    assert keep("head", "lawyer") == keep("adviser", "lawyer") == "只能维护本人的执业信息"
    assert "不是公职律师或法律顾问" in keep("admin", "clerk")
    with cf.db.read() as s:
        lawyer = s.scalars(select(User).where(User.username == "lawyer")).one()
        assert service.profile_of(s, lawyer.id).specialty == "admin填写"
        assert can(s, as_user(s, "lawyer"), "lawyer.profile", lawyer)
        assert not can(s, as_user(s, "clerk"), "lawyer.profile", lawyer)
