"""A store whose search index is still being built says so on every surface (web, API, CLI)
instead of answering "0 results"; once the outbox has indexed the archive, the same search finds
the document."""

from __future__ import annotations

import json

import pytest
from conftest import PASSWORD, issue_letter
from webutil import logged_in

from app.jobs.outbox import drain

BUILDING = "检索索引正在建立，请稍后再试"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_search_says_the_index_is_being_built(cf, app, run_cli):
    doc = issue_letter(cf)  # issued, its index event still queued: the index is empty
    web = logged_in(app, "clerk")
    page = web.get("/search?q=委托")
    assert page.status_code == 200 and BUILDING in page.get_data(as_text=True)
    assert "共找到 0" not in page.get_data(as_text=True)

    api = app.test_client()
    token = api.post("/api/v1/tokens", json={"username": "clerk", "password": PASSWORD}).json
    auth = {"Authorization": f"Bearer {token['token']}"}
    answer = api.get("/api/v1/search?q=委托", headers=auth)
    assert answer.status_code == 503 and answer.json["error"] == "search_index_building"
    assert BUILDING in answer.json["message"]

    code, out, err = run_cli("search", "委托", "--as", "clerk")
    assert code == 2 and BUILDING in err and "共 0 份" not in out
    code, out, _ = run_cli("search", "委托", "--as", "clerk", "--json")
    assert code == 2 and json.loads(out)["message"].startswith(BUILDING)

    drain(cf, kinds=("index",))
    assert doc.number in web.get("/search?q=委托").get_data(as_text=True)
    code, out, _ = run_cli("search", "委托", "--as", "clerk")
    assert code == 0 and doc.number in out
    # an index that has documents answers a search that finds none with "0", as before
    code, out, _ = run_cli("search", "不存在的词语组合", "--as", "clerk")
    assert code == 0 and "共 0 份" in out
