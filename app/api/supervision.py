"""督导考核 over the API: the adviser pool, filings, work records, assessments, the ranking,
the dashboard and its drill-down, the half-yearly report (the services of app/supervision).

Long module: one resource's routes with their request and reply models, declared together.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import g, jsonify
from pydantic import Field
from sqlalchemy import select

from app.api.base import cf, remote_addr
from app.api.contract import Body, Query, Reply, request_body, route
from app.identity.models import Unit
from app.presenters import supervision as present
from app.supervision import assessment, dashboard, filing, pool, ranking, records, reports

TAG = "督导考核"
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=200)]


class PoolQuery(Query):
    status: Short | None = Field(None, title="状态", description="active / suspended / removed")
    kind: Short | None = Field(None, title="类别", description="法学专家 / 律师事务所 / 律师")
    specialty: Short | None = Field(None, title="专业领域")


class PoolEntryIn(Body):
    keeper: Short | None = Field(None, title="人才库所属单位", description="unit code")
    name: Short = Field(title="名称或者姓名")
    kind: Short = Field(title="类别")
    firm: Short = Field("", title="执业机构或者工作单位")
    licence: Short = Field("", title="律师执业证号", description="17 digits")
    specialties: list[Short] = Field(default_factory=list, title="专业领域", max_length=12)
    contact: Short = Field("", title="联系方式")
    admitted_on: Short = Field(title="入库日期", description="YYYY-MM-DD")
    proposed_by: Short = Field(title="推荐人或者推荐单位")
    criteria: Text = Field(title="遴选条件")
    decision: Text = Field(title="遴选决定")


class StatusIn(Body):
    status: Short = Field(title="状态", description="active / suspended / removed")
    reason: Text = Field("", title="原因")


class EngageQuery(Query):
    unit: Short | None = Field(None, title="聘任单位", description="unit code")


class FilingQuery(Query):
    state: Short | None = Field(
        None, title="备案状态", description="pending / registered / returned"
    )
    overdue: bool = Field(False, title="只看逾期")


class RegisterIn(Body):
    filing_number: Short = Field(title="备案号")
    filed_on: Short | None = Field(
        None, title="备案日期", description="YYYY-MM-DD; today if absent"
    )


class ReasonIn(Body):
    reason: Text = Field(title="退回原因")


class NoteIn(Body):
    note: Text = Field("", title="说明")


class PeriodQuery(Query):
    year: Annotated[int, Field(ge=2000, le=2100)] = Field(title="年度")
    quarter: Annotated[int, Field(ge=1, le=4)] | None = Field(None, title="季度")


class RecordsQuery(PeriodQuery):
    unit: Short | None = Field(None, title="单位")
    subject: Short | None = Field(None, title="对象", description="entry:<id> or user:<id>")
    kind: Short | None = Field(None, title="服务类型")


class RecordIn(Body):
    unit: Short = Field(title="单位", description="unit code")
    subject: Short = Field(title="法律顾问或者公职律师", description="entry:<id> or user:<id>")
    kind: Short = Field(
        title="服务类型",
        description="meeting / consultation / negotiation / petition / training / other",
    )
    served_on: Short = Field(title="服务日期", description="YYYY-MM-DD")
    matter: Short = Field(title="事项")
    hours: Short = Field(title="用时（小时）", description='0.5 to 24, e.g. "2.5"')


class AssessmentsQuery(Query):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(None, title="年度")
    unit: Short | None = Field(None, title="单位")


class AssessmentIn(Body):
    unit: Short = Field(title="聘任单位")
    subject: Short = Field(title="考核对象", description="entry:<id> or user:<id>")
    year: Annotated[int, Field(ge=2000, le=2100)] = Field(title="年度")
    ability: Annotated[int, Field(ge=0, le=100)] = Field(title="履职能力")
    quality: Annotated[int, Field(ge=0, le=100)] = Field(title="服务质量")
    efficiency: Annotated[int, Field(ge=0, le=100)] = Field(title="工作效率")
    grade: Short = Field("", title="考核等次", description="empty: from the scores")
    comment: Text = Field("", title="考核意见")


class QuarterQuery(Query):
    year: Annotated[int, Field(ge=2000, le=2100)] = Field(title="年度")
    quarter: Annotated[int, Field(ge=1, le=4)] = Field(title="季度")


class DashboardQuery(Query):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(None, title="年度")
    quarter: Annotated[int, Field(ge=1, le=4)] | None = Field(None, title="季度")


class DrillQuery(QuarterQuery):
    unit: Short = Field(title="单位")
    indicator: Short = Field(title="指标", description=", ".join(ranking.INDICATORS))


Year = Annotated[int, Field(ge=2000, le=2100)]
Half = Annotated[int, Field(ge=1, le=2)]
Narrative = Annotated[str, Field(max_length=5000)]


class SubmissionsQuery(Query):
    year: Year | None = Field(
        None, title="报告年度", description="with half; default: the period due next"
    )
    half: Half | None = Field(None, title="报告期", description="1 上半年, 2 下半年")


class ReportQuery(Query):
    unit: Short | None = Field(None, title="单位", description="unit code; default: your unit")
    year: Year = Field(title="报告年度")
    half: Half = Field(title="报告期", description="1 上半年, 2 下半年")


class ReportIn(Body):
    unit: Short | None = Field(None, title="单位", description="unit code; default: your unit")
    year: Year = Field(title="报告年度")
    half: Half = Field(title="报告期", description="1 上半年, 2 下半年")
    addressee: Short | None = Field(
        None, title="主送机关", description="default: the justice bureau"
    )
    work_summary: Narrative = Field(title="主要工作开展情况", description="one paragraph a line")
    problems: Narrative = Field(title="存在的问题")
    next_steps: Narrative = Field(title="下一步工作打算")
    contact_name: Short = Field("", title="联系人")
    contact_phone: Short = Field("", title="联系电话")
    cc: list[Short] = Field(default_factory=list, title="抄送机关", max_length=10)


Weight = Annotated[int, Field(ge=0, le=100)]


class WeightsIn(Body):
    coverage: Weight = Field(ranking.DEFAULT_WEIGHTS["coverage"], title="法律顾问覆盖")
    public_lawyers: Weight = Field(ranking.DEFAULT_WEIGHTS["public_lawyers"], title="公职律师配备")
    legality_reviews: Weight = Field(
        ranking.DEFAULT_WEIGHTS["legality_reviews"], title="合法性审查"
    )
    filing_on_time: Weight = Field(ranking.DEFAULT_WEIGHTS["filing_on_time"], title="合同按时备案")
    services: Weight = Field(ranking.DEFAULT_WEIGHTS["services"], title="服务次数")


class SubmissionsOut(Reply):
    """法律顾问工作情况报告：各单位本期的报送情况。"""

    period: dict[str, Any]
    total: int
    submitted: int
    units: list[dict[str, Any]]


class ReportData(Reply):
    """The report's data prefilled from the period's records (POST it to /drafts as `data`
    after writing the narrative, or use POST /supervision/reports)."""

    data: dict[str, Any]


class ReportDraftOut(Reply):
    """新起草的工作情况报告（草稿）。"""

    id: int
    title: str
    status: str


class PoolList(Reply):
    """人才库 entries with their current engagements."""

    total: int
    entries: list[dict[str, Any]]


class PoolEntryOut(Reply):
    """人才库条目：编号、名称和状态。"""

    id: int
    name: str
    status: str
    status_label: str


class ContractData(Reply):
    """The engagement contract's initial data (POST it to /drafts as `data`)."""

    data: dict[str, Any]


class FilingList(Reply):
    """合同备案：每份聘任合同的备案状态。"""

    total: int
    overdue: int
    filings: list[dict[str, Any]]


class FilingOut(Reply):
    """备案办理结果。"""

    document_id: int
    state: str
    filing_number: str | None


class RecordList(Reply):
    """Services in the period with counts per adviser, unit, kind and quarter."""

    total: int
    hours: str
    by_subject: dict[str, int]
    by_unit: dict[str, int]
    by_kind: dict[str, int]
    by_quarter: dict[str, int]
    records: list[dict[str, Any]]


class RecordOut(Reply):
    """新登记的服务记录。"""

    id: int


class AssessmentList(Reply):
    """年度考核。"""

    total: int
    assessments: list[dict[str, Any]]


class AssessmentOut(Reply):
    """考核：等次和状态。"""

    id: int
    grade: str
    state: str


class RankingOut(Reply):
    """季度考核排名：单位×指标、得分、名次、后5位。"""

    year: int
    quarter: int
    weights: dict[str, int]
    indicators: dict[str, str]
    rows: list[dict[str, Any]]


class WeightsOut(Reply):
    """考核指标权重。"""

    weights: dict[str, int]


class DashboardOut(Reply):
    """督导考核看板：排名、趋势、未聘法律顾问的单位、即将到期的合同、逾期备案。"""

    ranking: dict[str, Any]
    trend: dict[str, Any]
    without_adviser: list[str]
    expiring: list[dict[str, Any]]
    overdue_filings: list[dict[str, Any]]


class DrillOut(Reply):
    """指标下钻：数字背后的记录。"""

    unit: str
    indicator: str
    period: str
    columns: list[str]
    rows: list[list[str]]
    documents: list[int | None]


@route("GET", "/supervision/pool", tag=TAG, summary="法律顾问人才库", ok=PoolList, query=PoolQuery,
       errors=(403,))  # fmt: skip
def pool_list(query: PoolQuery):
    with cf().db.read() as s:
        rows = pool.list_pool(s, g.principal, status=query.status, kind=query.kind,
                              specialty=query.specialty)  # fmt: skip
        return jsonify(present.pool_payload(rows))


def _entry(e) -> dict:
    return {"id": e.id, "name": e.name, "status": e.status,
            "status_label": pool.ENTRY_STATUS_LABELS[e.status]}  # fmt: skip


@route("POST", "/supervision/pool", tag=TAG, summary="纳入人才库", ok=PoolEntryOut, status=201,
       body=PoolEntryIn, errors=(403,))  # fmt: skip
def pool_admit():
    pool.check_may_manage(g.principal)
    data = request_body().model_dump()
    with cf().db.write() as s:
        return jsonify(_entry(pool.admit(s, g.principal, data, remote_addr()))), 201


@route("POST", "/supervision/pool/<int:entry_id>/status", tag=TAG, summary="调整人才库状态",
       ok=PoolEntryOut, body=StatusIn, errors=(403, 404))  # fmt: skip
def pool_status(entry_id: int):
    with cf().db.write() as s:
        pool.visible_entry(s, g.principal, entry_id)
        pool.check_may_manage(g.principal)
        body = request_body()
        entry = pool.set_status(s, g.principal, entry_id, body.status, body.reason, remote_addr())
        return jsonify(_entry(entry))


@route("GET", "/supervision/pool/<int:entry_id>/engagement", tag=TAG,
       summary="从人才库选聘：聘任合同的预填数据", ok=ContractData, query=EngageQuery,
       errors=(403, 404))  # fmt: skip
def pool_engage(entry_id: int, query: EngageQuery):
    with cf().db.read() as s:
        return jsonify({"data": pool.engagement_prefill(s, g.principal, entry_id, query.unit)})


@route("GET", "/supervision/filings", tag=TAG, summary="合同备案", ok=FilingList, query=FilingQuery,
       errors=(403,))  # fmt: skip
def filings(query: FilingQuery):
    with cf().db.read() as s:
        rows = filing.filing_queue(s, g.principal, state=query.state, overdue=query.overdue)
        return jsonify(present.filings_payload(rows))


def _filing(f) -> dict:
    return {"document_id": f.document_id, "state": f.state, "filing_number": f.filing_number}


@route("POST", "/supervision/filings/<int:document_id>/register", tag=TAG, summary="登记备案",
       ok=FilingOut, body=RegisterIn, errors=(403, 404))  # fmt: skip
def filing_register(document_id: int):
    with cf().db.write() as s:
        filing.contract_for(s, g.principal, document_id)
        body = request_body()
        return jsonify(_filing(filing.register_filing(
            s, g.principal, document_id, body.filing_number, body.filed_on, remote_addr())))  # fmt: skip


@route("POST", "/supervision/filings/<int:document_id>/return", tag=TAG, summary="退回备案",
       ok=FilingOut, body=ReasonIn, errors=(403, 404))  # fmt: skip
def filing_return(document_id: int):
    with cf().db.write() as s:
        filing.contract_for(s, g.principal, document_id)
        body = request_body()
        return jsonify(_filing(filing.return_filing(s, g.principal, document_id, body.reason,
                                                    remote_addr())))  # fmt: skip


@route("POST", "/supervision/filings/<int:document_id>/resubmit", tag=TAG, summary="重新报送备案",
       ok=FilingOut, body=NoteIn, body_required=False, errors=(403, 404))  # fmt: skip
def filing_resubmit(document_id: int):
    with cf().db.write() as s:
        filing.contract_for(s, g.principal, document_id)
        body = request_body()
        return jsonify(_filing(filing.resubmit_filing(s, g.principal, document_id, body.note,
                                                      remote_addr())))  # fmt: skip


@route("GET", "/supervision/records", tag=TAG, summary="服务记录", ok=RecordList,
       query=RecordsQuery)  # fmt: skip
def records_list(query: RecordsQuery):
    with cf().db.read() as s:
        summary = records.service_records(s, g.principal, year=query.year, quarter=query.quarter,
                                          unit_code=query.unit, subject=query.subject,
                                          kind=query.kind)  # fmt: skip
        return jsonify(present.records_payload(summary))


@route("POST", "/supervision/records", tag=TAG, summary="登记服务", ok=RecordOut, status=201,
       body=RecordIn, errors=(403,))  # fmt: skip
def record_add():
    data = request_body().model_dump()
    with cf().db.write() as s:
        return jsonify({"id": records.add_record(s, g.principal, data, remote_addr()).id}), 201


@route("GET", "/supervision/assessments", tag=TAG, summary="年度考核", ok=AssessmentList,
       query=AssessmentsQuery)  # fmt: skip
def assessments(query: AssessmentsQuery):
    with cf().db.read() as s:
        rows = assessment.list_assessments(s, g.principal, year=query.year, unit_code=query.unit)
        names = dict(s.execute(select(Unit.id, Unit.name)).all())
        return jsonify(present.assessments_payload(rows, names))


@route("POST", "/supervision/assessments", tag=TAG, summary="考核评议（保存或者更正）",
       ok=AssessmentOut, body=AssessmentIn, errors=(403,))  # fmt: skip
def assessment_save():
    data = request_body().model_dump()
    with cf().db.write() as s:
        a = assessment.save_assessment(s, g.principal, data, remote_addr())
        return jsonify({"id": a.id, "grade": a.grade, "state": a.state})


@route("POST", "/supervision/assessments/<int:assessment_id>/sign", tag=TAG,
       summary="确认考核结果", ok=AssessmentOut, errors=(403, 404))  # fmt: skip
def assessment_sign(assessment_id: int):
    with cf().db.write() as s:
        a = assessment.sign_assessment(s, g.principal, assessment_id, remote_addr())
        return jsonify({"id": a.id, "grade": a.grade, "state": a.state})


@route("GET", "/supervision/ranking", tag=TAG, summary="季度考核排名", ok=RankingOut,
       query=QuarterQuery, errors=(403,))  # fmt: skip
def ranking_view(query: QuarterQuery):
    with cf().db.read() as s:
        return jsonify(present.ranking_payload(
            ranking.quarter_ranking(s, g.principal, query.year, query.quarter)))  # fmt: skip


@route("PUT", "/supervision/weights", tag=TAG, summary="设置考核指标权重", ok=WeightsOut,
       body=WeightsIn, errors=(403,))  # fmt: skip
def weights_set():
    with cf().db.write() as s:
        ranking.weights(s, g.principal)  # a refusal comes before any complaint about the body
        data = request_body().model_dump()
        return jsonify({"weights": ranking.set_weights(s, g.principal, data, remote_addr())})


@route("GET", "/supervision/dashboard", tag=TAG, summary="督导考核看板", ok=DashboardOut,
       query=DashboardQuery, errors=(403,))  # fmt: skip
def dashboard_view(query: DashboardQuery):
    with cf().db.write() as s:
        board = dashboard.dashboard(s, g.principal, query.year, query.quarter, via="api",
                                    remote_addr=remote_addr())  # fmt: skip
        return jsonify(present.dashboard_payload(board))


@route("GET", "/supervision/drill", tag=TAG, summary="指标下钻：数字背后的记录", ok=DrillOut,
       query=DrillQuery, errors=(403,))  # fmt: skip
def drill_view(query: DrillQuery):
    with cf().db.write() as s:
        detail = ranking.drill(s, g.principal, query.unit, query.indicator, query.year,
                               query.quarter, via="api", remote_addr=remote_addr())  # fmt: skip
        return jsonify(present.drill_payload(detail))


@route("GET", "/supervision/reports", tag=TAG, summary="工作情况报告：各单位报送情况",
       ok=SubmissionsOut, query=SubmissionsQuery, errors=(403,))  # fmt: skip
def report_submissions(query: SubmissionsQuery):
    with cf().db.read() as s:
        period, rows = reports.submissions(s, g.principal, query.year, query.half)
        return jsonify(present.submissions_payload(period, rows))


@route("GET", "/supervision/reports/prefill", tag=TAG, summary="工作情况报告：按本期记录预填的数据",
       ok=ReportData, query=ReportQuery, errors=(403,))  # fmt: skip
def report_prefill(query: ReportQuery):
    with cf().db.read() as s:
        return jsonify({"data": reports.prefill(s, g.principal, query.unit, query.year,
                                                query.half)})  # fmt: skip


@route("POST", "/supervision/reports", tag=TAG, summary="起草工作情况报告（数据按本期记录预填）",
       ok=ReportDraftOut, status=201, body=ReportIn, errors=(403,))  # fmt: skip
def report_start():
    data = request_body().model_dump()
    with cf().db.write() as s:
        draft = reports.start_report(cf(), s, g.principal, data, remote_addr())
        return jsonify({"id": draft.id, "title": draft.title, "status": draft.status}), 201
