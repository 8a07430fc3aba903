"""Drafts and the review chain: create, edit, submit, approve, return, issue; the work queue."""

from __future__ import annotations

import io

from flask import g, jsonify, send_file
from sqlalchemy import select

from app.access.policy import can
from app.api.base import cf, remote_addr
from app.api.contract import Binary, request_body, route
from app.api.links import document_links, draft_links
from app.api.schemas import Decision, DraftCreate, DraftEdit, Queue
from app.api.schemas import Document as DocumentReply
from app.api.schemas import Draft as DraftReply
from app.common.media_types import DOCX
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion
from app.errors import NotFound
from app.presenters.documents import document_payload
from app.presenters.drafts import draft_payload

TAG = "草稿与审核"


def draft_json(s, draft: Draft) -> dict:
    payload = draft_payload(cf(), s, draft)
    return payload | {"links": draft_links(draft.id, payload["version"])}


def _visible_draft(s, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or not can(s, g.principal, "draft.read", draft):
        raise NotFound(f"草稿 {draft_id} 不存在或您无权查看")
    return draft


@route("POST", "/drafts", tag=TAG, summary="起草（可立即送审）", ok=DraftReply, status=201,
       body=DraftCreate, errors=(403, 404, 409))  # fmt: skip
def create_draft():
    """`data` is checked against the template's fields; `unit` defaults to the caller's unit."""
    body = request_body()
    with cf().db.write() as s:
        draft = drafts.create_draft(cf(), s, g.principal, body.template, body.data,
                                    body.unit or None, remote_addr(), body.co_sign_units)  # fmt: skip
        if body.submit:
            drafts.submit(cf(), s, g.principal, draft.id, remote_addr=remote_addr())
        payload = draft_json(s, draft)
    return jsonify(payload), 201


@route("GET", "/drafts/<id:draft_id>", tag=TAG, summary="草稿及其审核记录", ok=DraftReply,
       errors=(404,))  # fmt: skip
def get_draft(draft_id: int):
    with cf().db.read() as s:
        return jsonify(draft_json(s, _visible_draft(s, draft_id)))


@route("PUT", "/drafts/<id:draft_id>", tag=TAG, summary="修改草稿（生成新版本）", ok=DraftReply,
       body=DraftEdit, errors=(403, 404, 409))  # fmt: skip
def edit_draft(draft_id: int):
    """`co_sign_units` absent or null keeps the current co-signing units."""
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        body = request_body()  # after the access check: a refusal comes first
        drafts.edit_draft(cf(), s, g.principal, draft_id, body.data, remote_addr(),
                          body.co_sign_units)  # fmt: skip
        return jsonify(draft_json(s, s.get(Draft, draft_id)))


ACTIONS = {"submit": drafts.submit, "approve": drafts.approve, "return": drafts.return_draft,
           "withdraw": drafts.withdraw}  # fmt: skip


@route("POST", "/drafts/<id:draft_id>/<any(submit, approve, return, withdraw):action>", tag=TAG,
       summary="送审、同意、退回或撤回", ok=DraftReply, body=Decision, body_required=False,
       errors=(403, 404, 409, 422))  # fmt: skip
def decide(draft_id: int, action: str):
    """The body is optional; its `comment` is recorded with the step. `approve` cannot be
    undone: the call itself is the confirmation (the web page asks for a checkbox, the CLI for
    --yes). `withdraw` (撤回) takes a submitted draft back before its first approval."""
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        body = request_body()  # after the access check: a refusal comes first
        ACTIONS[action](cf(), s, g.principal, draft_id, body.comment, remote_addr())
        return jsonify(draft_json(s, s.get(Draft, draft_id)))


@route("DELETE", "/drafts/<id:draft_id>", tag=TAG, summary="删除从未送审的草稿", ok=DraftReply,
       errors=(403, 404, 409))  # fmt: skip
def delete_draft(draft_id: int):
    """Only a draft never submitted for review; the deletion is audited, and the draft is gone
    from every list and page afterwards."""
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        draft = drafts.delete_draft(s, g.principal, draft_id, remote_addr())
        return jsonify(draft_json(s, draft))


@route("POST", "/drafts/<id:draft_id>/issue", tag=TAG, summary="发文：编号、定稿并存档",
       ok=DocumentReply, status=201, errors=(403, 404, 409))  # fmt: skip
def issue(draft_id: int):
    """Issuing cannot be undone: the call itself is the confirmation."""
    with cf().db.write() as s:
        _visible_draft(s, draft_id)
        doc = drafts.issue(cf(), s, g.principal, draft_id, remote_addr())
        return jsonify(document_payload(cf(), s, doc) | {"links": document_links(doc.id)}), 201


@route("GET", "/drafts/<id:draft_id>/versions/<id:number>/download", tag=TAG,
       summary="下载草稿的某一版（DOCX）", ok=Binary((DOCX,), "该版本的 DOCX 文件"),
       errors=(404,))  # fmt: skip
def download_version(draft_id: int, number: int):
    with cf().db.read() as s:
        draft = _visible_draft(s, draft_id)
        v = s.scalars(
            select(DraftVersion).where(
                DraftVersion.draft_id == draft.id, DraftVersion.number == number
            )
        ).first()
        if v is None:
            raise NotFound(f"草稿 {draft_id} 没有第{number}版")
        data = cf().blobs.get(v.docx_sha256)
    return send_file(
        io.BytesIO(data),
        mimetype=DOCX,
        as_attachment=True,
        download_name=f"draft-{draft_id}-v{number}.docx",
    )


@route("GET", "/queue", tag=TAG, summary="我的待办", ok=Queue)
def queue():
    with cf().db.read() as s:
        q = drafts.queue(s, g.principal, cf())
        return jsonify({k: [draft_json(s, d) for d in v] for k, v in q.items()})
