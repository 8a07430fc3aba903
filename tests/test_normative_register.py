"""规范性文件登记簿: unified numbers (gapless per unit and year, also under concurrency), the
procedure's compliance rules, the yearly clean-up, access, the page, XLSX, API and CLI, and the
integrity cross-check; both engines."""

from __future__ import annotations

import datetime as dt
import io
import json
import multiprocessing

import pytest
from casefile_factories import new_case
from conftest import as_user, issue_letter
from openpyxl import load_workbook
from sqlalchemy import select, text
from webutil import api_client, logged_in, post_form

from app import audit
from app.audit.models import AuditEntry
from app.container import open_casefile
from app.errors import Forbidden, NotFound, ValidationFailed
from app.integrity import status_records
from app.registers import normative, normative_export, normative_rules
from app.registers.compliance import compliance_findings
from app.registers.models import NormativeDocument

D = dt.date
TODAY = D(2026, 11, 30)
# a proper entry: every step in order, published, filed within 30 days
PROPER = {
    "title": "武阳市城镇老旧小区改造项目管理办法",
    "comment_from": "2026-01-05", "comment_to": "2026-02-05", "expert_on": "2026-02-20",
    "review_on": "2026-03-01", "meeting": "市人民政府第12次常务会议", "decided_on": "2026-03-10",
    "registered_on": "2026-03-15", "published_on": "2026-03-20", "channel": "武阳市人民政府公报",
    "filed_on": "2026-04-10", "filing_number": "云备〔2026〕45号", "filing_body": "云南省人民政府",
}  # fmt: skip


def register(cf, values=None, user="clerk", unit="FZB", **changes):
    with cf.db.write() as s:
        entry = normative.register_entry(s, as_user(s, user), (values or PROPER) | changes,
                                         unit_code=unit)  # fmt: skip
        return entry.id, entry.number


def found(cf, entry_id, today=TODAY) -> list[str]:
    with cf.db.read() as s:
        return [
            f.category for f in normative_rules.findings(s.get(NormativeDocument, entry_id), today)
        ]


def test_unified_numbers_per_unit_and_year_and_validity(cf):
    a = register(cf)
    b = register(cf, title="第二件")
    c = register(cf, title="次年", registered_on="2027-01-04")
    d = register(cf, user="zr-head", unit="ZRJ", title="自然资源局的一件")
    assert [x[1] for x in (a, b, c, d)] == ["武政法规〔2026〕1号", "武政法规〔2026〕2号",
                                            "武政法规〔2027〕1号", "武自然资规〔2026〕1号"]  # fmt: skip
    with cf.db.read() as s:
        e = s.get(NormativeDocument, a[0])
        # valid for five years from its publication, state 有效
        assert (e.valid_from, e.valid_until, e.state) == (
            D(2026, 3, 20),
            D(2031, 3, 19),
            "in_force",
        )
        assert normative_rules.valid_years(e) == 5
    assert found(cf, a[0]) == []


def test_a_failed_registration_consumes_no_number(cf, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure after the number was taken")

    with monkeypatch.context() as m:
        m.setattr(audit, "record", broken)
        with pytest.raises(RuntimeError):
            register(cf)
    assert register(cf)[1] == "武政法规〔2026〕1号"


def _register_many(settings, count, results):
    cf = open_casefile(settings)
    numbers = []
    for i in range(count):
        with cf.db.write() as s:
            entry = normative.register_entry(s, as_user(s, "clerk"), PROPER | {"title": f"件{i}"})
            numbers.append(entry.number_seq)
    cf.close()
    results.put(numbers)


@pytest.mark.slow
def test_concurrent_registration_is_gapless(cf):
    procs_n, per = 4, 15
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_register_many, args=(cf.settings, per, results))
             for _ in range(procs_n)]  # fmt: skip
    for p in procs:
        p.start()
    seqs = sorted(n for _ in procs for n in results.get(timeout=600))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert seqs == list(range(1, procs_n * per + 1))
    with cf.db.read() as s:
        assert status_records.check_normative(s) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"expert_on": ""}, ["normative_missing"]),  # a step before registration missing
        ({"published_on": "", "channel": ""}, ["normative_missing"]),  # filed, never published
        ({"expert_on": "2026-03-05"}, ["normative_order"]),  # expert review after the legality review
        ({"decided_on": "2026-02-25"}, ["normative_order"]),  # decided before the legality review
        ({"filed_on": "2026-05-20"}, ["normative_filed_late"]),  # 61 days after publication
        ({"filed_on": "", "filing_number": ""}, ["normative_filing_overdue"]),
        ({"published_on": "2026-11-20", "filed_on": "", "filing_number": ""}, []),  # not yet due
    ],
)  # fmt: skip
def test_compliance_rules(cf, changes, expected):
    entry_id, _ = register(cf, **changes)
    assert found(cf, entry_id) == expected


def test_past_validity_and_the_yearly_cleanup(cf):
    old, _ = register(cf, title="旧办法", published_on="2020-03-01", filed_on="2020-03-20",
                      registered_on="2020-02-20", comment_from="2019-12-01", comment_to="2019-12-31",
                      expert_on="2020-01-10", review_on="2020-01-20", decided_on="2020-02-10")  # fmt: skip
    current, _ = register(cf)
    ends_next_year, _ = register(cf, title="三年期", valid_years="2", published_on="2025-06-01",
                                 registered_on="2025-05-20", comment_from="2025-03-01",
                                 comment_to="2025-03-31", expert_on="2025-04-10",
                                 review_on="2025-04-20", decided_on="2025-05-10",
                                 filed_on="2025-06-15")  # fmt: skip
    repealed, _ = register(cf, title="已废止", state="废止")
    assert found(cf, old) == ["normative_expired"]  # valid to 2025-02-28, still 有效
    assert found(cf, repealed) == []
    with cf.db.write() as s:
        rows = normative_export.cleanup(s, as_user(s, "clerk"), 2026)
    advice = {r.entry.entry.id: r.advice for r in rows}
    assert set(advice) == {old, current, ends_next_year}  # the repealed one is not in force
    assert "已于 2025-02-28 届满" in advice[old]
    assert "将于 2027-05-31 届满" in advice[ends_next_year]
    assert "继续有效" in advice[current]
    with cf.db.write() as s, pytest.raises(ValidationFailed) as refused:
        normative_export.cleanup(s, as_user(s, "clerk"), "去年")
    assert refused.value.errors[0]["field"] == "year"
    # the compliance report carries the register's findings
    with cf.db.read() as s:
        report = compliance_findings(s, as_user(s, "inspector"), today=TODAY)
    mine = [f for f in report if f.category == "normative_expired"]
    assert [f.document_number for f in mine] == ["武政法规〔2020〕1号"]
    assert mine[0].category_label == "规范性文件超过有效期"


def test_links_validation_and_updates(cf):
    opinion = issue_letter(cf)
    case = new_case(cf, "关于制定老旧小区改造管理办法的案卷", kind="normative-document")
    values = PROPER | {"review_document": opinion.number, "review_on": "", "case_file": str(case)}
    entry_id, _ = register(cf, values)
    with cf.db.read() as s:
        row = normative.entry_view(s, as_user(s, "inspector"), entry_id)
    assert (row.review_number, row.entry.review_on) == (opinion.number, opinion.issue_date)
    assert row.case_title == "关于制定老旧小区改造管理办法的案卷"
    with cf.db.write() as s, pytest.raises(ValidationFailed) as refused:
        normative.register_entry(s, as_user(s, "clerk"), PROPER | {
            "title": "", "filed_on": "2026-13-01", "review_document": "不存在〔2026〕1号",
            "case_file": "999999", "state": "作废"})  # fmt: skip
    assert {e["field"] for e in refused.value.errors} == {
        "title", "filed_on", "review_document", "case_file", "state"}  # fmt: skip
    with cf.db.write() as s:
        normative.update_entry(s, as_user(s, "head"), entry_id,
                               {"state": "已修改", "note": "2026年修改"})  # fmt: skip
    with cf.db.read() as s:
        e = s.get(NormativeDocument, entry_id)
        assert (e.state, e.number) == ("amended", "武政法规〔2026〕1号")
        logged = s.scalars(select(AuditEntry).where(AuditEntry.action == "normative.update")).one()
        assert logged.detail["changed"] == {"state": "amended", "note": "2026年修改"}


def test_access_follows_units(cf):
    a, _ = register(cf)
    z, _ = register(cf, user="zr-head", unit="ZRJ", title="自然资源局的一件")
    with cf.db.write() as s:
        for user, expected in (("inspector", {a, z}), ("clerk", {a}), ("zr-clerk", {z}),
                               ("signatory", {a})):  # fmt: skip
            rows = normative.list_register(s, as_user(s, user))
            assert {r.entry.id for r in rows.entries} == expected, user
        with pytest.raises(Forbidden):
            normative.list_register(s, as_user(s, "adviser"))
        with pytest.raises(NotFound):
            normative.entry_view(s, as_user(s, "zr-clerk"), a)
        with pytest.raises(Forbidden):
            normative.register_entry(s, as_user(s, "signatory"), PROPER)
        with pytest.raises(Forbidden):
            normative.update_entry(s, as_user(s, "inspector"), a, {"note": "x"})
        with pytest.raises(ValidationFailed) as refused:
            normative.list_register(s, as_user(s, "clerk"), state="过期", year="二〇二六")
        assert {e["field"] for e in refused.value.errors} == {"state", "year"}
    with cf.db.read() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "normative.read")).all()
        assert [e.actor for e in reads] == ["inspector"]  # only the inspector's read is audited


def test_web_register_page_form_and_xlsx(cf, app):
    register(cf)
    clerk = logged_in(app, "clerk")
    html = clerk.get("/normative").get_data(as_text=True)
    assert "武政法规〔2026〕1号" in html and "登记规范性文件" in html
    r = post_form(clerk, "/normative/new", "/normative/new", {"unit": "FZB", "title": ""})
    assert r.status_code == 422 and "请填写文件名称" in r.get_data(as_text=True)
    form = PROPER | {"unit": "FZB", "title": "网页登记的办法", "filed_on": "", "filing_number": "",
                     "published_on": "2026-05-01"}  # fmt: skip
    r = post_form(clerk, "/normative/new", "/normative/new", form)
    assert r.status_code == 302
    page = r.headers["Location"]
    html = clerk.get(page).get_data(as_text=True)
    assert "武政法规〔2026〕2号" in html and "逾期未备案" in html
    r = post_form(clerk, page, page, {"filed_on": "2026-05-20", "filing_number": "云备〔2026〕9号",
                                      "filing_body": "云南省人民政府"})  # fmt: skip
    assert r.status_code == 302 and "逾期未备案" not in clerk.get(page).get_data(as_text=True)
    html = clerk.get("/normative?q=网页").get_data(as_text=True)
    assert "网页登记的办法" in html and "武阳市城镇老旧小区改造项目管理办法" not in html
    assert clerk.get("/normative?state=过期").status_code == 400
    r = clerk.get("/normative?format=xlsx")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in ws[1]][:3] == ["序号", "统一编号", "文件名称"]
    assert {ws.cell(row=i, column=2).value for i in (2, 3)} == {"武政法规〔2026〕1号",
                                                                 "武政法规〔2026〕2号"}  # fmt: skip
    assert "年度清理" in clerk.get("/normative/cleanup?year=2026").get_data(as_text=True)
    inspector = logged_in(app, "inspector")
    assert "网页登记的办法" in inspector.get("/normative").get_data(as_text=True)
    assert "登记规范性文件</a>" not in inspector.get("/normative").get_data(as_text=True)
    assert logged_in(app, "adviser").get("/normative").status_code == 403


def test_api_and_cli(cf, run_cli, tmp_path):
    client, token = api_client(cf)
    clerk, inspector = token("clerk"), token("inspector")
    r = client.post("/api/v1/normative-documents", json=PROPER | {"unit": "FZB"}, headers=clerk)
    assert r.status_code == 201, r.json
    entry_id = r.json["id"]
    assert r.json["number"] == "武政法规〔2026〕1号" and r.json["findings"] == []
    r = client.post("/api/v1/normative-documents", json={"title": "x", "filed_on": "明天"},
                    headers=clerk)  # fmt: skip
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "filed_on"
    r = client.patch(f"/api/v1/normative-documents/{entry_id}", json={"state": "repealed"},
                     headers=inspector)  # fmt: skip
    assert r.status_code == 403
    r = client.patch(f"/api/v1/normative-documents/{entry_id}", json={"state": "repealed"},
                     headers=clerk)  # fmt: skip
    assert r.status_code == 200 and r.json["state_label"] == "废止"
    r = client.get("/api/v1/normative-documents?state=repealed", headers=inspector)
    assert [e["id"] for e in r.json["entries"]] == [entry_id]
    code, out, err = run_cli("normative", "list", "--as", "inspector", "--xlsx",
                             str(tmp_path / "r.xlsx"))  # fmt: skip
    assert code == 0 and "武政法规〔2026〕1号" in out and (tmp_path / "r.xlsx").exists()
    data = tmp_path / "n.json"
    data.write_text(json.dumps(PROPER | {"title": "命令行登记"}), "utf-8")
    code, out, err = run_cli("normative", "register", "--data", str(data), "--as", "clerk")
    assert code == 0 and "武政法规〔2026〕2号" in out
    code, out, err = run_cli("normative", "register", "--data", str(data), "--as", "inspector")
    assert code == 2 and "无权" in err
    code, out, err = run_cli("normative", "cleanup", "--year", "2026", "--as", "clerk")
    assert code == 0 and "命令行登记" in out and "废止" not in out


def test_integrity_cross_checks_the_register(cf):
    register(cf)
    b, number = register(cf, title="第二件")
    register(cf, title="第三件")
    with cf.db.read() as s:
        assert status_records.check_normative(s) == []
    with cf.db.write() as s:
        s.execute(text("DELETE FROM normative_documents WHERE id = :i"), {"i": b})
    with cf.db.read() as s:
        problems = status_records.check_normative(s)
    assert any("第 2 号没有登记" in p for p in problems), problems
    assert any(number in p and "登记被删除" in p for p in problems), problems
