"""Demo data of 督导考核 for `casefile init --demo`: an adviser pool, engagements in two units,
two years of services and assessments, a half-yearly report, so that the dashboard and the ranking show real
differences (kept apart from app/demo.py, which holds the documents' demo data)."""

from __future__ import annotations

import copy
import datetime as dt

from sqlalchemy import select

from app.access.policy import principal
from app.common.clock import today_in_china
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import IssuedDocument
from app.errors import WorkflowError
from app.identity.models import User
from app.supervision import assessment, filing, pool, records, reports

# ---- 督导考核: a pool, engagements in two units, two years of services and assessments -------

DEMO_POOL = [
    ("云岭明德律师事务所", "律师事务所", "", "", "行政法、公司法、建设工程", "0871-65123456", "2024-12-20"),
    ("李文静", "律师", "云岭明德律师事务所", "15301201910678901", "行政法、土地房产", "13908715566", "2024-12-20"),
    ("杨子涵", "律师", "云岭明德律师事务所", "15301202110456789", "公司法、金融、投资信贷", "13708719988", "2024-12-20"),
    ("方立诚", "法学专家", "武阳大学法学院", "", "行政法、经济法", "0871-65031234", "2024-12-20"),
    ("赵启明", "律师", "滇中正源律师事务所", "15301201510234567", "劳动法、民商法", "13888123456", "2024-12-20"),
    ("昆华衡信律师事务所", "律师事务所", "", "", "金融、投资信贷", "0871-63389900", "2025-06-30"),
]  # fmt: skip
# unit, recorder, entry name, kind, matter, hours: repeated over the quarters of 2025 and 2026
DEMO_SERVICES = [
    ("WY-FZB", "clerk", "云岭明德律师事务所", "meeting", "列席市政府常务会议", "3"),
    ("WY-FZB", "clerk", "李文静", "consultation", "征收补偿政策电话咨询", "1"),
    ("WY-FZB", "clerk", "云岭明德律师事务所", "negotiation", "参与政府和社会资本合作项目合同谈判", "4"),
    ("WY-FZB", "clerk", "方立诚", "training", "领导干部依法行政专题培训", "2.5"),
    ("WY-ZRZYJ", "zr-clerk", "杨子涵", "petition", "土地权属争议信访化解", "3"),
    ("WY-ZRZYJ", "zr-clerk", "杨子涵", "consultation", "国有土地出让合同条款咨询", "1.5"),
]  # fmt: skip


DEMO_REPORT = {
    "work_summary": "法律顾问列席市政府常务会议，对征收补偿、国有土地出让等重大行政决策事项提出法律意见。\n"
                    "审核规范性文件和行政机关合同，出具合法性审查意见书，所提修改意见均被采纳。\n"
                    "组织领导干部依法行政专题培训，开展征收补偿政策法律咨询。",
    "problems": "部分单位报送审查材料时间偏紧，法律顾问审查时间不足。\n"
                "个别法律顾问未按期出具书面意见，已在年度考核中予以体现。",
    "next_steps": "督促各单位提前报送审查材料，保证法律顾问审查时间不少于5个工作日。\n"
                  "组织法律顾问开展行政执法和合同管理专题培训。",
    "contact_name": "陈志远", "contact_phone": "0871-63112233", "cc": ["市委依法治市办"],
}  # fmt: skip


def _issue_as(cf: Casefile, template_id: str, data: dict, unit: str, clerk: str, chain: dict,
              date) -> IssuedDocument:  # fmt: skip
    with cf.db.write() as s:
        as_ = {name: principal(s, s.scalars(select(User).where(User.username == name)).one())
               for name in {clerk, *chain.values()}}  # fmt: skip
        draft = drafts.create_draft(cf, s, as_[clerk], template_id, data, unit)
        drafts.submit(cf, s, as_[clerk], draft.id)
        for step in drafts.template_of(cf, s, draft).schema.review_chain:
            drafts.approve(cf, s, as_[chain[step.role]], draft.id, comment="同意。")
        return drafts.issue(cf, s, as_[clerk], draft.id, issue_date=date)


def create_demo_supervision(cf: Casefile, contract_sample: dict | None) -> None:
    """The adviser pool of 武阳市, the natural-resources bureau's contract with a pool lawyer,
    filings (one on time, one returned, one overdue), services in every quarter of 2025 and
    2026 and the 2025 assessments (one 不称职, which suspends the entry)."""

    def as_(s, name):
        return principal(s, s.scalars(select(User).where(User.username == name)).one())

    ids = {}
    with cf.db.write() as s:
        for name, kind, firm, licence, specialties, contact, admitted in DEMO_POOL:
            ids[name] = pool.admit(s, as_(s, "inspector"), {
                "keeper": "WY", "name": name, "kind": kind, "firm": firm, "licence": licence,
                "specialties": specialties, "contact": contact, "admitted_on": admitted,
                "proposed_by": "武阳市律师协会" if kind != "法学专家" else "武阳大学法学院",
                "criteria": "政治素质好，执业五年以上，近三年无不良执业记录，熟悉政府法律事务",
                "decision": "经市司法局局务会议研究，同意纳入市法律顾问人才库"}).id  # fmt: skip
        pool.set_status(s, as_(s, "inspector"), ids["昆华衡信律师事务所"], "removed",
                        "本人申请退出人才库")  # fmt: skip
    if contract_sample is not None:
        data = copy.deepcopy(contract_sample)
        for key in ("adviser_uscc", "adviser_representative", "assigned_lawyers", "payee_account"):
            data.pop(key, None)
        data |= {"client_uscc": "11530100015234999H", "client_representative": "郑国栋",
                 "client_contact": "孙经办", "adviser_kind": "律师", "adviser_name": "杨子涵",
                 "adviser_licence": "15301202110456789", "adviser_employer": "云岭明德律师事务所",
                 "adviser_phone": "13708719988", "fee": "50000",
                 "term": {"start": "2026-03-01", "end": "2027-02-28"}}  # fmt: skip
        try:
            _issue_as(cf, "engagement-contract", data, "WY-ZRZYJ", "zr-clerk",
                      {"office-head": "zr-head", "signatory": "zr-signatory"}, dt.date(2026, 2, 20))  # fmt: skip
        except WorkflowError:  # a changed contract template: the demo goes on without it
            pass
    with cf.db.write() as s:
        inspector = as_(s, "inspector")
        for row in filing.filing_queue(s, inspector):
            if row.unit_name.endswith("法律顾问室") and row.signed_on.year == 2025:
                filing.register_filing(s, inspector, row.document_id, "武司备〔2026〕3号",
                                       row.signed_on + dt.timedelta(days=18))  # fmt: skip
            elif row.adviser == "方立诚":
                filing.return_filing(
                    s, inspector, row.document_id, "缺少专项事项的工作方案，请补充后重新报送"
                )
    today = today_in_china()
    with cf.db.write() as s:
        for year in (2025, 2026):
            for quarter in range(4):
                for n, (unit, recorder, who, kind, matter, hours) in enumerate(DEMO_SERVICES):
                    if unit == "WY-ZRZYJ" and (year, quarter) < (2026, 1):
                        continue  # the bureau engaged its adviser in March 2026
                    if (n + quarter + year) % 3 == 0 and unit == "WY-FZB":
                        continue  # not every service every quarter: the quarters differ
                    day = dt.date(year, 3 * quarter + 1, 10 + 3 * n)
                    if day > today:
                        continue
                    records.add_record(s, as_(s, recorder), {
                        "unit": unit, "subject": f"entry:{ids[who]}", "kind": kind,
                        "served_on": day.isoformat(), "matter": matter, "hours": hours})  # fmt: skip
    with cf.db.write() as s:
        for unit, head, signer, who, scores, comment in (
            ("WY-FZB", "head", "signatory", "云岭明德律师事务所", (95, 92, 90), "服务及时，意见质量高"),
            ("WY-FZB", "head", "signatory", "方立诚", (82, 85, 78), "专项论证扎实"),
            ("WY-FZB", "head", "signatory", "赵启明", (55, 50, 58), "多次未按期出具书面意见"),
        ):  # fmt: skip
            row = assessment.save_assessment(s, as_(s, head), {
                "unit": unit, "subject": f"entry:{ids[who]}", "year": 2025, "ability": scores[0],
                "quality": scores[1], "efficiency": scores[2], "comment": comment})  # fmt: skip
            assessment.sign_assessment(s, as_(s, signer), row.id)

    # the legal office's half-yearly report of the last period is issued (on time); the
    # natural-resources bureau has not reported, so the inspector sees one of each
    period = reports.current_period(today).previous()
    with cf.db.write() as s:
        draft_id = reports.start_report(cf, s, as_(s, "clerk"), {
            "unit": "WY-FZB", "year": period.year, "half": period.half, **DEMO_REPORT}).id  # fmt: skip
    with cf.db.write() as s:
        drafts.submit(cf, s, as_(s, "clerk"), draft_id)
        drafts.approve(cf, s, as_(s, "head"), draft_id, comment="同意。")
        drafts.approve(cf, s, as_(s, "signatory"), draft_id, comment="同意。")
        drafts.issue(cf, s, as_(s, "clerk"), draft_id,
                     issue_date=min(period.due - dt.timedelta(days=3), today))  # fmt: skip
