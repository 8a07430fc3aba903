"""聘任合同台账: the register of issued engagement contracts, its reminder, page, XLSX, CLI and
API, computed from real issued documents on both engines."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from conftest import PASSWORD, as_user, demo_url, sample
from openpyxl import load_workbook
from sqlalchemy import select
from webutil import api_client, logged_in

from app import create_app
from app.audit.models import AuditEntry
from app.cli import main
from app.common.clock import today_in_china
from app.drafting import drafts
from app.drafting.restrictions import restrict
from app.errors import ValidationFailed
from app.identity.users import add_user
from app.registers.contracts import contract_register, contract_status

TODAY = dt.date(2027, 3, 1)
DAY = dt.timedelta(days=1)
# drafter, office head, signatory of each unit
CHAIN = {"FZB": ("clerk", "head", "signatory"), "ZRJ": ("zr-clerk", "zr-head", "zr-sign")}


@pytest.fixture
def store(cf):
    with cf.db.write() as s:  # the standard cast has no signatory in ZRJ
        add_user(s, "zr-sign", "zr-sign", "ZRJ", ["signatory"], password=PASSWORD,
                 must_change=False)  # fmt: skip
    return cf


def issue_contract(cf, start: dt.date, end: dt.date, unit: str = "FZB", readers=(), **changes):
    """Issue the sample engagement contract with this term through its whole review chain;
    `readers` restricts it (知悉范围). Returns (document id, 发文字号)."""
    data = sample("engagement-contract") | changes
    data["term"] = {"start": start.isoformat(), "end": end.isoformat()}
    drafter, head, signatory = CHAIN[unit]
    with cf.db.write() as s:
        clerk = as_user(s, drafter)
        d = drafts.create_draft(cf, s, clerk, "engagement-contract", data, unit)
        if readers:
            restrict(s, clerk, d.id, list(readers))
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, head), d.id)
        drafts.approve(cf, s, as_user(s, signatory), d.id)
        doc = drafts.issue(cf, s, clerk, d.id)
        return doc.id, doc.number


def register(cf, username: str | None, **kw):
    with cf.db.read() as s:
        return contract_register(s, as_user(s, username) if username else None, **kw)


# ---- status on a day ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "window", "expected"),
    [
        (TODAY - 300 * DAY, TODAY, 60, ("expiring", 0)),  # the last day is still in force
        (TODAY - 300 * DAY, TODAY, 0, ("expiring", 0)),
        (TODAY - 300 * DAY, TODAY + 60 * DAY, 60, ("expiring", 60)),
        (TODAY - 300 * DAY, TODAY + 61 * DAY, 60, ("active", 61)),
        (TODAY - 300 * DAY, TODAY - DAY, 60, ("expired", -1)),
        (TODAY + DAY, TODAY + 400 * DAY, 60, ("not_started", 400)),
        (TODAY + DAY, TODAY + 10 * DAY, 60, ("not_started", 10)),  # not yet in force at all
        (TODAY, TODAY + 400 * DAY, 60, ("active", 400)),  # the first day is in force
        (None, TODAY, 60, ("unknown", None)),
    ],
)
def test_status_on_a_day(start, end, window, expected):
    assert contract_status(start, end, TODAY, window) == expected


# ---- the register from issued documents -----------------------------------------------------


def test_register_of_issued_contracts(store):
    _, ends_today = issue_contract(store, TODAY - 364 * DAY, TODAY)
    _, expiring = issue_contract(store, TODAY - 300 * DAY, TODAY + 30 * DAY,
                                 adviser_name="滇池律师事务所")  # fmt: skip
    _, expired = issue_contract(store, TODAY - 400 * DAY, TODAY - DAY, adviser_name="某律所")
    _, future = issue_contract(store, TODAY + DAY, TODAY + 366 * DAY, adviser_name="某律所")
    _, active = issue_contract(store, TODAY - 10 * DAY, TODAY + 200 * DAY,
                               adviser_name="盘龙律师事务所")  # fmt: skip

    reg = register(store, "clerk", today=TODAY)
    assert [e.number for e in reg.entries] == [expired, ends_today, expiring, active, future]
    by_number = {e.number: e for e in reg.entries}
    assert (by_number[ends_today].status, by_number[ends_today].days_remaining) == ("expiring", 0)
    assert by_number[ends_today].remaining_label == "今日届满"
    assert (by_number[expiring].status, by_number[expiring].days_remaining) == ("expiring", 30)
    assert (by_number[expired].status, by_number[expired].remaining_label) == (
        "expired",
        "已过 1 日",
    )
    assert (by_number[future].status, by_number[future].starts_in) == ("not_started", 1)
    assert by_number[active].status == "active"
    assert reg.counts == {
        "expiring": 2,
        "active": 1,
        "not_started": 1,
        "expired": 1,
        "unknown": 0,
        "superseded": 0,
        "revoked": 0,
    }
    # the register reads the approved version's data: 甲方 is the issuing unit
    first = by_number[expiring]
    assert (first.unit_name, first.adviser, first.service_type) == (
        "武阳市人民政府法律顾问室", "滇池律师事务所", "常年法律顾问",
    )  # fmt: skip
    assert first.adviser_kind == "律师事务所" and str(first.fee) == "80000.00"
    assert first.filing_body == "某市司法局"
    # 某律所's contract that ended yesterday is renewed by the one starting tomorrow
    assert by_number[expired].renewed_by == future and not by_number[future].renewed_by
    assert reg.due == 2

    # a wider or narrower window moves contracts between 履行中 and 即将到期
    assert [e.number for e in register(store, "clerk", today=TODAY, window=10,
                                       status="expiring").entries] == [ends_today]  # fmt: skip
    assert register(store, "clerk", today=TODAY, window=365).counts["expiring"] == 3
    assert [e.number for e in register(store, "clerk", today=TODAY, status="expired").entries] == [
        expired
    ]
    # unit filter: a unit with its sub-units; an unknown code is an error
    assert len(register(store, "clerk", today=TODAY, unit_code="GOV").entries) == 5
    assert register(store, None, today=TODAY, unit_code="ZRJ").entries == []
    with pytest.raises(ValidationFailed, match="没有代码为“NOPE”的单位"):
        register(store, "clerk", unit_code="NOPE")
    with pytest.raises(ValidationFailed):
        register(store, "clerk", status="renewed")
    with pytest.raises(ValidationFailed):
        register(store, "clerk", window=-1)


def test_renewal_needs_the_same_unit_adviser_and_service(store):
    _, old = issue_contract(store, TODAY - 300 * DAY, TODAY + 20 * DAY)
    # a 专项 engagement of the same firm is not a renewal of its 常年 contract
    issue_contract(store, TODAY + 21 * DAY, TODAY + 400 * DAY, service_type="专项法律顾问",
                   project="某片区城市更新项目")  # fmt: skip
    # nor is a later contract of another unit with the same firm
    issue_contract(store, TODAY + 21 * DAY, TODAY + 400 * DAY, unit="ZRJ")
    reg = register(store, None, today=TODAY)
    assert next(e for e in reg.entries if e.number == old).renewed_by == ""
    assert reg.due == 1
    _, renewal = issue_contract(store, TODAY + 21 * DAY, TODAY + 386 * DAY)
    reg = register(store, None, today=TODAY)
    assert next(e for e in reg.entries if e.number == old).renewed_by == renewal
    assert reg.due == 0


# ---- who sees what --------------------------------------------------------------------------


def test_scope_follows_units_and_restrictions(store):
    _, fzb = issue_contract(store, TODAY - 300 * DAY, TODAY + 20 * DAY)
    _, zrj = issue_contract(store, TODAY - 300 * DAY, TODAY + 20 * DAY, unit="ZRJ")
    # the renewal of the FZB contract, restricted to the office head (知悉范围)
    _, secret = issue_contract(store, TODAY + 21 * DAY, TODAY + 386 * DAY, readers=["head"])

    def seen(username):
        return {e.number: e.renewed_by for e in register(store, username, today=TODAY).entries}

    assert seen("clerk") == {fzb: secret, secret: ""}  # the drafter keeps access
    assert seen("head") == {fzb: secret, secret: ""}
    # not named: the restricted renewal is hidden, and so is its number
    assert seen("clerk2") == {fzb: ""}
    assert seen("inspector") == {fzb: "", zrj: ""}
    assert seen("zr-clerk") == {zrj: ""}
    assert register(store, "clerk2", today=TODAY).due == 1
    assert register(store, "clerk", today=TODAY).due == 0
    with store.db.read() as s:
        from app.access.policy import can

        allowed = {u: can(s, as_user(s, u), "contract.register") for u in
                   ("clerk", "zr-clerk", "head", "signatory", "inspector", "adviser", "lawyer", "admin")}  # fmt: skip
    assert allowed == {"clerk": True, "zr-clerk": True, "head": True, "signatory": True,
                       "inspector": True, "adviser": False, "lawyer": False, "admin": False}  # fmt: skip


# ---- web page, reminder, XLSX ---------------------------------------------------------------


@pytest.fixture
def live(store):
    """Contracts around the real today (China time): one due, one renewed, one of ZRJ."""
    today = today_in_china()
    ids = {}
    ids["due"] = issue_contract(store, today - 300 * DAY, today + 59 * DAY, adviser_name="=1+1律所")
    ids["renewed"] = issue_contract(store, today - 300 * DAY, today + 10 * DAY,
                                    adviser_name="滇池律师事务所")  # fmt: skip
    ids["renewal"] = issue_contract(store, today + 11 * DAY, today + 376 * DAY,
                                    adviser_name="滇池律师事务所")  # fmt: skip
    ids["zrj"] = issue_contract(store, today - 300 * DAY, today + 5 * DAY, unit="ZRJ")
    return store, ids


def test_page_home_notice_and_xlsx(live):
    store, ids = live
    app = create_app({"TESTING": True}, casefile=store)
    clerk = logged_in(app, "clerk")
    home = clerk.get("/").get_data(as_text=True)
    assert (
        "1 份法律顾问聘任合同将在 60 日内到期" in home
        and 'href="/contracts?status=expiring"' in home
    )
    assert 'href="/contracts">聘任合同</a>' in home
    page = clerk.get("/contracts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for key in ("due", "renewed", "renewal"):
        assert ids[key][1] in text
    assert ids["zrj"][1] not in text
    assert "=1+1律所" in text and f"已续聘：{ids['renewal'][1]}" in text
    assert "剩 59 日" in text and "即将到期" in text and "11 日后起算" in text
    expiring = clerk.get("/contracts?status=expiring&window=30").get_data(as_text=True)
    assert ids["renewed"][1] in expiring and ids["due"][1] not in expiring
    # a bad filter is refused at its field, never replaced by a default (see test_bad_filters_*)
    bad = clerk.get("/contracts?window=abc")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "提醒期限应为 0 至 3650 之间的天数" in text and ids["due"][1] not in text
    assert 'value="abc"' in text and 'aria-invalid="true"' in text

    xlsx = clerk.get("/contracts?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "发文字号", "聘任单位（甲方）", "法律顾问（乙方）")
    assert [r[1] for r in rows[1:]] == [ids["renewed"][1], ids["due"][1], ids["renewal"][1]]
    due = rows[2]
    assert due[3] == "=1+1律所" and ws.cell(row=3, column=4).data_type == "s"  # not a formula
    assert due[8].date() == today_in_china() + 59 * DAY and due[9] == 59 and due[10] == "即将到期"
    assert rows[1][11] == ids["renewal"][1] and due[12] == 80000

    # another unit's clerk: their own contract only, and its reminder
    zr = logged_in(app, "zr-clerk")
    assert "1 份法律顾问聘任合同将在 60 日内到期" in zr.get("/").get_data(as_text=True)
    zr_page = zr.get("/contracts").get_data(as_text=True)
    assert ids["zrj"][1] in zr_page and ids["due"][1] not in zr_page


def test_page_refused_to_roles_without_documents(live):
    store, _ = live
    app = create_app({"TESTING": True}, casefile=store)
    assert app.test_client().get("/contracts").status_code == 302  # to the login page
    for username in ("adviser", "admin"):
        c = logged_in(app, username)
        assert c.get("/contracts").status_code == 403
        assert c.get("/contracts?format=xlsx").status_code == 403
        home = c.get("/").get_data(as_text=True)
        # no way to the register and no reminder (the list filter may still name the type)
        assert 'href="/contracts' not in home and "份法律顾问聘任合同" not in home


def test_inspector_reads_and_exports_are_audited(live):
    store, ids = live
    app = create_app({"TESTING": True}, casefile=store)
    c = logged_in(app, "inspector")
    page = c.get("/contracts?unit=ZRJ").get_data(as_text=True)
    assert ids["zrj"][1] in page and ids["due"][1] not in page
    assert c.get("/contracts?format=xlsx").status_code == 200
    with store.db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.actor == "inspector",
                            AuditEntry.action.like("contracts.%")).order_by(AuditEntry.seq)).all()  # fmt: skip
        got = [(e.action, e.detail["unit"], e.detail["results"]) for e in entries]
    assert got == [("contracts.read", "ZRJ", 1), ("contracts.export", None, 4)]


# ---- command line ---------------------------------------------------------------------------


@pytest.fixture
def run(store, run_cli):
    """`casefile ...` in this process, on the fixture's store."""
    return run_cli


def test_cli_lists_filters_and_refuses(live, run):
    _, ids = live
    code, out, _ = run("contracts", "--as", "clerk", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["window"] == 60 and payload["due"] == 1
    assert payload["today"] == today_in_china().isoformat()
    assert [c["number"] for c in payload["contracts"]] == [ids["renewed"][1], ids["due"][1],
                                                          ids["renewal"][1]]  # fmt: skip
    first = payload["contracts"][0]
    assert first["status"] == "expiring" and first["days_remaining"] == 10
    assert first["renewed_by"] == ids["renewal"][1] and first["unit"] == "FZB"
    assert set(first["term"]) == {"start", "end"} and first["adviser"] == "滇池律师事务所"

    code, out, _ = run("contracts", "--expiring", "30", "--as", "clerk")
    assert code == 0 and ids["renewed"][1] in out and ids["due"][1] not in out
    assert "已续聘" in out and "剩 10 日" in out
    code, out, _ = run("contracts", "--json")  # the operator: every unit
    assert code == 0 and len(json.loads(out)["contracts"]) == 4
    code, out, _ = run("contracts", "--unit", "ZRJ", "--as", "inspector", "--json")
    assert [c["number"] for c in json.loads(out)["contracts"]] == [ids["zrj"][1]]

    code, _, err = run("contracts", "--as", "adviser")
    assert code == 2 and "无权查看聘任合同台账" in err
    code, out, _ = run("contracts", "--unit", "NOPE", "--json")
    assert code == 2 and json.loads(out)["error"] == "validation_failed"
    code, _, err = run("contracts", "--expiring", "-1")
    assert code == 2 and "到期天数应为 0 至 3650 之间的天数" in err and "（expiring）" in err
    code, _, err = run("contracts", "--expiring", "30", "--status", "active")
    assert code == 2
    code, _, err = run("contracts", "--as", "nobody")
    assert code == 2 and "nobody" in err
    with pytest.raises(SystemExit) as exc:
        run("contracts", "--expiring", "30", "--window", "90")
    assert exc.value.code == 2


def test_demo_has_a_contract_to_re_engage(demo_copy, monkeypatch, capsys):
    monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(demo_copy / "archive"))
    monkeypatch.setenv("CASEFILE_INDEX_DIR", str(demo_copy / "index"))
    monkeypatch.setenv("CASEFILE_DATABASE_URL", demo_url(demo_copy))
    assert main(["contracts", "--as", "clerk", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["due"] == 1 and len(payload["contracts"]) == 3
    assert sum(1 for c in payload["contracts"] if c["renewed_by"]) == 1


# ---- JSON API -------------------------------------------------------------------------------


def test_api_shape_scope_and_errors(live):
    store, ids = live
    client, token = api_client(store)

    r = client.get("/api/v1/contracts")
    assert r.status_code == 401 and r.json["error"] == "unauthorized"
    clerk = token("clerk")
    r = client.get("/api/v1/contracts?expiring=60", headers=clerk)
    assert r.status_code == 200
    body = r.json
    assert body["status"] == "expiring" and body["window"] == 60 and body["due"] == 1
    assert [c["number"] for c in body["contracts"]] == [ids["renewed"][1], ids["due"][1]]
    assert body["counts"]["not_started"] == 1 and body["total"] == 2
    assert set(body["contracts"][0]) >= {"document_id", "number", "unit", "unit_name", "adviser",
                                         "service_type", "term", "days_remaining", "status",
                                         "status_label", "renewed_by"}  # fmt: skip
    assert client.get("/api/v1/contracts?unit=ZRJ", headers=clerk).json["contracts"] == []
    inspector = client.get("/api/v1/contracts?unit=ZRJ", headers=token("inspector")).json
    assert [c["number"] for c in inspector["contracts"]] == [ids["zrj"][1]]

    r = client.get("/api/v1/contracts", headers=token("adviser"))
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    r = client.get("/api/v1/contracts?expiring=abc", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "expiring"
    r = client.get("/api/v1/contracts?expiring=30&status=active", headers=clerk)
    assert r.status_code == 422
    r = client.get("/api/v1/contracts?unit=NOPE", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "unit"
    r = client.get("/api/v1/contracts?status=renewed", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "status"
    with store.db.read() as s:
        actions = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "contracts.read"))
        assert [d["via"] for d in actions] == ["api"]
