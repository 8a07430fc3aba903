"""Case files until they are closed (issue 12, points 5, 8 and 9): closing asks for confirmation,
refuses a case file the archive check would fail, naming every item and what it lacks with a
link to fill it in; before closing the description can be edited and items corrected, removed
and reordered (web, API and CLI, one service), each change audited."""

from __future__ import annotations

import pytest
from casefile_factories import close, make_pdf, new_case, upload
from conftest import as_user
from sqlalchemy import select
from webutil import api_client, csrf_from, post_form
from webutil import logged_in as _client

from app import create_app
from app.audit.models import AuditEntry
from app.casefiles import service as casefiles
from app.casefiles.models import CaseFileItem
from app.errors import ValidationFailed
from app.integrity.checks import run_checks
from app.integrity.records import check_filings

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _items(cf, case_id: int) -> list[tuple[int, str]]:
    with cf.db.read() as s:
        rows = s.scalars(
            select(CaseFileItem)
            .where(CaseFileItem.case_file_id == case_id)
            .order_by(CaseFileItem.position)
        )
        return [(i.position, i.title) for i in rows]


def _actions(cf, case_id: int) -> list[str]:
    with cf.db.read() as s:
        return list(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_type == "case_file", AuditEntry.object_id == str(case_id)
                )
            )
        )


@SQLITE
def test_closing_refuses_missing_metadata_and_links_to_the_fill_in_form(quick_cf):
    cf = quick_cf
    app = create_app({"TESTING": True}, casefile=cf)
    case = new_case(cf, responsible="")
    upload(cf, case, make_pdf(), "完整.pdf", title="完整的一件")
    bare = upload(
        cf, case, make_pdf(), "缺项.pdf", title="缺项的一件", responsible="", doc_date=None
    )
    clerk = _client(app, "clerk")
    url = f"/casefiles/{case}"
    r = post_form(clerk, url, url + "/close", {"confirm": "1"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    problems = page.split('id="close-problems"', 1)[1].split("</div>", 1)[0]
    assert "第2件「缺项的一件」：缺少责任者、日期" in problems
    assert "案卷：缺少责任人" in problems and "完整的一件" not in problems
    assert f'href="/casefiles/{case}/items/{bare}/edit"' in problems
    assert f'href="/casefiles/{case}/edit"' in problems
    assert "casefile.close" not in _actions(cf, case)

    # the rule is the archive check's: what closing refuses is what verify would report
    with cf.db.read() as s, pytest.raises(ValidationFailed) as refused:
        casefiles.close_case_file(s, as_user(s, "clerk"), case, default_fonds="Z1")
    assert {e.get("item_id") for e in refused.value.errors} == {None, bare}

    # fill it in through the offered forms, then close (with the confirmation)
    edit = f"/casefiles/{case}/items/{bare}/edit"
    form = clerk.get(edit).get_data(as_text=True)
    assert 'id="item-responsible"' in form and 'id="item-date"' in form
    bad = post_form(clerk, edit, edit, {"title": "缺项的一件", "responsible": "市政府办公室",
                                        "doc_date": "2026-13-01", "role": "other"})  # fmt: skip
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    r = post_form(clerk, edit, edit, {"title": "补全的一件", "responsible": "市政府办公室",
                                      "doc_date": "2026-11-02", "doc_number": "", "role": "other"})  # fmt: skip
    assert r.status_code == 302
    r = post_form(clerk, f"{url}/edit", f"{url}/edit", {
        "title": "改过名的案卷", "kind": "major-decision", "retention": "Y", "responsible": "李文书",
        "note": "", "received_on": "", "reviewed_on": "", "meeting_on": "", "decided_on": ""})  # fmt: skip
    assert r.status_code == 302
    page = clerk.get(url).get_data(as_text=True)
    assert "改过名的案卷" in page and 'id="confirm-close"' in page
    assert casefiles.CLOSE_CONFIRMATION in page

    r = post_form(clerk, url, url + "/close", {})  # no confirmation: nothing happens
    assert r.status_code == 302 and "此操作不可撤销" in clerk.get(url).get_data(as_text=True)
    assert "casefile.close" not in _actions(cf, case)
    r = post_form(clerk, url, url + "/close", {"confirm": "1"})
    assert r.status_code == 302 and "案卷已归档" in clerk.get(url).get_data(as_text=True)
    assert run_checks(cf, case).ok, run_checks(cf, case).findings
    assert {"casefile.edit", "casefile.item_edit", "casefile.close"} <= set(_actions(cf, case))


def test_items_are_removed_and_reordered_before_closing_and_not_after(quick_cf):
    """Both engines: the triggers of migration 0005 and the two-pass renumbering."""
    cf = quick_cf
    app = create_app({"TESTING": True}, casefile=cf)
    case = new_case(cf)
    ids = [upload(cf, case, make_pdf(), f"{n}.pdf", title=f"第{n}份") for n in "一二三"]
    clerk = _client(app, "clerk")
    url = f"/casefiles/{case}"
    assert f'id="remove-item-{ids[1]}"' in clerk.get(url).get_data(as_text=True)
    assert post_form(clerk, url, f"{url}/items/{ids[2]}/up", {}).status_code == 302
    assert _items(cf, case) == [(1, "第一份"), (2, "第三份"), (3, "第二份")]
    assert post_form(clerk, url, f"{url}/items/{ids[0]}/remove", {}).status_code == 302
    assert _items(cf, case) == [(1, "第三份"), (2, "第二份")]
    assert {"casefile.move", "casefile.remove"} <= set(_actions(cf, case))
    with cf.db.read() as s:  # verify knows a removed item from one deleted underneath
        assert check_filings(s) == []
    # another unit's clerk may not; a reader who is not a keeper is refused
    zr = _client(app, "zr-clerk")
    other = zr.post(f"{url}/items/{ids[1]}/remove", data={"csrf_token": csrf_from(zr, "/")})
    assert other.status_code == 404
    assert close(cf, case)[-1].endswith("0002")
    assert _items(cf, case) == [(1, "第三份"), (2, "第二份")]
    token = csrf_from(clerk, url)
    r = clerk.post(f"{url}/items/{ids[1]}/remove", data={"csrf_token": token})
    assert r.status_code == 403 and _items(cf, case) == [(1, "第三份"), (2, "第二份")]
    assert clerk.get(f"{url}/items/{ids[1]}/edit").status_code == 403


@SQLITE
def test_case_file_edits_through_the_api_and_the_cli(quick_cf, run_cli):
    cf = quick_cf
    case = new_case(cf)
    ids = [upload(cf, case, make_pdf(), f"{n}.pdf", title=f"第{n}份") for n in "一二三"]
    client, token = api_client(cf)
    clerk = token("clerk")
    base = f"/api/v1/casefiles/{case}"
    r = client.patch(base, headers=clerk, json={"title": "接口改名", "responsible": "王律师"})
    assert r.status_code == 200 and r.json["title"] == "接口改名"
    r = client.patch(base, headers=clerk, json={"decided_on": "2026-02-30"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "decided_on"
    r = client.patch(
        f"{base}/items/{ids[0]}", headers=clerk, json={"responsible": "", "doc_date": None}
    )
    assert r.status_code == 200
    r = client.post(f"{base}/close", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["item_id"] == ids[0]
    assert "缺少责任者、日期" in r.json["errors"][0]["message"]
    r = client.post(f"{base}/items/{ids[2]}/move", headers=clerk, json={"position": 1})
    assert r.status_code == 200 and _items(cf, case)[0] == (1, "第三份")
    r = client.post(f"{base}/items/{ids[2]}/move", headers=clerk, json={"position": 9})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "position"
    assert client.delete(f"{base}/items/{ids[1]}", headers=token("signatory")).status_code in {
        403,
        404,
    }
    assert client.delete(f"{base}/items/{ids[1]}", headers=clerk).status_code == 200
    assert [t for _, t in _items(cf, case)] == ["第三份", "第一份"]

    code, _, err = run_cli("case", "close", str(case), "--as", "clerk", "--yes")
    assert code == 2 and "缺少责任者、日期" in err
    code, _, _ = run_cli("case", "item-edit", str(case), str(ids[0]), "--responsible", "市政府",
                         "--date", "2026-11-01", "--as", "clerk")  # fmt: skip
    assert code == 0
    code, _, _ = run_cli("case", "move", str(case), str(ids[0]), "1", "--as", "clerk")
    assert code == 0 and _items(cf, case)[0] == (1, "第一份")
    code, _, _ = run_cli("case", "edit", str(case), "--title", "命令行改名", "--as", "clerk")
    assert code == 0
    code, _, _ = run_cli("case", "remove", str(case), str(ids[2]), "--as", "clerk")
    assert code == 0 and _items(cf, case) == [(1, "第一份")]
    code, _, err = run_cli("case", "close", str(case), "--as", "clerk")
    assert code == 2 and "此操作不可撤销" in err
    code, out, _ = run_cli("case", "close", str(case), "--as", "clerk", "--yes")
    assert code == 0


@SQLITE
def test_filing_by_number_accepts_any_bracket_style_and_the_picker_finds_it(quick_cf, run_cli):
    from conftest import issue_quick

    cf = quick_cf
    doc = issue_quick(cf, "停车收费调整")
    other = issue_quick(cf, "另一件事项")
    assert doc.number.startswith("武政法测〔") and "〕" in doc.number
    code, year, seq = doc.number_code, doc.number_year, doc.number_seq
    app = create_app({"TESTING": True}, casefile=cf)
    clerk = _client(app, "clerk")
    variants = [f"{code}[{year}]{seq}号", f"{code}({year}){seq}号", f"{code}（{year}）{seq}号",
                f" {code} 〔{year}〕 {seq} 号 ", f"{code}［{year}］{seq}"]  # fmt: skip
    for text in variants:
        case = new_case(cf)
        url = f"/casefiles/{case}"
        r = post_form(clerk, url, f"{url}/documents", {"document": text})
        assert r.status_code == 302
        assert _items(cf, case) == [(1, doc.title)], text
    case = new_case(cf)
    url = f"/casefiles/{case}"
    post_form(clerk, url, f"{url}/documents", {"document": f"{code}[{year}]{seq + 7}号"})
    assert _items(cf, case) == [] and "没有发文字号为" in clerk.get(url).get_data(as_text=True)
    code_, _, _ = run_cli("case", "add", str(case), "--document", f"{code}({year}){other.number_seq}号",
                          "--as", "clerk")  # fmt: skip
    assert code_ == 0 and _items(cf, case) == [(1, other.title)]

    # the picker: the page wires it up; the JSON answers by number (any brackets) or title
    page = clerk.get(url).get_data(as_text=True)
    assert 'data-lookup="/documents/lookup"' in page and "picker.js" in page
    script = clerk.get("/static/picker.js")
    assert script.status_code == 200 and b"data-lookup" in script.data
    script.close()
    found = clerk.get(f"/documents/lookup?q={code}[{year}]{seq}").json
    assert [d["number"] for d in found] == [doc.number]
    found = clerk.get("/documents/lookup?q=停车收费").json
    assert [d["id"] for d in found] == [doc.id] and found[0]["title"] == doc.title
    assert {d["id"] for d in clerk.get(f"/documents/lookup?q=({year})").json} == {doc.id, other.id}
    assert clerk.get("/documents/lookup?q=%25").json == []  # LIKE wildcards are text
    # the same rule as the lists: another unit's clerk finds nothing of FZB's
    assert _client(app, "zr-clerk").get("/documents/lookup?q=停车收费").json == []
