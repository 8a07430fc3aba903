"""JSON API: tokens, the same workflow, errors as JSON with a field-by-field list."""

import pytest
from conftest import sample
from webutil import api_client


@pytest.fixture
def api(cf):
    return api_client(cf)


def test_full_path_over_the_api(api):
    client, token = api
    clerk, head, sign = token("clerk"), token("head"), token("signatory")
    tpls = client.get("/api/v1/templates", headers=clerk).json["templates"]
    assert "commission-letter" in {t["id"] for t in tpls}
    r = client.post(
        "/api/v1/drafts",
        json={"template": "commission-letter", "unit": "FZB", "data": sample(), "submit": True},
        headers=clerk,
    )
    assert r.status_code == 201, r.json
    draft_id = r.json["id"]
    assert (
        client.post(
            f"/api/v1/drafts/{draft_id}/approve", json={"comment": "同意"}, headers=head
        ).status_code
        == 200
    )
    assert (
        client.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=sign).status_code == 200
    )
    r = client.post(f"/api/v1/drafts/{draft_id}/issue", headers=clerk)
    assert r.status_code == 201
    doc = r.json
    assert doc["number"].startswith("武政法函〔") and len(doc["steps"]) == 3
    dl = client.get(f"/api/v1/documents/{doc['id']}/download", headers=clerk)
    assert dl.status_code == 200 and dl.data[:2] == b"PK"
    import hashlib

    assert hashlib.sha256(dl.data).hexdigest() == doc["sha256"]


def test_errors_are_json_with_fields(api):
    client, token = api
    clerk = token("clerk")
    r = client.post(
        "/api/v1/drafts",
        json={
            "template": "commission-letter",
            "unit": "FZB",
            "data": sample() | {"lawyer_licence": "1"},
        },
        headers=clerk,
    )
    assert r.status_code == 422
    assert r.json["error"] == "validation_failed"
    assert r.json["errors"] == [
        {"field": "lawyer_licence", "label": "公职律师证号", "message": "执业证号应为17位数字"}
    ]
    assert client.get("/api/v1/templates").status_code == 401
    assert (
        client.get("/api/v1/templates", headers={"Authorization": "Bearer nope"}).json["error"]
        == "unauthorized"
    )
    assert client.get("/api/v1/nothing-here", headers=clerk).json["error"] == "not_found"
    r = client.post(
        "/api/v1/drafts", data="not json", headers=clerk | {"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.is_json
    assert client.post("/api/v1/drafts/999/approve", headers=clerk).status_code == 404
    r = client.post("/api/v1/tokens", json={"username": "clerk", "password": "x"})
    assert r.status_code == 401 and r.json["message"] == "用户名或密码错误"


def test_api_respects_units(api, cf):
    client, token = api
    clerk = token("clerk")
    r = client.post(
        "/api/v1/drafts",
        json={"template": "commission-letter", "unit": "FZB", "data": sample()},
        headers=clerk,
    )
    draft_id = r.json["id"]
    assert client.get(f"/api/v1/drafts/{draft_id}", headers=token("zr-clerk")).status_code == 404
    r = client.post(
        "/api/v1/drafts",
        json={"template": "commission-letter", "unit": "ZRJ", "data": sample()},
        headers=clerk,
    )
    assert r.status_code == 403 and r.json["error"] == "forbidden"
