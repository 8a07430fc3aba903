"""Every route of the web app and the API, as every role (and anonymous), against a table.

A route that is not in TABLE fails the test: a new page or endpoint must say who may use it.
GET routes are requested for real; state-changing routes are checked for the roles that must be
refused (they are sent a valid CSRF token, so a refusal is the policy's, not the token's).
"""

from __future__ import annotations

import pytest
from casefile_factories import make_docx
from conftest import PASSWORD, as_user, issue_letter, sample
from matterutil import act, new_matter
from webutil import csrf_from, login

from app import create_app
from app.casefiles.attachments import inspect_upload
from app.drafting import drafts
from app.jobs.outbox import drain
from app.matters import deployment
from app.matters import service as matters

ROLES = ["anon", "clerk", "zr-clerk", "adviser", "head", "signatory", "inspector", "admin"]
LOGGED_IN = ROLES[1:]

# who reads the FZB document / the FZB draft in review (see the world fixture)
DOC_READERS = {"clerk", "head", "signatory", "inspector"}
DRAFT_READERS = {"clerk", "head", "signatory", "inspector", "adviser"}
DRAFTERS = {"clerk", "zr-clerk", "adviser", "head"}
# who reads some unit's documents: the register of engagement contracts (聘任合同台账)
CONTRACT_READERS = {"clerk", "zr-clerk", "head", "signatory", "inspector"}
# who registers normative documents in their unit (规范性文件统一登记)
NORMATIVE_KEEPERS = {"clerk", "zr-clerk", "head"}
# 督导考核: who reads the adviser pool (kept by GOV); the world's assessment is FZB's
POOL_READERS = {"clerk", "zr-clerk", "head", "signatory", "inspector"}
FZB_READERS = {"clerk", "head", "signatory", "inspector"}
# 法律事务 (see the world fixture): who reads the FZB matter (its unit's readers; the lawyer
# holding it is not a role here), who registers matters, who reads the counts, and who reads
# the ZRJ matter whose deployment (调配) is asked of GOV (no GOV office head here to pick one)
MATTER_READERS = {"clerk", "head", "signatory", "inspector"}
MATTER_REGISTRARS = {"clerk", "zr-clerk", "head"}
MATTER_COUNTERS = {"head", "inspector"}
DEPLOYMENT_READERS = {"zr-clerk", "inspector"}


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
    ("admin.propose_schema", "POST"): (
        "/admin/templates/propose",
        web(set(), denied=403) | {"admin": None},
    ),
    ("admin.template_download", "GET"): (
        "/admin/templates/commission-letter/1/template.docx",
        web({"admin"}, denied=403),
    ),
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
    ("casefiles.ocr_redo", "POST"): (
        "/archive/checks/ocr-redo",
        web(set(), denied=403) | {"admin": 302},
    ),
    ("contracts.index", "GET"): ("/contracts", web(CONTRACT_READERS, denied=403)),
    # supersede and revoke (issue 15): who drafts in the unit corrects, an office head or a
    # signatory of the unit takes part in a revocation; other readers are refused with 403
    ("documents.correct", "POST"): (
        "/documents/{doc}/correct",
        web(set()) | {"signatory": 403, "inspector": 403, "clerk": None, "head": None},
    ),
    ("documents.revoke", "POST"): (
        "/documents/{doc}/revoke",
        web(set()) | {"clerk": 403, "inspector": 403, "head": None, "signatory": None},
    ),
    ("api.correct", "POST"): (
        "/api/v1/documents/{doc}/correction",
        api(set()) | {"signatory": 403, "inspector": 403, "clerk": None, "head": None},
    ),
    ("api.propose_revocation", "POST"): (
        "/api/v1/documents/{doc}/revocation",
        api(set()) | {"clerk": 403, "inspector": 403, "head": None, "signatory": None},
    ),
    ("api.confirm_revocation", "POST"): (
        "/api/v1/documents/{doc}/revocation/confirm",
        api(set()) | {"clerk": 403, "inspector": 403, "head": None, "signatory": None},
    ),
    # the register of normative documents (issue 15): read like the contracts register, kept
    # by the unit's clerk and office head
    ("normative.index", "GET"): ("/normative", web(CONTRACT_READERS, denied=403)),
    ("normative.cleanup", "GET"): ("/normative/cleanup", web(CONTRACT_READERS, denied=403)),
    ("normative.new", "GET"): ("/normative/new", web(NORMATIVE_KEEPERS, denied=403)),
    ("normative.new", "POST"): (
        "/normative/new",
        web(set(), denied=403) | {r: None for r in NORMATIVE_KEEPERS},
    ),
    ("normative.show", "GET"): ("/normative/{normative}", web(DOC_READERS)),
    ("normative.show", "POST"): (
        "/normative/{normative}",
        web(set()) | {"signatory": 403, "inspector": 403, "clerk": None, "head": None},
    ),
    ("api.normative_register", "GET"): (
        "/api/v1/normative-documents",
        api(CONTRACT_READERS, denied=403),
    ),
    ("api.normative_entry", "GET"): ("/api/v1/normative-documents/{normative}", api(DOC_READERS)),
    ("api.create_normative", "POST"): (
        "/api/v1/normative-documents",
        api(set(), denied=403) | {r: None for r in NORMATIVE_KEEPERS},
    ),
    ("api.update_normative", "PATCH"): (
        "/api/v1/normative-documents/{normative}",
        api(set()) | {"signatory": 403, "inspector": 403, "clerk": None, "head": None},
    ),
    ("api.create_token", "POST"): ("/api/v1/tokens", {r: None for r in ROLES}),
    # the API contract and its documentation page are public (no token)
    ("api.openapi_json", "GET"): ("/api/v1/openapi.json", {r: 200 for r in ROLES}),
    ("api.docs_page", "GET"): ("/api/v1/docs", {r: 200 for r in ROLES}),
    ("api.docs_asset", "GET"): ("/api/v1/docs/docs.js", {r: 200 for r in ROLES}),
    ("api.templates", "GET"): ("/api/v1/templates", api(EVERYONE)),
    ("api.template", "GET"): ("/api/v1/templates/commission-letter", api(EVERYONE)),
    ("api.upload_template", "POST"): (
        "/api/v1/templates/memo/versions",
        api(set(), denied=403) | {"admin": None},
    ),
    ("api.template_version_file", "GET"): (
        "/api/v1/templates/commission-letter/versions/1/schema.yaml",
        api({"admin"}, denied=403),
    ),
    ("api.propose_template_schema", "POST"): (
        "/api/v1/template-proposals",
        api(set(), denied=403) | {"admin": None},
    ),
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
    ("api.casefile_ocr_redo", "POST"): (
        "/api/v1/casefiles/{case}/ocr-redo",
        api(set(), denied=403) | {"admin": 200},
    ),
    ("api.ocr_redo_failed", "POST"): (
        "/api/v1/casefiles/ocr-redo-failed",
        api(set(), denied=403) | {"admin": 200},
    ),
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
    # the world's item is a typed document: no scan, so no searchable copy for anyone (404);
    # readers of a scan's copy: tests/test_ocr.py
    ("api.casefile_item_searchable", "GET"): (
        "/api/v1/casefiles/{case}/items/{item}/searchable.pdf",
        api(set()),
    ),
    ("api.casefile_dossier", "GET"): ("/api/v1/casefiles/{case}/dossier.pdf", api(DOC_READERS)),
    ("api.casefile_package", "GET"): ("/api/v1/casefiles/{case}/package.zip", api(DOC_READERS)),
    # 督导考核 (issue 13): the world's pool entry (kept by GOV) and FZB's unconfirmed assessment
    ("supervision.index", "GET"): ("/supervision", web(POOL_READERS, ok=302, denied=403)),
    ("supervision.pool_list", "GET"): ("/supervision/pool", web(POOL_READERS, denied=403)),
    ("supervision.pool_list", "POST"): (
        "/supervision/pool",
        web(set(), denied=403) | {"inspector": None},
    ),
    ("supervision.pool_entry", "GET"): ("/supervision/pool/{entry}", web(POOL_READERS)),
    ("supervision.pool_status", "POST"): (
        "/supervision/pool/{entry}/status",
        web(set()) | {r: 403 for r in POOL_READERS} | {"inspector": None},
    ),
    ("supervision.filings", "GET"): ("/supervision/filings", web(CONTRACT_READERS, denied=403)),
    # the world's document is a commission letter: its readers are told it needs no filing
    ("supervision.filing_act", "POST"): (
        "/supervision/filings/{doc}/register",
        web(DOC_READERS, ok=302),
    ),
    ("supervision.records_page", "GET"): ("/supervision/records", web(EVERYONE)),
    ("supervision.records_page", "POST"): ("/supervision/records", web(EVERYONE, ok=422)),
    ("supervision.assessments", "GET"): ("/supervision/assessments", web(EVERYONE)),
    ("supervision.assessments", "POST"): ("/supervision/assessments", web(EVERYONE, ok=422)),
    ("supervision.assessment_sign", "POST"): (
        "/supervision/assessments/{assessment}/sign",
        web(set()) | {r: 403 for r in FZB_READERS} | {"signatory": None},
    ),
    ("supervision.dashboard_page", "GET"): (
        "/supervision/dashboard",
        web({"inspector"}, denied=403),
    ),
    ("supervision.set_weights", "POST"): (
        "/supervision/weights",
        web(set(), denied=403) | {"inspector": None},
    ),
    ("supervision.drill", "GET"): ("/supervision/drill", web({"inspector"}, ok=400, denied=403)),
    ("supervision.reports_page", "GET"): ("/supervision/reports", web(POOL_READERS, denied=403)),
    ("api.pool_list", "GET"): ("/api/v1/supervision/pool", api(POOL_READERS, denied=403)),
    ("api.pool_admit", "POST"): (
        "/api/v1/supervision/pool",
        api(set(), denied=403) | {"inspector": 422},
    ),
    ("api.pool_status", "POST"): (
        "/api/v1/supervision/pool/{entry}/status",
        api(set()) | {r: 403 for r in POOL_READERS} | {"inspector": 422},
    ),
    ("api.pool_engage", "GET"): (
        "/api/v1/supervision/pool/{entry}/engagement",
        api({"clerk", "zr-clerk", "head"}) | {"signatory": 403, "inspector": 403},
    ),
    ("api.filings", "GET"): ("/api/v1/supervision/filings", api(CONTRACT_READERS, denied=403)),
    ("api.filing_register", "POST"): (
        "/api/v1/supervision/filings/{doc}/register",
        api(DOC_READERS, ok=422),
    ),
    ("api.filing_return", "POST"): (
        "/api/v1/supervision/filings/{doc}/return",
        api(DOC_READERS, ok=422),
    ),
    ("api.filing_resubmit", "POST"): (
        "/api/v1/supervision/filings/{doc}/resubmit",
        api(DOC_READERS, ok=422),
    ),
    ("api.records_list", "GET"): ("/api/v1/supervision/records", api(EVERYONE, ok=422)),
    ("api.record_add", "POST"): ("/api/v1/supervision/records", api(EVERYONE, ok=422)),
    ("api.assessments", "GET"): ("/api/v1/supervision/assessments", api(EVERYONE)),
    ("api.assessment_save", "POST"): ("/api/v1/supervision/assessments", api(EVERYONE, ok=422)),
    ("api.assessment_sign", "POST"): (
        "/api/v1/supervision/assessments/{assessment}/sign",
        api(set()) | {r: 403 for r in FZB_READERS} | {"signatory": None},
    ),
    ("api.ranking_view", "GET"): ("/api/v1/supervision/ranking", api(EVERYONE, ok=422)),
    ("api.weights_set", "PUT"): (
        "/api/v1/supervision/weights",
        api(set(), denied=403) | {"inspector": None},
    ),
    ("api.dashboard_view", "GET"): (
        "/api/v1/supervision/dashboard",
        api({"inspector"}, denied=403),
    ),
    ("api.drill_view", "GET"): ("/api/v1/supervision/drill", api(EVERYONE, ok=422)),
    ("api.report_submissions", "GET"): (
        "/api/v1/supervision/reports",
        api({"inspector"}, denied=403),
    ),
    ("api.report_prefill", "GET"): ("/api/v1/supervision/reports/prefill", api(EVERYONE, ok=422)),
    ("api.report_start", "POST"): ("/api/v1/supervision/reports", api(EVERYONE, ok=422)),
    # 法律事务: the FZB matter, in hand (承办中) by the FZB public lawyer, with a progress note's
    # file; its readers who do not run it (only the office head does) are refused with 403
    ("matters.index", "GET"): ("/matters", web(READERS, denied=403)),
    ("matters.new", "GET"): ("/matters/new", web(MATTER_REGISTRARS, denied=403)),
    ("matters.new", "POST"): (
        "/matters/new",
        web(set(), denied=403) | {r: None for r in MATTER_REGISTRARS},
    ),
    ("matters.show", "GET"): ("/matters/{matter}", web(MATTER_READERS)),
    ("matters.act", "POST"): (
        "/matters/{matter}/assign",
        web(set()) | {r: 403 for r in MATTER_READERS} | {"head": None},
    ),
    ("matters.event_file", "GET"): (
        "/matters/{matter}/events/{matter_event}/file",
        web(MATTER_READERS),
    ),
    ("matters.pick", "GET"): (
        "/matters/deployments/{deployment}",
        web(set()) | {r: 403 for r in DEPLOYMENT_READERS},
    ),
    ("matters.pick", "POST"): (
        "/matters/deployments/{deployment}",
        web(set()) | {r: 403 for r in DEPLOYMENT_READERS},
    ),
    ("matters.decision_list", "GET"): ("/matters/decisions", web({"head"}, denied=403)),
    ("matters.decision_list", "POST"): (
        "/matters/decisions",
        web(set(), denied=403) | {"head": None},
    ),
    ("matters.stats", "GET"): ("/matters/stats", web(MATTER_COUNTERS, denied=403)),
    # one's own 执业信息, for a public lawyer or adviser: an empty form clears it, then back
    ("matters.profile", "GET"): ("/matters/profile", web({"adviser"}, denied=403)),
    ("matters.profile", "POST"): ("/matters/profile", web({"adviser"}, ok=302, denied=403)),
    ("api.matters", "GET"): ("/api/v1/matters", api(EVERYONE)),
    ("api.create_matter", "POST"): (
        "/api/v1/matters",
        api(set(), denied=403) | {r: None for r in MATTER_REGISTRARS},
    ),
    ("api.matter", "GET"): ("/api/v1/matters/{matter}", api(MATTER_READERS)),
    ("api.assign_matter", "POST"): (
        "/api/v1/matters/{matter}/assign",
        api(set()) | {r: 403 for r in MATTER_READERS} | {"head": None},
    ),
    ("api.accept_matter", "POST"): (
        "/api/v1/matters/{matter}/accept",
        api(set()) | {r: 403 for r in MATTER_READERS},
    ),
    ("api.decline_matter", "POST"): (
        "/api/v1/matters/{matter}/decline",
        api(set()) | {r: 403 for r in MATTER_READERS},
    ),
    ("api.matter_progress", "POST"): (
        "/api/v1/matters/{matter}/progress",
        api(set()) | {r: 403 for r in MATTER_READERS},
    ),
    ("api.close_matter", "POST"): (
        "/api/v1/matters/{matter}/close",
        api(set()) | {r: 403 for r in MATTER_READERS} | {"head": None},
    ),
    ("api.return_matter", "POST"): (
        "/api/v1/matters/{matter}/return",
        api(set()) | {r: 403 for r in MATTER_READERS} | {"head": None},
    ),
    ("api.request_deployment", "POST"): (
        "/api/v1/matters/{matter}/deployments",
        api(set()) | {r: 403 for r in MATTER_READERS} | {"head": None},
    ),
    # the commission letter is drafted by whoever reads the matter and drafts in its unit
    ("api.draft_letter", "POST"): (
        "/api/v1/matters/{matter}/letter",
        api(set()) | {"signatory": 403, "inspector": 403, "clerk": None, "head": None},
    ),
    ("api.deployment_candidates", "GET"): (
        "/api/v1/deployments/{deployment}/candidates",
        api(set()) | {r: 403 for r in DEPLOYMENT_READERS},
    ),
    ("api.deploy", "POST"): (
        "/api/v1/deployments/{deployment}/deploy",
        api(set()) | {r: 403 for r in DEPLOYMENT_READERS},
    ),
    ("api.matter_stats", "GET"): ("/api/v1/matters/stats", api(MATTER_COUNTERS, denied=403)),
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
        from app.registers.normative import register_entry  # the register (issue 15)

        entry = register_entry(s, clerk, {"title": "某规范性文件"}, unit_code="FZB")
        ids["normative"] = entry.id

        from app.supervision import assessment, pool  # 督导考核 (issue 13)

        entry = pool.admit(s, as_user(s, "inspector"), {
            "keeper": "GOV", "name": "某律师事务所", "kind": "律师事务所", "admitted_on": "2026-01-05",
            "proposed_by": "律师协会", "criteria": "条件", "decision": "通过"})  # fmt: skip
        graded = assessment.save_assessment(s, as_user(s, "head"), {
            "unit": "FZB", "subject": f"entry:{entry.id}", "year": 2026, "ability": 90,
            "quality": 90, "efficiency": 90})  # fmt: skip
        ids |= {"entry": entry.id, "assessment": graded.id}
    # 法律事务: an FZB matter in hand with a file, and a ZRJ matter asking GOV for a lawyer
    matter = new_matter(cf)
    act(cf, "head", matters.assign, matter, "lawyer")
    act(cf, "lawyer", matters.accept, matter)
    note = inspect_upload(make_docx("答辩状"), "答辩状.docx", cf.settings.max_upload_bytes)
    with cf.db.write() as s:
        event = matters.record_progress(cf, s, as_user(s, "lawyer"), matter, "已阅卷", note)
        ids |= {"matter": matter, "matter_event": event.id}
    asked = new_matter(cf, "zr-head", "ZRJ", kind="contract-review", case_number="")
    ids["deployment"] = act(cf, "zr-head", deployment.request_deployment, asked).id
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
