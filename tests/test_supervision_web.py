"""督导考核 pages: admit, engage (prefilled), file and register, log a service, assess, the
dashboard and its drill-down, the home page's partial; Chinese refusals, never a 500."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from casefile_factories import issue_template
from conftest import sample
from openpyxl import load_workbook
from webutil import logged_in, post_form

from app.common.clock import today_in_china

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ADMIT = {"keeper": "GOV", "name": "杨子涵", "kind": "律师", "licence": "15301202110456789",
         "firm": "云岭明德律师事务所", "specialties": "行政法、公司法", "contact": "13708719988",
         "admitted_on": "2026-01-05", "proposed_by": "市律师协会", "criteria": "执业五年以上",
         "decision": "局务会议通过"}  # fmt: skip


def test_the_whole_path_through_the_pages(app, cf):
    inspector = logged_in(app, "inspector")
    bad = post_form(inspector, "/supervision/pool", "/supervision/pool", ADMIT | {"licence": "123"})
    assert bad.status_code == 422 and "17 位数字" in bad.get_data(as_text=True)
    r = post_form(inspector, "/supervision/pool", "/supervision/pool", ADMIT)
    assert r.status_code == 302
    entry_url = r.headers["Location"]
    entry_id = int(entry_url.rsplit("/", 1)[1])

    clerk = logged_in(app, "clerk")
    assert "杨子涵" in clerk.get("/supervision/pool").get_data(as_text=True)
    page = clerk.get(entry_url).get_data(as_text=True)
    assert "起草聘任合同" in page
    form = clerk.get(f"/drafts/new/engagement-contract?pool_entry={entry_id}&unit=FZB")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and 'value="15301202110456789"' in html

    issue_template(cf, "engagement-contract", sample("engagement-contract"))
    page = inspector.get("/supervision/filings").get_data(as_text=True)
    assert "待备案" in page and "登记备案" in page
    doc_id = int(page.split("/supervision/filings/")[1].split("/")[0])
    r = post_form(inspector, "/supervision/filings", f"/supervision/filings/{doc_id}/register",
                  {"filing_number": "武司备〔2026〕8号", "filed_on": ""})  # fmt: skip
    assert r.status_code == 302
    assert "武司备〔2026〕8号" in clerk.get("/supervision/filings").get_data(as_text=True)

    today = today_in_china()
    r = post_form(clerk, "/supervision/records", "/supervision/records",
                  {"unit": "FZB", "subject": f"entry:{entry_id}", "kind": "meeting",
                   "served_on": today.isoformat(), "matter": "列席常务会议", "hours": "2"})  # fmt: skip
    assert r.status_code == 302
    bad = post_form(clerk, "/supervision/records", "/supervision/records",
                    {"unit": "FZB", "subject": f"entry:{entry_id}", "kind": "meeting",
                     "served_on": "昨天", "matter": "x", "hours": "2"})  # fmt: skip
    assert bad.status_code == 422 and "应为日期" in bad.get_data(as_text=True)
    listing = clerk.get(f"/supervision/records?year={today.year}")
    assert "列席常务会议" in listing.get_data(as_text=True)
    xlsx = clerk.get(f"/supervision/records?year={today.year}&format=xlsx")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in ws[1]][:3] == ["日期", "单位", "法律顾问或者公职律师"]
    assert any(row[4] == "列席常务会议" for row in ws.iter_rows(values_only=True))

    head = logged_in(app, "head")
    pick = head.get(f"/supervision/assessments?unit=FZB&subject=entry:{entry_id}&year={today.year}")
    assert "共 1 次" in pick.get_data(as_text=True)
    r = post_form(head, "/supervision/assessments", "/supervision/assessments",
                  {"unit": "FZB", "subject": f"entry:{entry_id}", "year": str(today.year),
                   "ability": "40", "quality": "50", "efficiency": "45", "grade": ""})  # fmt: skip
    assert r.status_code == 302
    signatory = logged_in(app, "signatory")
    page = signatory.get("/").get_data(as_text=True)
    assert "待您确认" in page
    listing = signatory.get("/supervision/assessments").get_data(as_text=True)
    aid = int(listing.split("/supervision/assessments/")[1].split("/")[0])
    r = post_form(signatory, "/supervision/assessments", f"/supervision/assessments/{aid}/sign", {})
    assert r.status_code == 302
    assert "暂停" in inspector.get(entry_url).get_data(as_text=True)

    board = inspector.get("/supervision/dashboard")
    html = board.get_data(as_text=True)
    assert board.status_code == 200 and "<svg" in html and "季度考核排名" in html
    assert (
        "法律顾问工作情况报告" in html
        and "尚未报送：武阳市人民政府法律顾问室、武阳市自然资源局" in html
    )
    quarter = (today.month - 1) // 3 + 1
    drill = inspector.get(f"/supervision/drill?unit=FZB&indicator=services&year={today.year}"
                          f"&quarter={quarter}")  # fmt: skip
    assert drill.status_code == 200 and "列席常务会议" in drill.get_data(as_text=True)
    assert re.search(
        r'<td class="nowrap">\d{4}-\d{2}-\d{2}</td>', drill.get_data(as_text=True)
    )  # 日期 whole
    export = inspector.get(
        f"/supervision/dashboard?year={today.year}&quarter={quarter}&format=xlsx"
    )
    ws = load_workbook(io.BytesIO(export.data)).active
    assert ws["A1"].value == "名次" and ws.max_row == 3
    assert "督导考核" in inspector.get("/").get_data(as_text=True)
    # a clerk has no dashboard; a bad quarter is a Chinese refusal
    assert clerk.get("/supervision/dashboard").status_code == 403
    assert "季度应为" in inspector.get("/supervision/dashboard?year=2026&quarter=9").get_data(
        as_text=True
    )
    # the half-yearly report: the clerk starts it prefilled, the inspector sees who submitted
    page = clerk.get("/supervision/reports").get_data(as_text=True)
    assert "起草本期报告" in page and "提供法律服务 1 次" in page
    half = 1 if today.month <= 6 else 2
    form = clerk.get(f"/drafts/new/adviser-work-report?unit=FZB&year={today.year}&half={half}")
    assert "列席会议" in form.get_data(as_text=True)
    assert "报告期应为" in clerk.get("/supervision/reports?year=2026&half=7").get_data(as_text=True)
    listing = inspector.get(f"/supervision/reports?year={today.year}&half={half}")
    assert "各单位报送情况（已报送 0 / 2）" in listing.get_data(as_text=True)
    ws = load_workbook(io.BytesIO(inspector.get(
        f"/supervision/reports?year={today.year}&half={half}&format=xlsx").data)).active  # fmt: skip
    assert ws["A1"].value == "单位" and ws.max_row == 3


def test_renewal_starts_from_the_register(app, cf):
    data = sample("engagement-contract")
    today = today_in_china()
    data["term"] = {"start": (today - dt.timedelta(days=300)).isoformat(),
                    "end": (today + dt.timedelta(days=20)).isoformat()}  # fmt: skip
    doc = issue_template(cf, "engagement-contract", data)
    clerk = logged_in(app, "clerk")
    page = clerk.get("/contracts").get_data(as_text=True)
    assert f"renew={doc.id}" in page and "换聘" in page
    form = clerk.get(f"/drafts/new/engagement-contract?renew={doc.id}").get_data(as_text=True)
    assert (today + dt.timedelta(days=21)).isoformat() in form


def test_the_api_and_the_cli_call_the_same_services(cf, run_cli):
    from webutil import api_client

    client, token = api_client(cf)
    inspector, clerk = token("inspector"), token("clerk")
    body = {"name": "方立诚", "kind": "法学专家", "firm": "武阳大学法学院", "admitted_on": "2026-02-01",
            "proposed_by": "武阳大学", "criteria": "教授，行政法方向", "decision": "局务会议通过"}  # fmt: skip
    r = client.post("/api/v1/supervision/pool", json=body | {"licence": "12"}, headers=inspector)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "licence"
    assert client.post("/api/v1/supervision/pool", json=body, headers=clerk).status_code == 403
    r = client.post("/api/v1/supervision/pool", json=body, headers=inspector)
    assert r.status_code == 201
    entry_id = r.json["id"]
    r = client.get(f"/api/v1/supervision/pool/{entry_id}/engagement?unit=FZB", headers=clerk)
    assert r.json["data"]["adviser_employer"] == "武阳大学法学院"
    year = today_in_china().year
    r = client.post("/api/v1/supervision/records", headers=clerk, json={
        "unit": "FZB", "subject": f"entry:{entry_id}", "kind": "training",
        "served_on": today_in_china().isoformat(), "matter": "依法行政培训", "hours": "3"})  # fmt: skip
    assert r.status_code == 201, r.json
    r = client.get(f"/api/v1/supervision/records?year={year}", headers=inspector)
    assert r.json["by_kind"] == {"法律培训": 1}
    r = client.put("/api/v1/supervision/weights", json={"services": 50}, headers=inspector)
    assert r.json["weights"]["services"] == 50
    r = client.get(f"/api/v1/supervision/ranking?year={year}&quarter=1", headers=inspector)
    assert [row["unit"] for row in r.json["rows"]] == ["FZB", "ZRJ"]
    assert client.get("/api/v1/supervision/dashboard", headers=clerk).status_code == 403
    assert client.get("/api/v1/openapi.json").json["paths"]["/api/v1/supervision/drill"]

    code, out, _ = run_cli("supervision", "records", "--year", str(year), "--as", "inspector",
                           "--json")  # fmt: skip
    assert code == 0 and '"法律培训": 1' in out
    code, out, err = run_cli("supervision", "pool", "--as", "zr-clerk")
    assert code == 0 and "方立诚" in out
    code, _, err = run_cli("supervision", "ranking", "--year", str(year), "--quarter", "5",
                           "--as", "inspector")  # fmt: skip
    assert code == 2 and "季度" in err
    code, out, _ = run_cli("supervision", "dashboard", "--as", "inspector")
    assert code == 0 and "季度考核排名" in out

    # the half-yearly report: the same prefill, draft and submissions over the API, the CLI
    # and the page (its XLSX too)
    half = 1 if today_in_china().month <= 6 else 2
    r = client.get(f"/api/v1/supervision/reports/prefill?year={year}&half={half}&unit=FZB",
                   headers=clerk)  # fmt: skip
    assert r.json["data"]["services"] == [{"kind": "法律培训", "count": 1, "hours": "3"}]
    report = {"unit": "FZB", "year": year, "half": half, "work_summary": "组织依法行政培训。",
              "problems": "无。", "next_steps": "继续开展培训。"}  # fmt: skip
    r = client.post("/api/v1/supervision/reports", json=report | {"half": 3}, headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "half"
    assert (
        client.post("/api/v1/supervision/reports", json=report, headers=inspector).status_code
        == 403
    )
    r = client.post("/api/v1/supervision/reports", json=report, headers=clerk)
    assert r.status_code == 201 and "法律顾问工作情况的报告" in r.json["title"]
    r = client.get(f"/api/v1/supervision/reports?year={year}&half={half}", headers=inspector)
    assert {u["unit"]: u["state"] for u in r.json["units"]} == {"FZB": "drafting", "ZRJ": "missing"}
    code, out, _ = run_cli("supervision", "report-data", "--unit", "ZRJ", "--year", str(year),
                           "--half", str(half), "--as", "zr-clerk")  # fmt: skip
    assert code == 0 and '"service_count": 0' in out
    code, _, err = run_cli("supervision", "reports", "--as", "clerk")
    assert code == 2 and "报送情况" in err
    code, out, _ = run_cli("supervision", "reports", "--year", str(year), "--half", str(half),
                           "--as", "inspector")  # fmt: skip
    assert code == 0 and "武阳市自然资源局  未报送" in out and "起草中" in out
