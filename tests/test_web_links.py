"""The search page's links are built without url_for (app/web/search.py `query_url`, a
serving cut): they must stay byte for byte what url_for gives."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from app.web import search

CASES = [
    {},
    {"q": ["法律顾问"]},
    {"q": ["合同 审查"], "type": ["contract"], "page": ["2"]},
    {"q": ["a+b&c=d/e?f#g%h"], "unit": ["WH-01", "WH-02"], "year": ["2026"]},
    {"q": ["!$'()*,/:;?@~"], "status": []},
    {"reviewer": ["张三"], "conclusion": [""], "sort": ["date_desc"]},
]


@pytest.mark.parametrize("params", CASES)
def test_query_url_is_url_for(params):
    app = Flask(__name__)
    app.register_blueprint(search.bp)
    with app.test_request_context("/search"):
        assert search.query_url(url_for("search.search"), params) == url_for(
            "search.search", **params
        )
