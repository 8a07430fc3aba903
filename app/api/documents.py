"""Issued documents (已发文书): the list the caller may read, one document, its files."""

from __future__ import annotations

import io

from flask import g, jsonify, send_file

from app.api.base import cf, remote_addr
from app.api.contract import Binary, route
from app.api.links import document_links
from app.api.schemas import Document, DocumentList, DocumentsQuery
from app.common.media_types import DOCX, PDF
from app.drafting import documents as document_service
from app.drafting.models import IssuedDocument
from app.presenters.documents import document_payload

TAG = "已发文书"


@route("GET", "/documents", tag=TAG, summary="我可查阅的已发文书（可按类型、单位、年度筛选，按成文日期排序）",
       ok=DocumentList, query=DocumentsQuery, errors=(422,))  # fmt: skip
def documents(query: DocumentsQuery):
    """The same list and filter as the 已发文书 page: a bad filter is a 422 naming its field
    (type, unit, year, sort)."""
    page, per_page = query.page, min(100, query.per_page)
    with cf().db.read() as s:
        filters = document_service.document_filter(
            s, doc_type=query.type, unit=query.unit, year=query.year, sort=query.sort
        )
        listing = document_service.list_documents(s, g.principal, page, per_page, filters)
        return jsonify({"total": listing.total, "page": page, "per_page": per_page,
                        "documents": [{"id": d.id, "number": d.number, "title": d.title,
                                       "unit": d.unit.code, "issue_date": d.issue_date.isoformat(),
                                       "sha256": d.docx_sha256, "links": document_links(d.id)}
                                      for d in listing.documents]})  # fmt: skip


def _readable_document(s, doc_id: int, action: str) -> IssuedDocument:
    return document_service.open_document(
        s, g.principal, doc_id, action, via="api", remote_addr=remote_addr()
    )


@route("GET", "/documents/<id:doc_id>", tag=TAG, summary="一份已发文书及其审核记录",
       ok=Document, errors=(404,))  # fmt: skip
def document(doc_id: int):
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.read")
        return jsonify(document_payload(cf(), s, doc) | {"links": document_links(doc.id)})


@route("GET", "/documents/<id:doc_id>/download", tag=TAG, summary="下载已发文书（DOCX）",
       ok=Binary((DOCX,), "签发的 DOCX 文件"), errors=(404,))  # fmt: skip
def download(doc_id: int):
    return _file(doc_id, "docx")


@route("GET", "/documents/<id:doc_id>/pdf", tag=TAG, summary="下载版式文件（PDF）",
       ok=Binary((PDF,), "PDF 版式文件"), errors=(404, 409))  # fmt: skip
def download_pdf(doc_id: int):
    """409 `rendition_pending` while the PDF is still being made."""
    return _file(doc_id, "pdf")


def _file(doc_id: int, fmt: str):
    """A download through the documents service (which checks and audits it)."""
    with cf().db.write() as s:
        found = document_service.document_file(
            cf(), s, g.principal, doc_id, fmt, via="api", remote_addr=remote_addr()
        )
    return send_file(io.BytesIO(found.data), mimetype=found.media_type, as_attachment=True,
                     download_name=found.name)  # fmt: skip
