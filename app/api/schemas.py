"""The models of the API contract: request bodies and query strings (validated) and the JSON
each route answers (described, as the presenters and services build it).

Long module: the contract's whole vocabulary, one small class per JSON object,
read together (shared objects such as Step and Document are used by several resources)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema

from app.api.contract import Body, Query, Reply

API_DESCRIPTION = (
    "casefile 的 JSON 接口。先以用户名和密码 POST /api/v1/tokens 取得令牌，之后每个请求带 "
    "`Authorization: Bearer <令牌>`。错误一律为 JSON：`{error, message, errors: [{field, "
    "message}]}`，message 为中文说明，errors 逐项列出有误的字段。"
)

Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
Date = Annotated[str, Field(description="YYYY-MM-DD", json_schema_extra={"format": "date"})]
Timestamp = Annotated[
    str, Field(description="UTC, ISO 8601", json_schema_extra={"format": "date-time"})
]


def _int_text(minimum: int, maximum: int, what: str = "") -> Any:
    """A query value the view reads as text (with its own messages), documented as what it
    must be: an integer in range, or empty for "not given" (as an HTML form sends it)."""
    schema = {"anyOf": [{"type": "integer", "minimum": minimum, "maximum": maximum},
                        {"const": ""}]}  # fmt: skip
    return Annotated[str | None, WithJsonSchema(schema | ({"description": what} if what else {}))]


YearText = _int_text(1900, 2200)


# ---- tokens --------------------------------------------------------------------------------


class TokenRequest(Body):
    username: str = Field(title="用户名", max_length=64)
    password: str = Field(title="密码", max_length=256)
    label: str = Field("api", title="令牌用途", max_length=100)


class Token(Reply):
    """A new API token (shown once)."""

    token: str
    username: str


# ---- templates -----------------------------------------------------------------------------


class ShowIf(Reply):
    field: str
    equals: Any = None
    in_: list[Any] = Field(alias="in")


class TemplateField(Reply):
    """A field of a template's form; keys beyond `max_length` appear only when set."""

    name: str
    label: str
    type: str
    required: bool
    max_length: int | None
    options: list[str] | None = None
    format: str | None = None
    pattern: str | None = None
    help: str | None = None
    min: float | None = None
    max: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    after: str | None = None
    role: str | None = None
    same_unit: bool | None = None
    show_if: ShowIf | None = None
    fields: list[TemplateField] | None = None


class ReviewChainStep(Reply):
    name: str
    label: str
    role: str
    approvals: int


class Template(Reply):
    """A template (latest version): its fields and review chain."""

    id: str
    version: int
    title: str
    sha256: Sha256
    description: str
    review_chain: list[ReviewChainStep]
    fields: list[TemplateField]


class TemplateList(Reply):
    """The templates a draft can be made from."""

    templates: list[Template]


BinaryPart = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]


class TemplateUploadForm(Query):
    """multipart/form-data: the DOCX, schema.yaml and (recommended) sample.json."""

    model_config = ConfigDict(json_schema_extra={"required": ["docx", "schema"]})

    docx: BinaryPart = Field(None, title="模板文件（DOCX）")
    schema_: BinaryPart = Field(None, alias="schema", title="字段定义（schema.yaml）")
    sample: BinaryPart = Field(None, title="示例数据（sample.json）")


class TemplateUploadReply(Reply):
    """The version recorded and the check's report (warnings do not refuse an upload)."""

    template_id: str
    version: int
    sha256: Sha256
    placeholders: list[str]
    unused: list[str]
    warnings: list[str]


class SchemaProposalForm(Query):
    """multipart/form-data: a DOCX with placeholders and, optionally, the template id."""

    model_config = ConfigDict(json_schema_extra={"required": ["docx"]})

    docx: BinaryPart = Field(None, title="模板文件（DOCX）")
    template_id: str | None = Field(None, title="模板编号", max_length=64)


class ProposedField(Reply):
    name: str
    type: str
    where: str


class SchemaProposalReply(Reply):
    """The DOCX's placeholders and a schema.yaml declaring each, to edit before uploading."""

    placeholders: list[str]
    fields: list[ProposedField]
    problems: list[str]
    schema_yaml: str


# ---- drafts and review ---------------------------------------------------------------------


class DraftCreate(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"template": "commission-letter", "unit": "FZB", "data": {}, "submit": False}]})  # fmt: skip

    template: str = Field(title="模板", max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, title="表单内容")
    unit: str | None = Field(None, title="发文单位", max_length=32)
    co_sign_units: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, title="会签单位", max_length=50
    )
    submit: bool = Field(False, title="立即送审")


class DraftEdit(Body):
    data: dict[str, Any] = Field(title="表单内容")
    co_sign_units: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None, title="会签单位", max_length=50
    )


class Decision(Body):
    comment: str = Field(
        "", title="意见", description="at most 2000 characters; required to return"
    )


class Step(Reply):
    """One review step: who, in which role, when, the decision and the exact text's sha256."""

    decision: str
    step: str
    role: str
    user: str
    name: str
    at: Timestamp
    comment: str
    version_sha256: Sha256


class MissingField(Reply):
    field: str
    label: str
    message: str


class Completeness(Reply):
    """Required fields filled of those in play (已填写 filled/total 项) and what is missing;
    a draft may be saved incomplete, submission needs `missing` empty."""

    filled: int
    total: int
    missing: list[MissingField]


class DraftLinks(Reply):
    self: str
    download: str = Field(description="the current version as DOCX")


class Draft(Reply):
    """A draft and its review chain."""

    id: int
    title: str
    template: str = Field(description="template id@version")
    unit: str
    status: Literal["draft", "in_review", "returned", "approved", "issued", "deleted"]
    status_label: str
    version: int
    sha256: Sha256
    pending_step: str | None
    steps: list[Step]
    completeness: Completeness
    links: DraftLinks


class Queue(Reply):
    """What waits for the caller, what they sent, what is ready to issue, their units' drafts."""

    waiting: list[Draft]
    mine: list[Draft]
    ready: list[Draft]
    unit_pending: list[Draft]


# ---- documents -----------------------------------------------------------------------------


class DocumentLinks(Reply):
    self: str
    download: str = Field(description="the issued DOCX")
    pdf: str = Field(description="the PDF rendition (409 while it is being made)")


DocumentStatusKey = Literal["issued", "superseded", "revoked"]


class DocumentRef(Reply):
    id: int
    number: str
    title: str


class RevocationPending(Reply):
    proposed_by: str
    reason: str
    role: Literal["office-head", "signatory"]


class RevocationRequest(Body):
    reason: str = Field(title="撤销理由", max_length=2000)


class Document(Reply):
    """An issued document (已发文书) with its review record and its status (有效, 已被替代 with
    the correction that superseded it, 已撤销 with the reason)."""

    id: int
    number: str
    title: str
    unit: str
    unit_name: str
    template: str
    template_version: int
    template_sha256: Sha256
    issue_date: Date
    issued_at: Timestamp
    issued_by: str
    sha256: Sha256
    approved_sha256: Sha256
    slip_sha256: Sha256 | None
    draft: int
    steps: list[Step]
    links: DocumentLinks
    status: DocumentStatusKey = Field(description="issued: 有效 (in force)")
    status_label: str
    effective_on: Date | None = Field(description="the day it was superseded or revoked")
    reason: str | None = Field(description="why it was superseded or revoked")
    superseded_by: DocumentRef | None = Field(description="the correction that superseded it")
    supersedes: DocumentRef | None = Field(description="the document this one superseded")
    revocation_pending: RevocationPending | None = Field(
        description="a revocation proposed, waiting for the other role's confirmation"
    )


class DocumentSummary(Reply):
    id: int
    number: str
    title: str
    unit: str
    issue_date: Date
    sha256: Sha256
    links: DocumentLinks
    status: DocumentStatusKey
    status_label: str


class DocumentList(Reply):
    """One page of the issued documents the caller may read, newest first."""

    total: int
    page: int
    per_page: int
    documents: list[DocumentSummary]


class Paging(Query):
    page: int = Field(1, ge=1, le=100_000, title="页码")
    per_page: int = Field(
        30, ge=1, le=10_000, title="每页条数", description="at most 100 are returned"
    )


class DocumentsQuery(Paging):
    """已发文书: narrowed by type, unit and year, sorted by 成文日期 (app/drafting/documents.py)."""

    type: str | None = Field(
        None,
        title="文书类型",
        description="a document type (search type), e.g. legality-review-opinion",
    )
    unit: str | None = Field(None, title="发文单位", description="unit code")
    year: _int_text(1000, 2999) = Field(None, title="年度", description="the year of 成文日期")
    sort: str | None = Field(
        None,
        title="排序",
        description="date_desc (default: 成文日期 newest first) or date_asc",
        json_schema_extra={"enum": ["", "date_desc", "date_asc"]},
    )
    status: str | None = Field(
        None, title="状态", description="issued (有效), superseded (已被替代), revoked (已撤销), "
        "or the Chinese name; empty: all",
    )  # fmt: skip


# ---- contracts register --------------------------------------------------------------------


class ContractsQuery(Query):
    status: str | None = Field(
        None,
        title="状态",
        description="empty: every status",
        json_schema_extra={"enum": ["", "expiring", "active", "not_started", "expired", "unknown"]},
    )
    window: _int_text(0, 3650) = Field(None, title="提醒期限（日）")
    expiring: _int_text(0, 3650, "short for status=expiring&window=N") = Field(
        None, title="即将到期（日）"
    )
    unit: str | None = Field(None, title="单位", description="unit code; its sub-units included")


class Term(Reply):
    start: Date | None
    end: Date | None


class Contract(Reply):
    document_id: int
    number: str
    title: str
    issue_date: Date
    unit: str
    unit_name: str
    adviser: str
    adviser_kind: str
    service_type: str
    project: str
    term: Term
    days_remaining: int | None
    status: str
    status_label: str
    renewed_by: str | None
    ended_on: Date | None = Field(description="superseded or revoked: the day it ended")
    superseded_by: str | None = Field(description="发文字号 of the correction that superseded it")
    fee: str | None = Field(description="decimal, as text")
    filing_body: str
    links: DocumentLinks


class ContractRegister(Reply):
    """聘任合同台账: the engagement contracts the caller reads, by end of term."""

    today: Date
    window: int
    total: int
    counts: dict[str, int]
    due: int
    contracts: list[Contract]
    unit: str | None
    status: str | None


# ---- search --------------------------------------------------------------------------------


class SearchParams(Query):
    q: str = Field("", title="检索式", description="see docs/search.md")
    type: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        default_factory=list, title="文书类型",
        description="a search type, a template id or a label from the template registry",
    )  # fmt: skip
    unit: list[str] = Field(default_factory=list, title="单位")
    year: YearText = Field(None, title="年度")
    year_from: YearText = Field(None, title="起始年度")
    year_to: YearText = Field(None, title="截止年度")
    reviewer: str = Field("", title="审核人")
    conclusion: str = Field("", title="审查结论")
    status: str = Field(
        "", title="状态", description="有效 (issued), 已被替代 (superseded), 已撤销 (revoked)"
    )
    sort: Literal["relevance", "date"] = Field("relevance", title="排序")
    page: int = Field(1, ge=1, le=1000, title="页码")
    per_page: int = Field(20, ge=1, le=10_000, title="每页条数", description="at most 100")


class SearchHit(Reply):
    """A hit: an issued document (`id`), or uploaded material of a case file (`attachment_id`,
    `case_file_id`, `item_id`; `id` is null). Links are API routes."""

    id: int | None
    search_id: str
    number: str
    title: str
    type: str
    type_label: str
    unit: str
    unit_name: str
    issued_on: Date
    score: float
    snippet_html: str = Field(description="HTML-escaped text with <mark> around matches")
    url: str | None = Field(description="the hit's API resource")
    download_url: str | None = Field(None, description="the file, over the API")
    attachment_id: int | None = None
    case_file_id: int | None = None
    case_title: str | None = None
    item_id: int | None = None
    status: str = Field(description="issued (有效), superseded, revoked; filed (attachment)")
    status_label: str


class SearchReply(Reply):
    """Search results the caller may read, with facets."""

    total: int
    page: int
    per_page: int
    elapsed_ms: float
    facets: dict[str, dict[str, int]]
    type_labels: dict[str, str]
    hits: list[SearchHit]


# ---- case files (案卷) ----------------------------------------------------------------------


class CaseFilesQuery(Paging):
    status: str | None = Field(
        None,
        title="状态",
        description="empty: both",
        json_schema_extra={"enum": ["", "open", "closed"]},
    )
    unit: str | None = Field(None, title="单位")
    year: _int_text(1000, 2999) = Field(None, title="年度")


class CaseFileCreate(Body):
    title: str | None = Field(None, title="案卷题名")
    kind: str | None = Field(None, title="类别")
    unit: str | None = Field(None, title="单位", description="default: the caller's unit")
    retention: str | None = Field(None, title="保管期限", json_schema_extra={"examples": ["D30"]})
    responsible: str | None = Field(None, title="责任人", description="default: the caller")
    note: str | None = Field(None, title="备注")
    received_on: Date | None = Field(None, title="收件日期")
    reviewed_on: Date | None = Field(None, title="审查日期")
    meeting_on: Date | None = Field(None, title="会议日期")
    decided_on: Date | None = Field(None, title="决定日期")


class CaseFileEdit(Body):
    """Only the keys sent are changed (an open case file)."""

    title: str | None = Field(None, title="案卷题名")
    kind: str | None = Field(None, title="类别")
    retention: str | None = Field(None, title="保管期限")
    responsible: str | None = Field(None, title="责任人")
    note: str | None = Field(None, title="备注")
    received_on: Date | None = Field(None, title="收件日期", description="null clears it")
    reviewed_on: Date | None = Field(None, title="审查日期", description="null clears it")
    meeting_on: Date | None = Field(None, title="会议日期", description="null clears it")
    decided_on: Date | None = Field(None, title="决定日期", description="null clears it")


class CaseItemEdit(Body):
    """An item's catalogue entry; only the keys sent are changed (an open case file)."""

    title: str | None = Field(None, title="题名")
    responsible: str | None = Field(None, title="责任者", description="empty or null clears it")
    doc_date: Date | None = Field(None, title="日期", description="null clears it")
    doc_number: str | None = Field(None, title="文号")
    role: str | None = Field(None, title="材料类别")


class CaseItemMove(Body):
    position: int = Field(..., title="位置", description="1 = first")


# read by the view: a JSON number or a string of digits (its own message, 应为正整数)
PositiveId = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string",
                    "pattern": "^[1-9][0-9]{0,17}$"}, {"type": "null"}]}),
]  # fmt: skip


class FileDocument(Body):
    document_id: PositiveId = Field(None, title="文书")
    role: str | None = Field(None, title="材料类别")
    reply_to: PositiveId = Field(None, title="答复的材料")


class UploadMaterial(Query):
    """multipart/form-data: the file and its description (every part is text but the file)."""

    model_config = ConfigDict(json_schema_extra={"required": ["file"]})

    file: Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})] = Field(
        None, title="文件"
    )
    title: str | None = Field(None, title="题名")
    role: str | None = Field(None, title="材料类别")
    responsible: str | None = Field(None, title="责任者")
    doc_date: Date | None = Field(None, title="日期")
    doc_number: str | None = Field(None, title="文号")
    reply_to: Annotated[str | None, WithJsonSchema({"type": "integer", "minimum": 1})] = Field(
        None, title="答复的材料"
    )


class ItemLinks(Reply):
    download: str
    document: str | None = None
    searchable_pdf: str | None = Field(
        None, description="a scan's PDF/A copy with its recognised text, once there is one"
    )


class ItemOcr(Reply):
    """Text recognition of a scan (识别文字), done in the background after the upload."""

    status: str = Field(description="pending (待识别), running (识别中), done (已识别), "
                                    "empty (未识别出文字), failed (识别失败)")  # fmt: skip
    status_label: str
    pages: int | None
    empty_pages: list[int] = Field(description="pages that yielded no text")
    searchable_copy: bool


class CaseItem(Reply):
    """An item of a case file: a filed document or uploaded material."""

    id: int
    position: int
    title: str
    role: str
    role_label: str
    document_id: int | None
    attachment_id: int | None
    number: str | None
    date: Date | None
    responsible: str | None
    type: str
    sha256: Sha256
    reply_to: int | None
    archival_code: str | None = Field(description="档号, once the case file is closed")
    restricted: bool | None = None
    document_status: str | None = Field(
        None, description="a filed document's status: issued (有效), superseded, revoked"
    )
    document_status_label: str | None = None
    ocr: ItemOcr | None = Field(None, description="a scan's text recognition")
    links: ItemLinks


class CaseFileLinks(Reply):
    self: str
    dossier_pdf: str
    package_zip: str


class CaseFileSummary(Reply):
    """A case file (案卷) without its items."""

    id: int
    title: str
    kind: str
    kind_label: str
    unit: str
    unit_name: str
    responsible: str
    received_on: Date | None
    reviewed_on: Date | None
    meeting_on: Date | None
    decided_on: Date | None
    retention: str
    retention_label: str
    status: str
    status_label: str
    fonds_code: str | None
    archive_year: int | None
    note: str
    created_by: str
    created_at: Timestamp
    closed_at: Timestamp | None
    links: CaseFileLinks


class CaseFile(CaseFileSummary):
    """A case file (案卷) and its items in filing order."""

    items: list[CaseItem]


class CaseFileList(Reply):
    """One page of the case files the caller reads, newest first."""

    total: int
    page: int
    per_page: int
    case_files: list[CaseFileSummary]


class OcrRedo(Body):
    item_id: PositiveId = Field(None, title="材料", description="one item; none: every scan of "
                                "the case file that failed or was never queued")  # fmt: skip


class OcrRequeued(Reply):
    """A scan queued for text recognition again."""

    attachment: int
    case: int | None = Field(..., description="None: the material is no longer filed")
    item: int | None
    position: int | None
    title: str
    previous: Literal["failed", "never"]
    previous_label: str


class OcrRedoReply(Reply):
    """What was queued for recognition again (an administrator's)."""

    queued: list[OcrRequeued]


# ---- the register of normative documents (规范性文件登记簿) ------------------------------------


class NormativeQuery(Query):
    unit: str | None = Field(None, title="单位", description="unit code; its sub-units included")
    state: str | None = Field(
        None, title="状态", description="in_force, expired, repealed, amended"
    )
    year: YearText = Field(None, title="登记年度")
    q: str = Field("", title="文件名称或编号", max_length=100)
    problems: bool = Field(False, title="只列有问题的")


class NormativeValues(Body):
    """The fields of an entry; on PATCH only those given change (the number never does)."""

    title: str | None = Field(None, title="文件名称", max_length=200)
    case_file: int | None = Field(None, title="制定案卷", ge=1, le=10**18 - 1)
    comment_from: str | None = Field(None, title="公开征求意见起始日期", description="YYYY-MM-DD")
    comment_to: str | None = Field(None, title="公开征求意见截止日期", description="YYYY-MM-DD")
    expert_on: str | None = Field(None, title="专家论证日期", description="YYYY-MM-DD")
    review_document: str | None = Field(
        None, title="合法性审查意见书", description="发文字号 or id"
    )
    review_on: str | None = Field(None, title="合法性审查日期", description="YYYY-MM-DD")
    meeting: str | None = Field(None, title="集体讨论决定的会议", max_length=200)
    decided_on: str | None = Field(None, title="集体讨论决定日期", description="YYYY-MM-DD")
    registered_on: str | None = Field(None, title="登记日期", description="YYYY-MM-DD; POST only")
    published_on: str | None = Field(None, title="公布日期", description="YYYY-MM-DD")
    channel: str | None = Field(None, title="公布载体", max_length=200)
    filed_on: str | None = Field(None, title="备案日期", description="YYYY-MM-DD")
    filing_number: str | None = Field(None, title="备案号", max_length=64)
    filing_body: str | None = Field(None, title="备案机关", max_length=200)
    valid_from: str | None = Field(None, title="施行日期", description="YYYY-MM-DD")
    valid_years: int | None = Field(None, title="有效期（年）", ge=1, le=50)
    state: str | None = Field(None, title="状态")
    note: str | None = Field(None, title="备注", max_length=2000)


class NormativeCreate(NormativeValues):
    unit: str | None = Field(None, title="制定单位", description="unit code; default: the caller's")


class NormativeStep(Reply):
    step: str
    label: str
    date: Date | None


class NormativeFinding(Reply):
    category: str
    label: str
    detail: str


class NormativeEntry(Reply):
    """规范性文件: its unified number, the procedure's dates, publication, filing, validity."""

    id: int
    number: str = Field(description="统一编号, e.g. 武政规〔2026〕1号")
    title: str
    unit: str
    unit_name: str
    case_file_id: int | None
    case_title: str | None
    review_document_id: int | None
    review_number: str | None
    steps: list[NormativeStep]
    comment_from: Date | None
    comment_to: Date | None
    meeting: str
    channel: str
    filing_number: str
    filing_body: str
    valid_from: Date | None
    valid_until: Date | None
    state: Literal["in_force", "expired", "repealed", "amended"]
    state_label: str
    note: str
    findings: list[NormativeFinding]


class NormativeRegister(Reply):
    """规范性文件登记簿: the entries the caller reads."""

    today: Date
    total: int
    counts: dict[str, int]
    entries: list[NormativeEntry]
