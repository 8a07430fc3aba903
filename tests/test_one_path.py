"""One rule, one path: the web and the CLI ask the same service, so they refuse the same bad
input by the same field, audit an inspector the same way and refuse an action with its reason.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO, as_user, issue_quick, sample
from sqlalchemy import select
from webutil import CSRF_RE, logged_in

from app import create_app
from app.audit.models import AuditEntry
from app.drafting import drafts
from app.errors import Forbidden, ValidationFailed
from app.jobs.outbox import drain
from app.registers.contracts import contract_register_for
from app.search.service import SEARCH_ACTION
from app.templating.upload import add_template, check_template

TEMPLATE = REPO / "doc_templates" / "risk-notice"


def refusal(cf, call) -> ValidationFailed | Forbidden:
    """What the service says to `call(session)`; nothing it did is kept."""
    with pytest.raises((ValidationFailed, Forbidden)) as caught, cf.db.write() as s:
        call(s)
    return caught.value


# ---- bad input: the same field and message from every surface ------------------------------


@pytest.mark.parametrize(
    ("query", "cli_args", "field"),
    [
        ("window=abc", ("--window", "5000"), "window"),
        ("unit=NOPE", ("--unit", "NOPE"), "unit"),
    ],
)
def test_contracts_register_refuses_a_bad_filter_by_field_on_web_and_cli(
    cf, run_cli, query, cli_args, field
):
    name, value = query.split("=")
    expected = refusal(cf, lambda s: contract_register_for(s, as_user(s, "clerk"), **{
        "window" if name == "window" else "unit_code": value}))  # fmt: skip
    assert expected.errors[0]["field"] == field

    # web: 400, the form as typed, the reason at its field and no register in its place
    clerk = logged_in(create_app({"TESTING": True}, casefile=cf), "clerk")
    for path in (f"/contracts?{query}", f"/contracts?{query}&format=xlsx"):
        page = clerk.get(path)
        assert page.status_code == 400 and page.mimetype == "text/html"
        text = page.get_data(as_text=True)
        assert f'data-field="{field}"' in text and expected.errors[0]["message"] in text
        assert "统计日期" not in text  # not silently the default register

    # CLI: exit 2, the field in --json, the reason on stderr without it
    code, out, _ = run_cli("contracts", *cli_args, "--as", "clerk", "--json")
    body = json.loads(out)
    assert code == 2 and body["error"] == "validation_failed"
    assert body["errors"][0]["field"] == field
    if field == "unit":  # the window differs only in the value typed
        assert body["errors"][0]["message"] == expected.errors[0]["message"]
    code, _, err = run_cli("contracts", *cli_args, "--as", "clerk")
    assert code == 2 and f"（{field}）" in err


def test_expiring_is_a_shortcut_that_takes_no_other_status_or_window(cf):
    for kw in ({"status": "active"}, {"window": "30"}):
        refused = refusal(cf, lambda s, kw=kw: contract_register_for(s, None, expiring=30, **kw))
        assert refused.errors[0]["field"] == "expiring"
    with cf.db.read() as s:
        register = contract_register_for(s, None, expiring="30", status="expiring")
    assert (register.status, register.window) == ("expiring", 30)


def test_search_refuses_an_unknown_type_by_field_on_web_and_cli(cf, run_cli):
    page = logged_in(create_app({"TESTING": True}, casefile=cf), "clerk").get(
        "/search?q=审查&type=nope"
    )
    assert page.status_code == 400 and "未知的类型 nope" in page.get_data(as_text=True)
    code, out, _ = run_cli("search", "审查", "--type", "nope", "--as", "clerk", "--json")
    assert code == 2 and json.loads(out)["errors"][0]["field"] == "type"


def test_compliance_refuses_a_bad_date_or_unit_by_field(cf):
    inspector = logged_in(create_app({"TESTING": True}, casefile=cf), "inspector")
    for query, field in (("from=2026-13-01", "from"), ("to=abc", "to"), ("unit=NOPE", "unit")):
        page = inspector.get(f"/compliance?{query}")
        assert page.status_code == 400, query
        assert f'data-field="{field}"' in page.get_data(as_text=True)
    assert inspector.get("/compliance?from=2026-01-01&unit=FZB").status_code == 200


def test_template_upload_refuses_by_field_and_asks_the_policy(cf, run_cli):
    docx, schema = (
        (TEMPLATE / "template.docx").read_bytes(),
        (TEMPLATE / "schema.yaml").read_bytes(),
    )
    for args, field in (
        (("", docx, schema), "template_id"),
        (("memo", None, schema), "docx"),
        (("memo", docx, b""), "schema"),
        (("memo", docx, schema, b"{bad"), "sample"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            check_template(*args)
        assert refused.value.errors[0]["field"] == field
    refused = refusal(cf, lambda s: add_template(cf, s, as_user(s, "clerk"), "risk-notice",
                                                 docx, schema))  # fmt: skip
    assert isinstance(refused, Forbidden)

    code, out, _ = run_cli("templates", "add", "risk-notice", "--docx", str(TEMPLATE / "template.docx"),
                       "--schema", str(TEMPLATE / "schema.yaml"), "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["version"] == 2
    with cf.db.read() as s:
        uploads = s.scalars(select(AuditEntry).where(AuditEntry.action == "template.upload")).all()
    assert [(e.object_id, e.detail["version"], e.detail["via"]) for e in uploads] == [
        ("risk-notice", 2, "cli")
    ]


# ---- audit: an inspector's search reads the same from the web and the CLI -----------------


def test_an_inspectors_search_is_audited_alike_from_web_and_cli(quick_cf, run_cli):
    issue_quick(quick_cf, "狮山大道拓宽工程")
    drain(quick_cf, ("index",))
    app = create_app({"TESTING": True}, casefile=quick_cf)
    assert "共找到 1 份" in logged_in(app, "inspector").get("/search?q=狮山").get_data(as_text=True)
    logged_in(app, "clerk").get("/search?q=狮山")  # not an inspector: not audited
    code, out, _ = run_cli("search", "狮山", "--as", "inspector", "--json")
    assert code == 0 and json.loads(out)["total"] == 1

    with quick_cf.db.read() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == SEARCH_ACTION)
                            .order_by(AuditEntry.seq)).all()  # fmt: skip
    assert [(e.actor, e.detail["via"]) for e in entries] == [
        ("inspector", "web"),
        ("inspector", "cli"),
    ]
    web, cli = (e.detail for e in entries)
    assert set(web) == set(cli)
    assert {k: v for k, v in web.items() if k != "via"} == {
        k: v for k, v in cli.items() if k != "via"
    }
    assert web["query"] == "狮山" and web["results"] == 1


# ---- refusals: the 403 page with the service's reason, exit 2 with it on the CLI ----------


def test_a_refused_action_is_403_with_its_reason_on_the_web_and_exit_2_on_the_cli(cf, run_cli):
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        draft = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, draft.id)
        draft_id = draft.id
    reason = refusal(cf, lambda s: drafts.approve(cf, s, as_user(s, "clerk"), draft_id)).message

    app = create_app({"TESTING": True}, casefile=cf)
    web = logged_in(app, "clerk")
    page = web.get(f"/drafts/{draft_id}").get_data(as_text=True)
    token = CSRF_RE.search(page)[1]
    refused = web.post(f"/drafts/{draft_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 403 and reason in refused.get_data(as_text=True)
    with cf.db.read() as s:
        assert s.get(drafts.Draft, draft_id).status == "in_review"  # nothing happened

    code, _, err = run_cli("draft", "approve", str(draft_id), "--as", "clerk")
    assert code == 2 and reason in err

    # a page only some may open says why too
    admin_only = web.get("/admin/templates")
    assert admin_only.status_code == 403 and "只有管理员可以管理模板" in admin_only.get_data(
        as_text=True
    )
    # a success still redirects (POST-redirect-GET)
    head = logged_in(app, "head")
    token = CSRF_RE.search(head.get(f"/drafts/{draft_id}").get_data(as_text=True))[1]
    approved = head.post(f"/drafts/{draft_id}/approve", data={"csrf_token": token, "confirm": "1"})
    assert approved.status_code == 302


def test_an_inspectors_read_and_download_are_audited_once_each_from_web_and_api(cf):
    """One read, one `document.read`; one download, one `document.download` (with its format
    and surface) — the documents service writes both, whichever surface asked."""
    from conftest import issue_letter
    from webutil import api_client

    doc = issue_letter(cf)
    web = logged_in(create_app({"TESTING": True}, casefile=cf), "inspector")
    assert web.get(f"/documents/{doc.id}").status_code == 200
    assert web.get(f"/documents/{doc.id}/download").status_code == 200
    client, token = api_client(cf)
    auth = token("inspector")
    assert client.get(f"/api/v1/documents/{doc.id}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/documents/{doc.id}/download", headers=auth).status_code == 200
    assert client.get(f"/api/v1/documents/{doc.id}/pdf", headers=auth).json["error"] == (
        "rendition_pending"
    )
    with cf.db.read() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "document",
                                     AuditEntry.object_id == str(doc.id),
                                     AuditEntry.action.in_(["document.read", "document.download"]))
            .order_by(AuditEntry.seq)
        ).all()  # fmt: skip
    assert [(e.action, e.detail.get("via"), e.detail.get("format")) for e in entries] == [
        ("document.read", "web", None),
        ("document.download", "web", "docx"),
        ("document.read", "api", None),
        ("document.download", "api", "docx"),
    ]
