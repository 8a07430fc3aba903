"""Links the API returns: always to API routes, never to the web pages (a token is not a
browser session)."""

from __future__ import annotations

from flask import url_for


def document_links(doc_id: int) -> dict:
    return {
        "self": url_for("api.document", doc_id=doc_id),
        "download": url_for("api.download", doc_id=doc_id),
        "pdf": url_for("api.download_pdf", doc_id=doc_id),
    }


def draft_links(draft_id: int, version: int) -> dict:
    return {
        "self": url_for("api.get_draft", draft_id=draft_id),
        "download": url_for("api.download_version", draft_id=draft_id, number=version),
    }


def casefile_links(case_id: int) -> dict:
    return {
        "self": url_for("api.casefile", case_id=case_id),
        "dossier_pdf": url_for("api.casefile_dossier", case_id=case_id),
        "package_zip": url_for("api.casefile_package", case_id=case_id),
    }


def item_links(case_id: int, item_id: int, document_id: int | None,
               searchable: bool = False) -> dict:  # fmt: skip
    links = {"download": url_for("api.casefile_item", case_id=case_id, item_id=item_id)}
    if document_id:
        links["document"] = url_for("api.document", doc_id=document_id)
    if searchable:
        links["searchable_pdf"] = url_for("api.casefile_item_searchable", case_id=case_id,
                                          item_id=item_id)  # fmt: skip
    return links
