"""Hostile JSON in every API body: no route answers 5xx (issue 16, item 4).

Hypothesis sends arbitrary JSON (lists, strings, numbers, nested objects, huge integers, NUL,
very long text) and objects shaped like each route's body model with arbitrary values in its
fields, to every POST/PUT route declared in app/api/contract.py, on paths that name real
records. Bounded (a few hundred requests in all) and derandomized for the suite."""

from __future__ import annotations

import json

import pytest
from conftest import as_user, issue_letter
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from webutil import api_client

from app.api.contract import operations
from app.casefiles import service as casefiles

TOTAL_EXAMPLES = 240

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 4611686018427387904, -1, 0]),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        ["\x00", "a\x00b", "x" * 70_000, "0001-01-01", "9999-12-31", "..", "{{ 7*7 }}"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


def _bodies(model):
    """Any JSON at all, or an object with the model's field names and arbitrary values."""
    fields = {(info.alias or name): JSON for name, info in model.model_fields.items()}
    return st.one_of(JSON, st.fixed_dictionaries({}, optional=fields))


@pytest.fixture
def world(cf):
    issue_letter(cf)
    with cf.db.write() as s:
        case = casefiles.create_case_file(s, as_user(s, "clerk"), title="卷", kind="contract-review",
                                          unit_code="FZB", retention="Y")  # fmt: skip
        case_id = case.id
    client, token = api_client(cf)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 answer
    return client, token("clerk"), case_id


def test_no_api_body_gets_a_5xx(world):
    client, auth, case_id = world
    targets = []
    for rule, op in operations(client.application):
        if op.body is None or op.method not in {"POST", "PUT"}:
            continue
        path = rule.rule
        for name in rule.arguments:  # real records: the case file, the issued draft (id 1)
            value = "submit" if name == "action" else str(case_id if "case" in name else 1)
            path = path.replace(f"<id:{name}>", value)
            path = path.replace(f"<any(submit, approve, return):{name}>", value)
        targets.append((op, path))
    assert len(targets) >= 5, targets
    failures = []
    for op, path in targets:
        _fuzz(client, auth, op, path, len(targets), failures)
    assert not failures, "\n".join(failures[:20])


def _fuzz(client, auth, op, path, routes, failures):
    @given(body=_bodies(op.body))
    @settings(max_examples=TOTAL_EXAMPLES // routes, deadline=None, database=None,
              derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def send(body):
        headers = {} if op.public else auth
        r = client.open(path, method=op.method, data=json.dumps(body),
                        content_type="application/json", headers=headers)  # fmt: skip
        if r.status_code >= 500:
            failures.append(f"{r.status_code} {op.method} {path} {json.dumps(body)[:300]}")
        else:
            assert r.is_json, (path, r.status_code)

    send()


@pytest.mark.parametrize(
    "body",
    [[], "x", 5, [1, 2], None, {"username": ["a"], "password": {}}],
)
def test_a_token_request_that_is_not_an_object_is_a_422_naming_the_body(cf, body):
    client, _ = api_client(cf)
    r = client.post("/api/v1/tokens", json=body)
    assert r.status_code == 422
    assert r.json["errors"] and r.json["errors"][0]["field"] in {"body", "username", "password"}


def test_odd_units_and_deep_json_in_a_draft_are_422(cf):
    client, token = api_client(cf)
    auth = token("clerk")
    for body in ({"unit": {}}, {"unit": []}, {"template_id": "commission-letter", "unit": {}}):
        r = client.post("/api/v1/drafts", json=body, headers=auth)
        assert r.status_code == 422, body
    deep = "[" * 1000 + "]" * 1000
    r = client.post("/api/v1/drafts", data=deep, content_type="application/json", headers=auth)
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "body"
