"""Matters (法律事务) over the JSON API: the same services, token, policy and error shape."""

from __future__ import annotations

import pytest
from matterutil import CASE_NO, add_gov_head
from webutil import api_client


def test_a_matter_through_the_api(cf):
    add_gov_head(cf)
    client, token = api_client(cf)
    head, lawyer, zr, clerk = token("head"), token("lawyer"), token("zr-head"), token("clerk")

    bad = client.post("/api/v1/matters", headers=head, json={
        "kind": "admin-litigation", "title": "某案", "case_number": "2026行初1号"})  # fmt: skip
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "case_number"
    r = client.post("/api/v1/matters", headers=head, json={
        "kind": "admin-litigation", "title": "李某诉武阳市人民政府", "case_number": CASE_NO,
        "party_role": "被告", "body": "武阳市中级人民法院", "served_on": "2026-11-02"})  # fmt: skip
    assert r.status_code == 201, r.json
    m = r.json
    assert m["status"] == "pending" and m["deadline"] == "2026-11-17" and m["unit"] == "FZB"
    mid = m["id"]
    assert client.get(f"/api/v1/matters/{mid}", headers=zr).status_code == 404
    assert client.post(f"/api/v1/matters/{mid}/assign", headers=lawyer,
                       json={"lawyer": "lawyer"}).status_code == 404  # not told it exists  # fmt: skip
    assert client.post(f"/api/v1/matters/{mid}/assign", headers=clerk,
                       json={"lawyer": "lawyer"}).status_code == 403  # reads, may not assign  # fmt: skip
    r = client.post(f"/api/v1/matters/{mid}/assign", headers=head, json={"lawyer": "lawyer"})
    assert r.status_code == 200 and r.json["status"] == "assigned"
    r = client.post(f"/api/v1/matters/{mid}/decline", headers=lawyer, json={"reason": ""})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"
    assert client.post(f"/api/v1/matters/{mid}/accept", headers=lawyer).json["status"] == "handling"
    r = client.post(f"/api/v1/matters/{mid}/progress", headers=lawyer,
                    json={"text": "一审胜诉", "final": True})  # fmt: skip
    assert r.status_code == 201 and r.json["kind"] == "feedback"
    r = client.post(f"/api/v1/matters/{mid}/close", headers=head, json={})
    assert r.json["status"] == "closed"
    assert [e["kind"] for e in r.json["events"]] == ["create", "assign", "accept", "feedback",
                                                     "close"]  # fmt: skip
    r = client.post(f"/api/v1/matters/{mid}/close", headers=head, json={})
    assert r.status_code == 409 and "不能办结" in r.json["message"]
    listing = client.get("/api/v1/matters?status=closed", headers=head).json
    assert listing["total"] == 1 and listing["matters"][0]["id"] == mid
    assert (
        client.get("/api/v1/matters?status=nope", headers=head).json["errors"][0]["field"]
        == "status"
    )
    assert client.get("/api/v1/matters", headers=zr).json["total"] == 0
    stats = client.get("/api/v1/matters/stats?by=lawyer", headers=head).json
    assert stats["rows"][0]["handled"] == 1 and stats["rows"][0]["name"] == "张明远"
    assert client.get("/api/v1/matters/stats", headers=lawyer).status_code == 403
    assert client.get("/api/v1/matters/stats?from=x", headers=head).status_code == 422


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_deployment_through_the_api_and_the_contract(cf):
    add_gov_head(cf)
    client, token = api_client(cf)
    zr, gov = token("zr-head"), token("gov-head")
    mid = client.post("/api/v1/matters", headers=zr, json={
        "kind": "civil-litigation", "title": "某公司与武阳市自然资源局合同纠纷"}).json["id"]  # fmt: skip
    d = client.post(f"/api/v1/matters/{mid}/deployments", headers=zr, json={"reason": "无公职律师"})
    assert d.status_code == 201 and d.json["status"] == "requested"
    found = client.get(f"/api/v1/deployments/{d.json['id']}/candidates", headers=gov).json
    assert [c["lawyer"] for c in found["candidates"]] == ["lawyer"]
    assert client.get(f"/api/v1/deployments/{d.json['id']}/candidates",
                      headers=zr).status_code == 403  # fmt: skip
    r = client.post(f"/api/v1/deployments/{d.json['id']}/deploy", headers=gov,
                    json={"lawyer": "lawyer"})  # fmt: skip
    assert r.status_code == 200 and r.json["status"] == "deployed" and r.json["lawyer"] == "lawyer"
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/matters", "/api/v1/matters/{matter_id}/assign",
                 "/api/v1/deployments/{deployment_id}/deploy", "/api/v1/matters/stats"):  # fmt: skip
        assert path in paths, path
