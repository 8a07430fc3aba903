"""Search results as JSON: hits carry ids, never links (each surface builds its own)."""

from __future__ import annotations

from app.search.service import SearchHit, SearchPage


def search_hit_payload(hit: SearchHit) -> dict:
    """`id` is the issued document's id; an attachment has `id` null and `attachment_id`,
    `case_file_id`, `case_title` and `item_id` (the item where this user sees it) instead."""
    out = {
        "id": hit.document_id, "search_id": hit.search_id, "number": hit.number,
        "title": hit.title, "type": hit.doc_type, "type_label": hit.type_label,
        "unit": hit.unit_code, "unit_name": hit.unit_name, "issued_on": hit.issued_on.isoformat(),
        "score": hit.score, "snippet_html": hit.snippet_html, "snippet": hit.snippet_text,
        "status": hit.status, "status_label": hit.status_label,
    }  # fmt: skip
    if hit.kind == "attachment":
        out |= {"attachment_id": hit.attachment_id, "case_file_id": hit.case_file_id,
                "case_title": hit.case_title, "item_id": hit.item_id}  # fmt: skip
    return out


def search_page_payload(page: SearchPage) -> dict:
    return {
        "total": page.total, "page": page.page, "per_page": page.per_page,
        "elapsed_ms": round(page.elapsed_ms, 1), "facets": page.facets,
        "type_labels": {t: page.type_labels.get(t, t) for t in page.facets.get("doc_type", {})},
        "hits": [search_hit_payload(h) for h in page.hits],
    }  # fmt: skip
