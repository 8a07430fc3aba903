"""Public lawyers' matters (法律事务) over the API: the services of app/matters, as the web pages
and the CLI use them, behind the same token, policy and JSON errors as the rest of /api/v1.
Files for progress notes and feedback go through the web page or the CLI."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify

from app.api.base import cf, remote_addr
from app.api.contract import invalid, request_body, route
from app.api.matter_schemas import (
    CandidateList,
    CandidatesQuery,
    DeploymentPick,
    DeploymentRequest,
    LetterDraft,
    MatterAssign,
    MatterComment,
    MatterCounts,
    MatterCreate,
    MatterDeployment,
    MatterList,
    MatterProgress,
    MatterReason,
    MattersQuery,
    StatsQuery,
)
from app.api.matter_schemas import Matter as MatterReply
from app.api.matter_schemas import MatterEvent as EventReply
from app.errors import Forbidden
from app.identity.models import Unit
from app.matters import deployment, letters, service
from app.matters.stats import matter_counts, require_counts_reader
from app.presenters.matters import (
    deployment_payload,
    event_payload,
    matter_payload,
    matter_summary,
)

TAG = "法律事务"


def _matter_json(s, matter_id: int) -> dict:
    m = service.get_matter(s, g.principal, matter_id)
    return matter_payload(s, m, service.events_of(s, m), service.documents_of(s, g.principal, m),
                          deployment.deployments_of(s, m))  # fmt: skip


@route("GET", "/matters", tag=TAG, summary="我可查阅的法律事务", ok=MatterList, query=MattersQuery)
def matters(query: MattersQuery):
    page, per_page = query.page, min(100, query.per_page)
    with cf().db.read() as s:
        listing = service.find_matters(s, g.principal, status=query.status, kind=query.kind,
                                       unit_code=query.unit, mine=query.mine)  # fmt: skip
        total = service.count_matters(s, listing)
        rows = s.scalars(listing.offset((page - 1) * per_page).limit(per_page))
        return jsonify({"total": total, "page": page, "per_page": per_page,
                        "matters": [matter_summary(s, m) for m in rows]})  # fmt: skip


@route("POST", "/matters", tag=TAG, summary="登记法律事务", ok=MatterReply, status=201,
       body=MatterCreate, errors=(403,))  # fmt: skip
def create_matter():
    """`unit` defaults to the caller's unit; a 答辩期 is counted from `served_on`."""
    with cf().db.read() as s:
        if not service.creatable_units(s, g.principal):
            raise Forbidden("您无权登记法律事务")
    body = request_body()
    with cf().db.write() as s:
        unit = body.unit or s.get(Unit, g.user.unit_id).code
        m = service.create_matter(
            s, g.principal, unit_code=unit, kind=body.kind, title=body.title,
            parties=body.parties or "", party_role=body.party_role or "",
            case_number=body.case_number or "", body=body.body or "",
            specialty=body.specialty or "", served_on=body.served_on, deadline=body.deadline,
            deadline_label=body.deadline_label or "", note=body.note or "",
            case_file_id=body.case_file_id, remote_addr=remote_addr(), via="api",
        )  # fmt: skip
        payload = _matter_json(s, m.id)
    return jsonify(payload), 201


@route("GET", "/matters/<id:matter_id>", tag=TAG, summary="一件法律事务及其办理记录",
       ok=MatterReply, errors=(404,))  # fmt: skip
def matter(matter_id: int):
    with cf().db.write() as s:
        service.open_matter(s, g.principal, matter_id, via="api", remote_addr=remote_addr())
        return jsonify(_matter_json(s, matter_id))


def _act(matter_id: int, act: str, call) -> tuple:
    with cf().db.read() as s:  # 404, then 403, before any complaint about the body
        service.authorize(s, g.principal, matter_id, act)
    body = request_body()
    with cf().db.write() as s:
        call(s, body, {"remote_addr": remote_addr(), "via": "api"})
        return jsonify(_matter_json(s, matter_id)), 200


ACT_ERRORS = (403, 404, 409)


@route("POST", "/matters/<id:matter_id>/assign", tag=TAG, summary="指派承办人",
       ok=MatterReply, body=MatterAssign, errors=ACT_ERRORS)  # fmt: skip
def assign_matter(matter_id: int):
    return _act(matter_id, "assign", lambda s, b, kw: service.assign(
        s, g.principal, matter_id, b.lawyer, b.comment or "", **kw))  # fmt: skip


@route("POST", "/matters/<id:matter_id>/accept", tag=TAG, summary="接受指派", ok=MatterReply,
       body=MatterComment, body_required=False, errors=ACT_ERRORS)  # fmt: skip
def accept_matter(matter_id: int):
    return _act(matter_id, "accept", lambda s, b, kw: service.accept(
        s, g.principal, matter_id, b.comment or "", **kw))  # fmt: skip


@route("POST", "/matters/<id:matter_id>/decline", tag=TAG, summary="拒绝指派（写明理由）",
       ok=MatterReply, body=MatterReason, errors=ACT_ERRORS)  # fmt: skip
def decline_matter(matter_id: int):
    return _act(matter_id, "decline", lambda s, b, kw: service.decline(
        s, g.principal, matter_id, b.reason, **kw))  # fmt: skip


@route("POST", "/matters/<id:matter_id>/progress", tag=TAG, summary="承办记录或办理反馈",
       ok=EventReply, status=201, body=MatterProgress, errors=ACT_ERRORS)  # fmt: skip
def matter_progress(matter_id: int):
    """`final: true` is the 办理反馈 that moves the matter to 已反馈."""
    with cf().db.read() as s:
        service.authorize(s, g.principal, matter_id, "note")
    body = request_body()
    with cf().db.write() as s:
        event = service.record_progress(cf(), s, g.principal, matter_id, body.text,
                                        final=body.final, remote_addr=remote_addr(), via="api")  # fmt: skip
        return jsonify(event_payload(s, event)), 201


@route("POST", "/matters/<id:matter_id>/close", tag=TAG, summary="办结", ok=MatterReply,
       body=MatterComment, body_required=False, errors=ACT_ERRORS)  # fmt: skip
def close_matter(matter_id: int):
    return _act(matter_id, "close", lambda s, b, kw: service.close(
        s, g.principal, matter_id, b.comment or "", **kw))  # fmt: skip


@route("POST", "/matters/<id:matter_id>/return", tag=TAG, summary="退回（写明理由）",
       ok=MatterReply, body=MatterReason, errors=ACT_ERRORS)  # fmt: skip
def return_matter(matter_id: int):
    return _act(matter_id, "return", lambda s, b, kw: service.return_matter(
        s, g.principal, matter_id, b.reason, **kw))  # fmt: skip


@route("POST", "/matters/<id:matter_id>/deployments", tag=TAG, summary="向上级单位申请调配",
       ok=MatterDeployment, status=201, body=DeploymentRequest, body_required=False,
       errors=ACT_ERRORS)  # fmt: skip
def request_deployment(matter_id: int):
    with cf().db.read() as s:
        service.authorize(s, g.principal, matter_id, "request")
    body = request_body()
    with cf().db.write() as s:
        d = deployment.request_deployment(s, g.principal, matter_id,
                                          specialty=body.specialty or "", reason=body.reason or "",
                                          remote_addr=remote_addr(), via="api")  # fmt: skip
        return jsonify(deployment_payload(s, d)), 201


@route("GET", "/deployments/<id:deployment_id>/candidates", tag=TAG,
       summary="可选派的公职律师（按专长筛选，在办少者在前）", ok=CandidateList,
       query=CandidatesQuery, errors=(403, 404))  # fmt: skip
def deployment_candidates(deployment_id: int, query: CandidatesQuery):
    with cf().db.read() as s:
        found = deployment.candidates(s, g.principal, deployment_id, query.specialty)
        return jsonify({"candidates": [
            {"lawyer": c.user.username, "name": c.user.name, "unit": c.unit.code,
             "specialty": c.specialty, "load": c.load} for c in found]})  # fmt: skip


@route("POST", "/deployments/<id:deployment_id>/deploy", tag=TAG, summary="选派公职律师",
       ok=MatterDeployment, body=DeploymentPick, errors=ACT_ERRORS)  # fmt: skip
def deploy(deployment_id: int):
    with cf().db.read() as s:
        deployment.pickable(s, g.principal, deployment_id)
    body = request_body()
    with cf().db.write() as s:
        d = deployment.deploy(s, g.principal, deployment_id, body.lawyer, body.comment or "",
                              remote_addr=remote_addr(), via="api")  # fmt: skip
        return jsonify(deployment_payload(s, d))


@route("POST", "/matters/<id:matter_id>/letter", tag=TAG, summary="根据本事务起草委托公函",
       ok=LetterDraft, status=201, errors=(403, 404, 409, 422))  # fmt: skip
def draft_letter(matter_id: int):
    with cf().db.write() as s:
        draft = letters.draft_letter(cf(), s, g.principal, matter_id, remote_addr=remote_addr(),
                                     via="api")  # fmt: skip
        return jsonify({"draft_id": draft.id, "matter_id": matter_id}), 201


@route("GET", "/matters/stats", tag=TAG, summary="法律事务办理统计（考核用）", ok=MatterCounts,
       query=StatsQuery, errors=(403,))  # fmt: skip
def matter_stats(query: StatsQuery):
    p = g.principal
    require_counts_reader(p)
    errors, dates = [], {}
    if query.by not in ("lawyer", "unit"):
        errors.append({"field": "by", "label": "统计口径", "message": "应为 lawyer 或 unit"})
    for key, label, value in (
        ("from", "起始日期", query.date_from),
        ("to", "截止日期", query.date_to),
    ):
        try:
            dates[key] = dt.date.fromisoformat(value) if value else None
        except ValueError:
            errors.append({"field": key, "label": label, "message": "应为 YYYY-MM-DD 格式的日期"})
    if errors:
        raise invalid(errors, "查询条件有误")
    with cf().db.read() as s:
        rows = matter_counts(s, p, by=query.by, start=dates["from"], end=dates["to"])
        return jsonify({"by": query.by, "rows": [r.as_dict() for r in rows]})
