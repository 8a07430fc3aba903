"""Issued documents (已发文书): the list the caller may read, one document, its files."""

from __future__ import annotations

import io

from flask import g, jsonify, send_file
from sqlalchemy import select

from app import audit
from app.api.base import cf, error_response, remote_addr
from app.api.contract import Binary, route
from app.api.links import document_links
from app.api.schemas import Document, DocumentList, Paging
from app.common.media_types import DOCX, PDF
from app.drafting import documents as document_service
from app.drafting.models import IssuedDocument
from app.presenters.documents import document_payload
from app.renditions.models import Rendition

TAG = "已发文书"


@route("GET", "/documents", tag=TAG, summary="我可查阅的已发文书", ok=DocumentList, query=Paging)
def documents(query: Paging):
    page, per_page = query.page, min(100, query.per_page)
    with cf().db.read() as s:
        listing = document_service.list_documents(s, g.principal, page, per_page)
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
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.download")
        audit.record(s, "document.download", actor=g.user, object_type="document", object_id=doc.id,
                     detail={"via": "api"}, remote_addr=remote_addr())  # fmt: skip
        data, name = cf().blobs.get(doc.docx_sha256), f"{doc.number}.docx"
    return send_file(io.BytesIO(data), mimetype=DOCX, as_attachment=True, download_name=name)


@route("GET", "/documents/<id:doc_id>/pdf", tag=TAG, summary="下载版式文件（PDF）",
       ok=Binary((PDF,), "PDF 版式文件"), errors=(404, 409))  # fmt: skip
def download_pdf(doc_id: int):
    """409 `rendition_pending` while the PDF is still being made."""
    with cf().db.write() as s:
        doc = _readable_document(s, doc_id, "document.download")
        rendition = s.scalars(select(Rendition).where(Rendition.document_id == doc.id)).first()
        if rendition is None:
            return error_response(409, "rendition_pending", "PDF 版式文件尚在生成中，请稍后再试")
        audit.record(s, "document.download", actor=g.user, object_type="document", object_id=doc.id,
                     detail={"via": "api", "format": "pdf"}, remote_addr=remote_addr())  # fmt: skip
        data, name = cf().blobs.get(rendition.pdf_sha256), f"{doc.number}.pdf"
    return send_file(io.BytesIO(data), mimetype=PDF, as_attachment=True, download_name=name)
