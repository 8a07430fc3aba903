"""The contract, readable: /api/v1/openapi.json and a documentation page (Swagger UI, served
from the flask-swagger-ui wheel's files, no CDN), both without a token."""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from flask import current_app, jsonify, make_response, send_from_directory, url_for

from app.api.contract import Binary, openapi_document, route
from app.api.schemas import API_DESCRIPTION

TAG = "接口文档"
SWAGGER_UI = str(files("flask_swagger_ui") / "dist")
OWN = str(Path(__file__).parent / "static")
ASSETS = {
    "swagger-ui.css": SWAGGER_UI,
    "index.css": SWAGGER_UI,
    "swagger-ui-bundle.js": SWAGGER_UI,
    "swagger-ui-standalone-preset.js": SWAGGER_UI,
    "favicon-32x32.png": SWAGGER_UI,
    "docs.js": OWN,
}
ASSET_TYPES = ("text/css", "text/javascript", "image/png")
# Swagger UI sets style attributes from its scripts; scripts stay same-origin only
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def document() -> dict:
    """The OpenAPI document of the running app (built once: routes do not change)."""
    cache = current_app.extensions.setdefault("casefile.api", {})
    if "openapi" not in cache:
        cache["openapi"] = openapi_document(
            current_app,
            title="casefile API",
            version="1",
            description=API_DESCRIPTION,
            tags=("令牌", "模板", "草稿与审核", "已发文书", "检索", "案卷", "聘任合同台账", TAG),
        )
    return cache["openapi"]


@route("GET", "/openapi.json", tag=TAG, summary="本接口的 OpenAPI 3.1 文档", ok="application/json",
       public=True)  # fmt: skip
def openapi_json():
    return jsonify(document())


@route("GET", "/docs", tag=TAG, summary="接口文档页", ok="text/html", public=True)
def docs_page():

    def asset(name: str) -> str:
        return escape(url_for("api.docs_asset", name=name))

    html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>casefile API 文档</title>
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
<link rel="stylesheet" href="{asset("index.css")}">
<link rel="icon" type="image/png" href="{asset("favicon-32x32.png")}" sizes="32x32">
</head>
<body data-spec="{escape(url_for("api.openapi_json"))}">
<div id="swagger-ui"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{asset("swagger-ui-standalone-preset.js")}"></script>
<script src="{asset("docs.js")}"></script>
</body>
</html>
"""
    response = make_response(html)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@route("GET", "/docs/<any(" + ", ".join(f'"{a}"' for a in ASSETS) + "):name>", tag=TAG,
       summary="文档页的静态文件", ok=Binary(ASSET_TYPES, "Swagger UI 的样式、脚本与图标"),
       public=True)  # fmt: skip
def docs_asset(name: str):
    return send_from_directory(ASSETS[name], name, max_age=3600)
