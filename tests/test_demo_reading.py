"""On the demo store, advisers and public lawyers find what their unit has said before (the
opinion they reviewed, the unit's issued opinions and risk notices) through every surface: the
web list, GET /api/v1/documents, GET /api/v1/search and `casefile search`; a clerk of another
unit finds none of them."""

from __future__ import annotations

import json

from conftest import demo_url
from demostore import open_demo_store
from sqlalchemy import select
from test_casefiles_cli import runner  # noqa: F401 - a fixture: `casefile ...` in this process
from webutil import CSRF_RE

from app import create_app
from app.bootstrap import DEMO_PASSWORD
from app.drafting.models import IssuedDocument
from app.identity.models import Unit
from app.templating.models import TemplateVersion

OPINION = "武政法审〔2026〕1号"
NOTICE = "武政法提示〔2026〕1号"


def _web_documents(client, username: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page)[1]
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 302, username
    return client.get("/documents").get_data(as_text=True)


def test_advisers_find_their_units_opinions_everywhere(runner, demo_copy):  # noqa: F811
    run = runner(demo_copy, demo_url(demo_copy))  # the demo store, its search index built
    store = open_demo_store(demo_copy)
    try:
        with store.db.read() as s:
            precedent = {
                d.number
                for d, t in s.execute(
                    select(IssuedDocument, TemplateVersion.template_id).join(
                        TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id
                    )
                )
                if t in ("legality-review-opinion", "risk-notice")
            }
            # the natural-resources bureau's own engagement contract (督导考核 demo) is its clerk's
            zr_own = set(s.scalars(select(IssuedDocument.number).join(Unit).where(
                Unit.code == "WY-ZRZYJ")))  # fmt: skip
            others = set(s.scalars(select(IssuedDocument.number))) - precedent - zr_own
        assert {OPINION, NOTICE} <= precedent and others
        app = create_app({"TESTING": True}, casefile=store)
        for username, expected in (("adviser", precedent), ("lawyer", precedent),
                                   ("zr-clerk", set())):  # fmt: skip
            # the web list
            page = _web_documents(app.test_client(), username)
            assert {n for n in precedent | others if n in page} == expected, username
            # the API: list and search
            api = app.test_client()
            r = api.post("/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD})
            auth = {"Authorization": f"Bearer {r.json['token']}"}
            listed = api.get("/api/v1/documents?per_page=100", headers=auth).json
            own = zr_own if username == "zr-clerk" else set()
            assert {d["number"] for d in listed["documents"]} == expected | own, username
            assert listed["total"] == len(expected | own)
            found = api.get("/api/v1/search?q=武政法&per_page=50", headers=auth).json
            assert {h["number"] for h in found["hits"]} - own == expected, username
            # the command line
            out = json.loads(run("search", "武政法", "--as", username, "--json").stdout)
            assert {h["number"] for h in out["hits"]} - own == expected, username
    finally:
        store.close()
