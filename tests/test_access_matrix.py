"""Every route of the web app and the API, as every role (and anonymous), against a table.

A route that is not in TABLE fails the test: a new page or endpoint must say who may use it.
GET routes are requested for real; state-changing routes are checked for the roles that must be
refused (they are sent a valid CSRF token, so a refusal is the policy's, not the token's).
"""

from __future__ import annotations

import pytest
from conftest import PASSWORD, as_user, issue_letter, sample
from webutil import csrf_from, login

from app import create_app
from app.drafting import drafts
from app.jobs.outbox import drain

ROLES = ["anon", "clerk", "zr-clerk", "adviser", "head", "signatory", "inspector", "admin"]
LOGGED_IN = ROLES[1:]

# who reads the FZB document / the FZB draft in review (see the world fixture)
DOC_READERS = {"clerk", "head", "signatory", "inspector"}
DRAFT_READERS = {"clerk", "head", "signatory", "inspector", "adviser"}
DRAFTERS = {"clerk", "zr-clerk", "adviser", "head"}
# who reads some unit's documents: the register of engagement contracts (聘任合同台账)
CONTRACT_READERS = {"clerk", "zr-clerk", "head", "signatory", "inspector"}


def web(allowed: set[str], ok: int = 200, denied: int = 404) -> dict[str, int]:
    return {r: 302 if r == "anon" else (ok if r in allowed else denied) for r in ROLES}


def api(allowed: set[str], ok: int = 200, denied: int = 404) -> dict[str, int]:
    return {r: 401 if r == "anon" else (ok if r in allowed else denied) for r in ROLES}


EVERYONE = set(LOGGED_IN)
# the role table gives every role but the administrator some documents and case files to read
READERS = EVERYONE - {"admin"}
# who may file into / close the case file: its readers are refused with 403, the rest 404
CASE_KEEPERS = web(set()) | {r: 403 for r in DOC_READERS} | {"clerk": None, "head": None}
API_CASE_KEEPERS = api(set()) | {r: 403 for r in DOC_READERS} | {"clerk": None, "head": None}

# (endpoint, method) -> (path template, {role: expected status})
TABLE: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    ("main.home", "GET"): ("/", web(EVERYONE)),
    ("drafts.templates", "GET"): ("/templates", web(DRAFTERS, denied=403)),
    ("drafts.new", "GET"): ("/drafts/new/commission-letter", web(DRAFTERS, denied=403)),
    ("drafts.new", "POST"): (
        "/drafts/new/commission-letter",
        web(set(), denied=403) | {r: None for r in DRAFTERS},
    ),
    ("drafts.show", "GET"): ("/drafts/{draft}", web(DRAFT_READERS)),
    ("drafts.edit", "GET"): (
        "/drafts/{draft}/edit",
        web({"clerk"}) | {r: 403 for r in DRAFT_READERS - {"clerk"}},
    ),
    ("drafts.edit", "POST"): (
        "/drafts/{draft}/edit",
        web(set()) | {r: 403 for r in DRAFT_READERS} | {"clerk": None},
    ),
    # a refusal is the 403 page with its reason (the drafter may not approve, nor whoever lacks
    # the step's role); a conflict (the draft's state) is flashed on the draft page
    # (issue 12: without the confirmation checkbox the head's approval is refused and flashed,
    # so the step stays the head's and the signatory and the inspector are refused too)
    ("drafts.act", "POST"): (
        "/drafts/{draft}/approve",
        web(set()) | {r: 403 for r in DRAFT_READERS} | {"head": 302},
    ),
    ("drafts.version_docx", "GET"): ("/drafts/{draft}/versions/1.docx", web(DRAFT_READERS)),
    ("drafts.preview", "GET"): ("/drafts/{draft}/preview.pdf", web(DRAFT_READERS)),
    # review chain (issue 4): history, slip, opinion files (step 1 is a submit: no file)
    ("history.draft_history", "GET"): ("/drafts/{draft}/history", web(DRAFT_READERS)),
    ("history.document_history", "GET"): ("/documents/{doc}/history", web(DOC_READERS)),
    ("history.slip", "GET"): ("/documents/{doc}/slip", web(DOC_READERS)),
    ("documents.slip_pdf", "GET"): ("/documents/{doc}/slip.pdf", web(DOC_READERS)),
    ("history.slip_docx", "GET"): ("/documents/{doc}/slip.docx", web(DOC_READERS)),
    ("drafts.opinion_file", "GET"): ("/drafts/{draft}/opinions/1", web(set())),
    ("restrictions.restrict_draft", "POST"): (
        "/drafts/{draft}/restrict",
        web(set()) | {r: 302 for r in DRAFT_READERS},
    ),
    ("documents.index", "GET"): ("/documents", web(READERS, denied=403)),
    ("documents.lookup", "GET"): (
        "/documents/lookup?q=委托",
        web(READERS, denied=403),
    ),  # the picker
    ("documents.show", "GET"): ("/documents/{doc}", web(DOC_READERS)),
    ("documents.download", "GET"): ("/documents/{doc}/download", web(DOC_READERS)),
    ("documents.download_pdf", "GET"): ("/documents/{doc}/pdf", web(DOC_READERS)),
    ("search.search", "GET"): ("/search?q=委托", web(READERS, denied=403)),
    ("auth.login", "GET"): ("/login", {r: 200 for r in ROLES}),
    ("auth.login", "POST"): ("/login", {r: None for r in ROLES}),
    ("auth.logout", "POST"): ("/logout", {r: 302 for r in ROLES}),
    ("auth.password", "GET"): ("/password", web(EVERYONE)),
    ("auth.password", "POST"): ("/password", web(EVERYONE)),
    # one's own e-mail address: an empty form clears it (nobody has one here), then back to /password
    ("auth.email", "POST"): ("/account/email", web(EVERYONE, ok=302)),
    ("admin.units", "GET"): ("/admin/units", web({"admin"}, denied=403)),
    ("admin.units", "POST"): ("/admin/units", web(set(), denied=403) | {"admin": None}),
    ("admin.users", "GET"): ("/admin/users", web({"admin"}, denied=403)),
    ("admin.users", "POST"): ("/admin/users", web(set(), denied=403) | {"admin": None}),
    ("admin.user_action", "POST"): (
        "/admin/users/clerk/disable",
        web(set(), denied=403) | {"admin": None},
    ),
    ("admin.grant", "POST"): ("/admin/grant", web(set(), denied=403) | {"admin": None}),
    ("admin.user_email", "POST"): (
        "/admin/users/clerk/email",
        web(set(), denied=403) | {"admin": None},
    ),
    ("admin.templates", "GET"): ("/admin/templates", web({"admin"}, denied=403)),
    ("admin.templates", "POST"): ("/admin/templates", web(set(), denied=403) | {"admin": None}),
    ("admin.audit_log", "GET"): ("/admin/audit", web({"admin", "inspector"}, denied=403)),
    ("admin.audit_csv", "GET"): ("/admin/audit.csv", web({"admin", "inspector"}, denied=403)),
    ("static", "GET"): ("/static/app.css", {r: 200 for r in ROLES}),
    ("main.favicon", "GET"): ("/favicon.ico", {r: 200 for r in ROLES}),
    # case files (issue 7): the world's FZB case file, created by clerk, holding the document
    ("casefiles.index", "GET"): ("/casefiles", web(READERS, denied=403)),
    ("casefiles.new", "GET"): ("/casefiles/new", web(DRAFTERS, denied=403)),
    ("casefiles.new", "POST"): (
        "/casefiles/new",
        web(set(), denied=403) | {r: None for r in DRAFTERS},
    ),
    ("casefiles.show", "GET"): ("/casefiles/{case}", web(DOC_READERS)),
    ("casefiles.add_document", "POST"): ("/casefiles/{case}/documents", CASE_KEEPERS),
    ("casefiles.upload", "POST"): ("/casefiles/{case}/attachments", CASE_KEEPERS),
    ("casefiles.close", "POST"): ("/casefiles/{case}/close", CASE_KEEPERS),
    # issue 12: the description and the items until closing
    ("casefiles.edit", "GET"): (
        "/casefiles/{case}/edit",
        web(set()) | {r: 403 for r in DOC_READERS} | {"clerk": 200, "head": 200},
    ),
    ("casefiles.edit", "POST"): ("/casefiles/{case}/edit", CASE_KEEPERS),
    ("casefiles.edit_item", "GET"): (
        "/casefiles/{case}/items/{item}/edit",
        web(set()) | {r: 403 for r in DOC_READERS} | {"clerk": 200, "head": 200},
    ),
    ("casefiles.edit_item", "POST"): ("/casefiles/{case}/items/{item}/edit", CASE_KEEPERS),
    ("casefiles.change_item", "POST"): ("/casefiles/{case}/items/{item}/down", CASE_KEEPERS),
    ("casefiles.download_item", "GET"): (
        "/casefiles/{case}/items/{item}/download",
        web(DOC_READERS),
    ),
    ("casefiles.export", "GET"): ("/casefiles/{case}/dossier.pdf", web(DOC_READERS)),
    ("casefiles.compliance", "GET"): ("/compliance", web({"head", "inspector"}, denied=403)),
    ("casefiles.checks", "GET"): ("/archive/checks", web({"admin", "inspector"}, denied=403)),
    ("contracts.index", "GET"): ("/contracts", web(CONTRACT_READERS, denied=403)),
    ("api.create_token", "POST"): ("/api/v1/tokens", {r: None for r in ROLES}),
    # the API contract and its documentation page are public (no token)
    ("api.openapi_json", "GET"): ("/api/v1/openapi.json", {r: 200 for r in ROLES}),
    ("api.docs_page", "GET"): ("/api/v1/docs", {r: 200 for r in ROLES}),
    ("api.docs_asset", "GET"): ("/api/v1/docs/docs.js", {r: 200 for r in ROLES}),
    ("api.templates", "GET"): ("/api/v1/templates", api(EVERYONE)),
    ("api.template", "GET"): ("/api/v1/templates/commission-letter", api(EVERYONE)),
    ("api.create_draft", "POST"): ("/api/v1/drafts", api(set()) | {r: None for r in LOGGED_IN}),
    ("api.get_draft", "GET"): ("/api/v1/drafts/{draft}", api(DRAFT_READERS)),
    ("api.edit_draft", "PUT"): (
        "/api/v1/drafts/{draft}",
        api(set()) | {r: None for r in DRAFT_READERS},
    ),
    ("api.decide", "POST"): (
        "/api/v1/drafts/{draft}/approve",
        api(set()) | {r: None for r in DRAFT_READERS},
    ),
    ("api.delete_draft", "DELETE"): (
        "/api/v1/drafts/{draft}",
        api(set()) | {r: None for r in DRAFT_READERS},
    ),
    ("api.issue", "POST"): (
        "/api/v1/drafts/{draft}/issue",
        api(set()) | {r: None for r in DRAFT_READERS},
    ),
    ("api.download_version", "GET"): (
        "/api/v1/drafts/{draft}/versions/1/download",
        api(DRAFT_READERS),
    ),
    ("api.queue", "GET"): ("/api/v1/queue", api(EVERYONE)),
    ("api.search", "GET"): ("/api/v1/search?q=委托", api(EVERYONE)),
    ("api.documents", "GET"): ("/api/v1/documents", api(EVERYONE)),
    ("api.document", "GET"): ("/api/v1/documents/{doc}", api(DOC_READERS)),
    ("api.download", "GET"): ("/api/v1/documents/{doc}/download", api(DOC_READERS)),
    ("api.download_pdf", "GET"): ("/api/v1/documents/{doc}/pdf", api(DOC_READERS)),
    ("api.contracts", "GET"): ("/api/v1/contracts", api(CONTRACT_READERS, denied=403)),
    # case files over the API: the same rules as the pages (anonymous: 401)
    ("api.casefiles", "GET"): ("/api/v1/casefiles", api(EVERYONE)),
    ("api.casefile", "GET"): ("/api/v1/casefiles/{case}", api(DOC_READERS)),
    ("api.create_casefile", "POST"): (
        "/api/v1/casefiles",
        api(set(), denied=403) | {r: None for r in DRAFTERS},
    ),
    ("api.add_casefile_item", "POST"): ("/api/v1/casefiles/{case}/items", API_CASE_KEEPERS),
    ("api.close_casefile", "POST"): ("/api/v1/casefiles/{case}/close", API_CASE_KEEPERS),
    ("api.edit_casefile", "PATCH"): ("/api/v1/casefiles/{case}", API_CASE_KEEPERS),
    ("api.edit_casefile_item", "PATCH"): (
        "/api/v1/casefiles/{case}/items/{item}",
        API_CASE_KEEPERS,
    ),
    ("api.remove_casefile_item", "DELETE"): (
        "/api/v1/casefiles/{case}/items/{item}",
        API_CASE_KEEPERS,
    ),
    ("api.move_casefile_item", "POST"): (
        "/api/v1/casefiles/{case}/items/{item}/move",
        API_CASE_KEEPERS,
    ),
    ("api.casefile_item", "GET"): (
        "/api/v1/casefiles/{case}/items/{item}/download",
        api(DOC_READERS),
    ),
    ("api.casefile_dossier", "GET"): ("/api/v1/casefiles/{case}/dossier.pdf", api(DOC_READERS)),
    ("api.casefile_package", "GET"): ("/api/v1/casefiles/{case}/package.zip", api(DOC_READERS)),
}


SESSION_ENDING = {("auth.logout", "POST"), ("auth.password", "POST")}


@pytest.fixture
def world(cf):
    doc = issue_letter(cf)
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        pending = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, pending.id)
        ids = {"doc": doc.id, "draft": pending.id}
        from app.casefiles import service as casefiles  # case files (issue 7)

        case = casefiles.create_case_file(s, clerk, title="案卷", kind="other", unit_code="FZB",
                                          retention="D10")  # fmt: skip
        ids |= {"case": case.id, "item": casefiles.add_document(s, clerk, case.id, doc.id).id}
    drain(cf)  # index and PDF rendition
    app = create_app({"TESTING": True}, casefile=cf)
    clients, tokens = {}, {}
    for role in ROLES:
        c = app.test_client()
        if role != "anon":
            assert login(c, role, PASSWORD).status_code == 302, role
            r = c.post("/api/v1/tokens", json={"username": role, "password": PASSWORD})
            tokens[role] = r.json["token"]
        clients[role] = c
    return app, ids, clients, tokens


def test_every_route_is_in_the_table(cf):
    app = create_app({"TESTING": True}, casefile=cf)
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - set(TABLE))
    assert not missing, f"routes without an access-table entry: {missing}"
    stale = sorted(set(TABLE) - routes)
    assert not stale, f"table entries for routes that no longer exist: {stale}"


def test_every_role_gets_what_the_table_says(world):
    app, ids, clients, tokens = world
    failures = []
    for (endpoint, method), (template, expected) in TABLE.items():
        path = template.format(**ids)
        for role in ROLES:
            want = expected[role]
            if want is None:
                continue  # allowed and state-changing: covered by the workflow tests
            c = clients[role]
            if (endpoint, method) in SESSION_ENDING:
                c = app.test_client()  # logging out must not log the shared clients out
                if role != "anon":
                    login(c, role, PASSWORD)
            headers = {}
            kwargs = {}
            if path.startswith("/api/"):
                if role != "anon":
                    headers["Authorization"] = f"Bearer {tokens[role]}"
                kwargs["json"] = {}
            elif method == "POST":
                token = csrf_from(c, "/login")
                kwargs["data"] = {"csrf_token": token}
            response = c.open(path, method=method, headers=headers, **kwargs)
            got = response.status_code
            response.close()
            if got != want:
                failures.append(f"{role:<10} {method:<4} {path} → {got}, expected {want}")
    assert not failures, "\n".join(failures)
