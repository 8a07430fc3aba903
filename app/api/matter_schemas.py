"""The API contract's models for matters (法律事务): request bodies, query strings and answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.api.contract import Body, Query, Reply


class MattersQuery(Query):
    """Filters of the matters list."""

    status: str | None = Field(
        None,
        title="状态",
        description="pending | assigned | handling | reported | closed | returned",
    )
    kind: str | None = Field(None, title="类别")
    unit: str | None = Field(None, title="单位")
    mine: bool = Field(False, title="只看我承办的")
    page: int = Field(1, ge=1, le=100_000, title="页码")
    per_page: int = Field(
        30, ge=1, le=10_000, title="每页条数", description="at most 100 are returned"
    )


class MatterCreate(Body):
    """A new matter (登记)."""

    unit: str | None = Field(None, title="单位", description="default: the caller's unit")
    kind: str = Field(title="类别", max_length=40)
    title: str = Field(title="事由", max_length=400)
    parties: str | None = Field(None, title="当事人", max_length=1000)
    party_role: str | None = Field(None, title="本单位地位", max_length=40)
    case_number: str | None = Field(None, title="案号", max_length=120)
    body: str | None = Field(None, title="受理法院或机构", max_length=200)
    specialty: str | None = Field(None, title="所需专长", max_length=120)
    served_on: str | None = Field(None, title="送达日期", description="YYYY-MM-DD", max_length=40)
    deadline: str | None = Field(None, title="办理期限", description="YYYY-MM-DD", max_length=40)
    deadline_label: str | None = Field(None, title="期限名称", max_length=60)
    note: str | None = Field(None, title="备注", max_length=4000)
    case_file_id: int | None = Field(None, ge=1, le=10**18 - 1, title="案卷")


class MatterAssign(Body):
    """Assign the matter to a lawyer (指派)."""

    lawyer: str = Field(title="承办人", description="username", max_length=64)
    comment: str | None = Field(None, title="说明", max_length=4000)


class MatterComment(Body):
    """An optional comment."""

    comment: str | None = Field(None, title="说明", max_length=4000)


class MatterReason(Body):
    """The reason, required."""

    reason: str = Field(title="理由", max_length=4000)


class MatterProgress(Body):
    """A progress note, or with final the feedback (反馈)."""

    text: str = Field(title="承办记录或反馈", max_length=4000)
    final: bool = Field(False, title="是否为办理反馈")


class DeploymentRequest(Body):
    """Ask the level above for a public lawyer."""

    specialty: str | None = Field(None, title="所需专长", max_length=120)
    reason: str | None = Field(None, title="申请理由", max_length=4000)


class CandidatesQuery(Query):
    """Filter the candidates by specialty."""

    specialty: str | None = Field(None, title="专长", description="empty: the request's own")


class DeploymentPick(Body):
    """The public lawyer picked."""

    lawyer: str = Field(title="公职律师", description="username", max_length=64)
    comment: str | None = Field(None, title="说明", max_length=4000)


class StatsQuery(Query):
    """The grouping and the period (China dates, inclusive)."""

    by: str = Field("lawyer", title="统计口径", json_schema_extra={"enum": ["lawyer", "unit"]})
    date_from: str | None = Field(None, alias="from", title="起始日期")
    date_to: str | None = Field(None, alias="to", title="截止日期")


class MatterEvent(Reply):
    """One act on a matter: who, what, when, the comment and its file."""

    id: int
    kind: str
    kind_label: str
    user: str | None
    lawyer: str | None
    comment: str
    justified: bool | None
    ruling_of: int | None
    file_name: str | None
    file_sha256: str | None
    at: str


class MatterDeployment(Reply):
    """A request for a public lawyer from the level above (调配) and its outcome."""

    id: int
    matter_id: int
    status: str
    status_label: str
    specialty: str
    reason: str
    lawyer: str | None
    requested_at: str
    decided_at: str | None


class MatterSummary(Reply):
    """A matter as lists show it."""

    id: int
    unit: str
    unit_name: str
    kind: str
    kind_label: str
    title: str
    status: str
    status_label: str
    case_number: str
    deadline: str | None
    deadline_label: str
    lawyer: str | None
    case_file_id: int | None
    letter_draft_id: int | None


class Matter(MatterSummary):
    """A matter with its history, documents and deployments."""

    events: list[MatterEvent]
    documents: list[dict[str, Any]]
    deployments: list[MatterDeployment]


class MatterList(Reply):
    """One page of the matters the caller reads, newest first."""

    total: int
    page: int
    per_page: int
    matters: list[MatterSummary]


class Candidate(Reply):
    """A public lawyer the upper unit may deploy."""

    lawyer: str
    name: str
    unit: str
    specialty: str
    load: int


class CandidateList(Reply):
    """The public lawyers of the upper unit's system, least loaded first."""

    candidates: list[Candidate]


class LetterDraft(Reply):
    """The commission letter's new draft, linked to the matter."""

    draft_id: int
    matter_id: int


class MatterCountRow(Reply):
    """The counts of one lawyer or unit over the period."""

    key: int
    name: str
    handled: int
    on_time: int
    overdue: int
    declined_with_cause: int
    declined_without_cause: int
    declined_unruled: int
    deployed_in: int
    deployed_out: int
    matters: list[int]


class MatterCounts(Reply):
    """Counts for assessment: handled, on time, declines with and without cause."""

    by: str
    rows: list[MatterCountRow]
