"""The API contract: /api/v1/openapi.json describes every route, the documentation page is served
locally, and schemathesis finds no 5xx and no answer that breaks the document.

The schemathesis run is bounded and derandomized for the suite; to search wider by hand:
`ST_RANDOM=1 ST_MORE=4 pytest tests/test_api_contract.py -k schemathesis` (new seeds, 4× cases).
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from conftest import ENGINES, as_user, issue_letter, sample
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from webutil import api_client

from app.drafting import drafts
from app.jobs.outbox import drain

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api(cf):
    return api_client(cf)


def _werkzeug_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_in_the_document(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    routes = {
        (_werkzeug_to_openapi(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes, "no API routes found"
    missing = sorted(routes - documented)
    assert not missing, f"API routes missing from /api/v1/openapi.json: {missing}"
    assert not sorted(documented - routes), "the document names routes that do not exist"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"], (method, path)
            if op["security"]:  # a token is needed: it says so, and what a refusal looks like
                assert op["security"] == [{"bearerAuth": []}] and "401" in op["responses"]


def test_the_document_describes_bodies_errors_and_files(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(schemas["Error"]["required"]) == {"error", "message", "errors"}
    create = spec["paths"]["/api/v1/drafts"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DraftCreate"}
    assert schemas["DraftCreate"]["properties"]["unit"]["anyOf"][0]["type"] == "string"
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    download = spec["paths"]["/api/v1/documents/{doc_id}/download"]["get"]["responses"]["200"]
    (media_type,) = download["content"]
    assert media_type.endswith("wordprocessingml.document")
    assert download["content"][media_type]["schema"]["format"] == "binary"
    upload = spec["paths"]["/api/v1/casefiles/{case_id}/items"]["post"]["requestBody"]
    assert set(upload["content"]) == {"application/json", "multipart/form-data"}
    tokens = spec["paths"]["/api/v1/tokens"]["post"]
    assert tokens["security"] == [] and "401" in tokens["responses"]


def test_the_documentation_page_is_served_locally(app):
    client = app.test_client()
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/v1/openapi.json" in html
    assert "http://" not in html and "https://" not in html  # no CDN: an intranet has none
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 4
    for url in assets:
        r = client.get(url)
        assert r.status_code == 200 and r.data, url
        r.close()
    js = client.get("/api/v1/docs/docs.js")
    assert "SwaggerUIBundle" in js.get_data(as_text=True)
    js.close()


def test_bad_input_is_a_422_naming_the_field_never_a_500(api):
    client, token = api
    clerk = token("clerk")
    for bad, field in [
        ({"template": "commission-letter", "unit": {}, "data": sample()}, "unit"),
        ({"template": "commission-letter", "unit": [], "data": sample()}, "unit"),
        ({"template": 7, "data": sample()}, "template"),
        ({"template": "commission-letter", "data": []}, "data"),
        ({"template": "commission-letter", "data": sample(), "co_sign_units": "GOV"},
         "co_sign_units"),
        ({"template": "commission-letter", "data": sample(), "submit": "yes"}, "submit"),
    ]:  # fmt: skip
        r = client.post("/api/v1/drafts", json=bad, headers=clerk)
        assert r.status_code == 422, (bad, r.status_code, r.data)
        assert r.json["error"] == "validation_failed"
        assert field in {e["field"] for e in r.json["errors"]}, (bad, r.json)
    deep = "[" * 1000 + "]" * 1000
    for url in ("/api/v1/drafts", "/api/v1/casefiles", "/api/v1/tokens"):
        r = client.post(url, data=deep, headers=clerk | {"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json["error"] == "validation_failed", url
    for depth in (900, 985, 995, 5000):  # deep, but within what the JSON parser takes, and not
        nested = '{"a":' * depth + "1" + "}" * depth
        for body in (f'{{"template": "commission-letter", "data": {nested}}}',
                     f'{{"template": "commission-letter", "data": {{"subject": {nested}}}}}'):  # fmt: skip
            r = client.post("/api/v1/drafts", data=body,
                            headers=clerk | {"Content-Type": "application/json"})  # fmt: skip
            assert r.status_code == 422, (depth, r.data[:300])
    r = client.post("/api/v1/tokens", json={"username": ["clerk"], "password": "x"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "username"
    for url in (
        "/api/v1/documents/99999999999999999999",
        "/api/v1/drafts/0",
        "/api/v1/drafts/9223372036854775808",
    ):
        assert client.get(url, headers=clerk).status_code == 404, url
    r = client.get("/api/v1/documents?page=x", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "page"


def test_links_in_answers_are_api_routes(api, cf):
    client, token = api
    clerk = token("clerk")
    doc = client.get("/api/v1/documents", headers=clerk)
    assert doc.json["documents"] == []
    issued = issue_letter(cf)
    listed = client.get("/api/v1/documents", headers=clerk).json["documents"][0]
    shown = client.get(listed["links"]["self"], headers=clerk).json
    assert shown["id"] == issued.id
    for link in shown["links"].values():
        assert link.startswith("/api/v1/")
    assert client.get(shown["links"]["download"], headers=clerk).data[:2] == b"PK"
    draft = client.get(f"/api/v1/drafts/{issued.draft_id}", headers=clerk).json
    assert client.get(draft["links"]["download"], headers=clerk).data[:2] == b"PK"
    drain(cf)  # the search index
    found = client.get("/api/v1/search?q=委托&type=commission-letter&type=risk-notice",
                       headers=clerk).json  # fmt: skip
    (hit,) = found["hits"]
    assert (hit["url"], hit["download_url"]) == (shown["links"]["self"], shown["links"]["download"])
    assert client.get(hit["download_url"], headers=clerk).data[:2] == b"PK"
    assert client.get("/api/v1/search?q=委托&type=risk-notice", headers=clerk).json["total"] == 0
    r = client.get("/api/v1/search?type=nonsense", headers=clerk)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "type"  # as in the web and CLI


# ---- schemathesis ---------------------------------------------------------------------------


@pytest.fixture
def world(cf):
    """A store with an issued document, a draft in review, a returned draft and a case file."""
    doc = issue_letter(cf)
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        pending = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, pending.id)
        from app.casefiles import service as casefiles

        case = casefiles.create_case_file(s, clerk, title="案卷", kind="other", unit_code="FZB",
                                          retention="D10")  # fmt: skip
        item = casefiles.add_document(s, clerk, case.id, doc.id)
        to_close = casefiles.create_case_file(s, clerk, title="待归档案卷", kind="other",
                                              unit_code="FZB", retention="D10")  # fmt: skip
        casefiles.add_document(s, clerk, to_close.id, doc.id)
    drain(cf)  # index and PDF rendition
    client, token = api_client(cf)
    ids = {"doc_id": doc.id, "draft_id": pending.id, "case_id": case.id, "item_id": item.id,
           "number": 1, "template_id": "commission-letter", "case_to_close": to_close.id}  # fmt: skip
    return client.application, token("clerk"), ids


RUNS = (  # (generation mode, fix the path to real records, examples per operation)
    (schemathesis.GenerationMode.POSITIVE, True, 6 * int(os.environ.get("ST_MORE", 1))),
    (schemathesis.GenerationMode.POSITIVE, False, 2),
    (schemathesis.GenerationMode.NEGATIVE, False, 4 * int(os.environ.get("ST_MORE", 1))),
)


def _fuzz(operation, strategy, checks, examples: int, answered: set) -> int:
    """Run `examples` cases of one operation; the number of requests made."""
    made = 0

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=os.environ.get("ST_RANDOM") is None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case):
        nonlocal made
        made += 1
        response = case.call_and_validate(checks=checks)
        if response.status_code < 300:
            answered.add(operation.label)

    run()
    return made


# one engine: PostgreSQL where there is one (it refuses what SQLite lets through, such as
# integers beyond 64 bits); the API's rules above the database are the same on both
@pytest.mark.parametrize("db_url", [ENGINES[-1]], indirect=True)
def test_schemathesis_finds_no_5xx_and_no_answer_off_the_document(world):
    app, auth, ids = world
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    cases, answered = 0, set()
    for operation in operations:
        if operation.path.startswith("/api/v1/docs"):
            continue  # static files, not data
        names = {p.name for p in operation.path_parameters}
        for mode, real, examples in RUNS:
            path = {k: v for k, v in ids.items() if k in names} if real else None
            if path and operation.path.endswith("/close"):
                path["case_id"] = ids["case_to_close"]
            strategy = operation.as_strategy(mode, headers=auth, path_parameters=path)
            checks = CHECKS + ([negative_data_rejection] if mode.is_negative else [])
            try:
                cases += _fuzz(operation, strategy, checks, examples, answered)
            except Unsatisfiable:
                assert mode.is_negative, operation.label  # nothing in the request to break
    assert cases >= 200
    assert len(answered) >= 15, sorted(answered)  # the token works: most routes answered 2xx


def test_a_nul_character_is_bad_input_not_a_database_error(api):
    """PostgreSQL cannot store U+0000 in text: it is refused as a field, on both engines."""
    client, token = api
    clerk = token("clerk")
    r = client.post("/api/v1/tokens", json={"username": "clerk\x00", "password": "x"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "username"
    for bad, field in [
        ({"template": "commission-letter\x00", "data": {}}, "template"),
        ({"template": "commission-letter", "unit": "F\x00", "data": {}}, "unit"),
        ({"template": "commission-letter", "data": {"subject": ["\x00"]}}, "data.subject.0"),
    ]:
        r = client.post("/api/v1/drafts", json=bad, headers=clerk)
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, (bad, r.json)
    for url, field in [("/api/v1/contracts?unit=%00", "unit"), ("/api/v1/casefiles?unit=a%00", "unit"),
                       ("/api/v1/templates/x%00", "template_id")]:  # fmt: skip
        r = client.get(url, headers=clerk)
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field, (url, r.json)
