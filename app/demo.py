"""The demo dossier of `casefile init --demo`: a closed case file of a major decision with its
draft, expert opinion, public comments (a scan), risk assessment, the issued legality-review
opinion, meeting minutes and the decision; and an open one holding the risk notice. Also a
commission letter superseded by its correction, another one revoked, and three entries of the
register of normative documents (one in order, one filing overdue, one past its validity)."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from docx.shared import Cm
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.access.policy import principal
from app.casefiles import service as casefiles
from app.casefiles.models import CaseFile
from app.common.clock import today_in_china
from app.container import Casefile
from app.drafting import corrections, drafts, status
from app.drafting.models import IssuedDocument
from app.identity.models import User
from app.identity.users import add_user
from app.matters import decisions, deployment, service
from app.ocr.simulate import encoded, scanned, typed_page
from app.registers import normative
from app.templating.models import TemplateVersion

DECISION = "关于实施《武阳市城镇老旧小区改造项目管理办法》的重大行政决策"


def _docx(title: str, *paragraphs: str) -> bytes:
    doc = Document()
    doc.sections[0].page_width, doc.sections[0].page_height = Cm(21), Cm(29.7)
    doc.add_heading(title, level=1)
    for text in paragraphs:
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


PUBLIC_COMMENTS = [
    "《武阳市城镇老旧小区改造项目管理办法（送审稿）》",
    "公开征求意见情况汇总",
    "征求意见时间：2026年10月8日至10月28日",
    "共收到意见42条，其中：",
    "一、建议明确居民出资比例的意见15条；",
    "二、建议将加装电梯纳入改造内容的意见11条；",
    "三、其他意见16条，已逐条研究并反馈。",
    "",
    "武阳市住房和城乡建设局",
    "2026年10月30日",
]


def _scan() -> bytes:
    """A scanned page of the collected public comments: a PNG with no text of its own, which
    text recognition reads in the outbox (app/casefiles/ocr.py)."""
    try:
        page = scanned(typed_page(PUBLIC_COMMENTS), seed=30)
    except RuntimeError:  # no Chinese font installed: a ruled form with nothing to read
        page = Image.new("L", (1240, 1754), 250)
        draw = ImageDraw.Draw(page)
        for y in range(220, 1600, 90):
            draw.line((120, y, 1120, y), fill=120, width=2)
    return encoded(page, "PNG")


def _doc_of(session, template_id: str) -> IssuedDocument | None:
    return session.scalars(
        select(IssuedDocument)
        .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
        .where(TemplateVersion.template_id == template_id)
        .order_by(IssuedDocument.id)
    ).first()


def create_demo_dossiers(
    cf: Casefile, unit_code: str = "WY-FZB", username: str = "clerk"
) -> int | None:
    """Returns the id of the closed demo case file (None when the demo documents are missing)."""
    with cf.db.write() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        review = _doc_of(s, "legality-review-opinion")
        if user is None or review is None:
            return None
        p = principal(s, user)
        case = casefiles.create_case_file(
            s, p, title=DECISION, kind="major-decision", unit_code=unit_code, retention="Y",
            responsible="李文书、陈主任", received_on="2026-10-20", reviewed_on=review.issue_date,
            meeting_on="2026-11-12", decided_on="2026-11-16",
        )  # fmt: skip
        uploads = [
            ("draft-decision", "武阳市城镇老旧小区改造项目管理办法（送审稿）", "市住房和城乡建设局", "2026-10-18",
             _docx("武阳市城镇老旧小区改造项目管理办法（送审稿）", "第一条 为规范本市城镇老旧小区改造项目管理，制定本办法。",
                   "第二条 本办法适用于本市行政区域内城镇老旧小区改造项目的计划、实施和监督。")),
            ("expert-opinion", "专家论证意见", "专家论证组", "2026-10-26",
             _docx("专家论证意见", "论证组认为，送审稿总体可行，建议细化居民出资比例和公共收益使用规定。")),
            ("public-comment", "公众意见汇总（扫描件）", "市住房和城乡建设局", "2026-10-30", _scan()),
            ("risk-assessment", "社会稳定风险评估报告", "市住房和城乡建设局", "2026-11-03",
             _docx("社会稳定风险评估报告", "评估结论：风险等级为低风险，可以实施。")),
        ]  # fmt: skip
        for role, title, responsible, date, data in uploads:
            name = f"{title}.{'png' if role == 'public-comment' else 'docx'}"
            casefiles.add_attachment(cf, s, p, case.id, data, name, title=title, role=role,
                                     responsible=responsible, doc_date=date)  # fmt: skip
        casefiles.add_document(s, p, case.id, review.id, role="legality-review")
        for role, title, date, text in (
            ("minutes", "市人民政府第12次常务会议纪要（节选）", "2026-11-12",
             "会议审议并原则通过《武阳市城镇老旧小区改造项目管理办法》，请市住房和城乡建设局按合法性审查意见修改后印发。"),
            ("decision", "武阳市人民政府关于印发《武阳市城镇老旧小区改造项目管理办法》的通知", "2026-11-16",
             "现将《武阳市城镇老旧小区改造项目管理办法》印发给你们，请认真贯彻执行。"),
        ):  # fmt: skip
            casefiles.add_attachment(cf, s, p, case.id, _docx(title, text), f"{title}.docx", title=title,
                                     role=role, responsible="武阳市人民政府", doc_date=date)  # fmt: skip
        closed_id = case.id
        notice = _doc_of(s, "risk-notice")
        if notice is not None:
            open_case = casefiles.create_case_file(
                s, p, title="国有建设用地使用权出让合同履约监管法律风险提示", kind="other",
                unit_code=unit_code, retention="D30", responsible="王律师",
            )  # fmt: skip
            casefiles.add_document(s, p, open_case.id, notice.id)
    with cf.db.write() as s:
        casefiles.close_case_file(
            s, principal(s, user), closed_id, default_fonds=cf.settings.fonds_code
        )
    return closed_id


# ---- statuses (替代、撤销) and the register of normative documents ----------------------------

REVIEWERS = {"adviser": "adviser", "public-lawyer": "lawyer", "office-head": "head",
             "signatory": "signatory"}  # fmt: skip


def create_demo_statuses(cf: Casefile, unit_code: str = "WY-FZB") -> dict[str, str]:
    """A commission letter superseded by its correction and another one revoked (an office
    head proposes, a signatory confirms); {"superseded", "correction", "revoked": 发文字号}."""
    with cf.db.write() as s:
        letters = list(s.scalars(
            select(IssuedDocument)
            .join(TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
            .where(TemplateVersion.template_id == "commission-letter")
            .order_by(IssuedDocument.id)
        ))  # fmt: skip
        if len(letters) < 2:
            return {}
        old, revoked = letters[0], letters[1]
        clerk = principal(s, s.scalars(select(User).where(User.username == "clerk")).one())
        draft = corrections.start_correction(cf, s, clerk, old.id, via="demo")
        data = dict(drafts.current_version(s, draft).data)
        data["lawyer_phone"] = "13808712346"  # the letter gave a wrong telephone number
        drafts.edit_draft(cf, s, clerk, draft.id, data)
        drafts.submit(cf, s, clerk, draft.id)
        for step in drafts.template_of(cf, s, draft).schema.review_chain:
            user = s.scalars(select(User).where(User.username == REVIEWERS[step.role])).one()
            drafts.approve(cf, s, principal(s, user), draft.id, comment="同意更正。")
        new = drafts.issue(cf, s, clerk, draft.id, issue_date=old.issue_date + dt.timedelta(days=8))
        out = {"superseded": old.number, "correction": new.number, "revoked": revoked.number}
    with cf.db.write() as s:
        head = s.scalars(select(User).where(User.username == "head")).one()
        status.propose_revocation(s, principal(s, head), revoked.id,
                                  "原告已撤回起诉，委托事项终结，本委托公函不再使用。", via="demo")  # fmt: skip
    with cf.db.write() as s:
        signatory = s.scalars(select(User).where(User.username == "signatory")).one()
        status.confirm_revocation(s, principal(s, signatory), revoked.id, via="demo")
    return out


def create_demo_register(cf: Casefile, unit_code: str = "WY-FZB") -> list[str]:
    """Three entries of the register of normative documents: one in good order linked to the
    demo decision's case file and legality-review opinion, one whose filing is overdue, and an
    old one past its validity that the yearly clean-up must catch."""
    with cf.db.write() as s:
        clerk = principal(s, s.scalars(select(User).where(User.username == "clerk")).one())
        review = _doc_of(s, "legality-review-opinion")
        case = s.scalars(select(CaseFile).where(CaseFile.title == DECISION)).first()
        proper = {
            "title": "武阳市城镇老旧小区改造项目管理办法", "case_file": case.id if case else None,
            "review_document": review.number if review else "", "comment_from": "2026-10-08",
            "comment_to": "2026-10-30", "expert_on": "2026-11-01",
            "meeting": "武阳市人民政府第12次常务会议", "decided_on": "2026-11-16",
            "registered_on": "2026-11-18", "published_on": "2026-11-20",
            "channel": "武阳市人民政府门户网站、《武阳市人民政府公报》2026年第11期",
            "filed_on": "2026-11-25", "filing_number": "云府备〔2026〕118号",
            "filing_body": "云南省人民政府",
        }  # fmt: skip
        if review is None or review.issue_date < dt.date(2026, 11, 1):
            proper["review_on"] = "2026-11-08"
        overdue = {
            "title": "武阳市行政执法公示办法", "comment_from": "2026-07-01", "comment_to": "2026-07-31",
            "expert_on": "2026-08-10", "review_on": "2026-08-20", "meeting": "市人民政府第9次常务会议",
            "decided_on": "2026-08-28", "registered_on": "2026-09-01", "published_on": "2026-09-05",
            "channel": "武阳市人民政府门户网站",
        }  # fmt: skip
        old = {
            "title": "武阳市城市道路占用管理暂行规定", "comment_from": "2020-02-01",
            "comment_to": "2020-03-01", "expert_on": "2020-03-10", "review_on": "2020-03-20",
            "meeting": "市人民政府第5次常务会议", "decided_on": "2020-03-30",
            "registered_on": "2020-04-01", "published_on": "2020-04-03",
            "channel": "《武阳市人民政府公报》2020年第4期", "filed_on": "2020-04-20",
            "filing_number": "云府备〔2020〕36号", "filing_body": "云南省人民政府",
        }  # fmt: skip
        numbers = []
        for values in (old, overdue, proper):
            numbers.append(normative.register_entry(s, clerk, values, unit_code=unit_code,
                                                    via="demo", settings=cf.settings).number)  # fmt: skip
    return numbers


# ---- public lawyers' matters (法律事务) -------------------------------------------------------

MATTER_HEAD = ("wy-head", "赵处长", "WY", ["office-head"])  # the government's legal office head


def create_demo_matters(cf: Casefile, password: str) -> list[tuple[str, str, list[str]]]:
    """Matters in several states for the demo: in FZB one per state (待指派 to 办结, 退回), with
    deadlines near and passed; in 自然资源局 (no public lawyer) one waiting for deployment from
    the government (赵处长 picks) and one deployed to 张明远; the lawyer's profile; the decision
    list of FZB. Returns the demo user it adds (the government's office head)."""
    username, name, unit, roles = MATTER_HEAD
    today = today_in_china()
    with cf.db.write() as s:
        if s.scalars(select(User).where(User.username == "lawyer")).first() is None:
            return []
        add_user(s, username, name, unit, roles, password=password, must_change=False)

    def p(s, who: str):
        return principal(s, s.scalars(select(User).where(User.username == who)).one())

    def matter(s, who, unit_code, title, kind="admin-litigation", served_days=None, **kw):
        served = today - dt.timedelta(days=served_days) if served_days is not None else None
        return service.create_matter(s, p(s, who), unit_code=unit_code, kind=kind, title=title,
                                     served_on=served, **kw).id  # fmt: skip

    with cf.db.write() as s:
        service.save_profile(s, p(s, "lawyer"), "lawyer", licence="15301202610123456",
                             phone="13808712345", specialty="行政诉讼、行政复议、政府信息公开")  # fmt: skip
        decisions.add_entry(cf, s, p(s, "head"), "WY-FZB", "legality-review-opinion",
                            "重大行政决策合法性审查")  # fmt: skip
        fzb = "WY-FZB"
        matter(
            s,
            "clerk",
            fzb,
            "钱某诉武阳市人民政府行政复议决定",
            served_days=12,
            parties="原告钱某",
            party_role="被告",
            case_number="（2026）云01行初201号",
            body="武阳市中级人民法院",
            specialty="行政诉讼",
        )  # 待指派, 答辩期 in 3 days
        assigned = matter(s, "clerk", fzb, "某物业公司不服武阳市人民政府行政处罚申请行政复议",
                          kind="reconsideration", served_days=2, parties="申请人某物业公司",
                          party_role="被申请人", body="云南省人民政府")  # fmt: skip
        service.assign(s, p(s, "head"), assigned, "lawyer", "请按期提交书面答复")
        handling = matter(s, "clerk", fzb, "张某诉武阳市人民政府政府信息公开", served_days=17,
                          parties="原告张某", party_role="被告", case_number="（2026）云01行初137号",
                          body="武阳市中级人民法院")  # 答辩期 passed two days ago  # fmt: skip
        service.assign(s, p(s, "head"), handling, "lawyer")
        service.accept(s, p(s, "lawyer"), handling)
        service.record_progress(
            cf, s, p(s, "lawyer"), handling, "已调取政府信息公开申请及答复材料，起草答辩状。"
        )
        reported = matter(s, "clerk", fzb, "武阳市城镇老旧小区改造项目管理办法合法性论证",
                          kind="decision-review", deadline=(today + dt.timedelta(days=20)).isoformat(),
                          deadline_label="论证期限")  # fmt: skip
        service.assign(s, p(s, "head"), reported, "lawyer")
        service.accept(s, p(s, "lawyer"), reported)
        service.record_progress(cf, s, p(s, "lawyer"), reported,
                                "经论证，办法总体合法，建议细化居民出资比例规定。", final=True)  # fmt: skip
        closed = matter(s, "clerk", fzb, "某建筑公司与武阳市人民政府建设工程施工合同纠纷",
                        kind="civil-litigation", served_days=40, parties="原告某建筑公司",
                        party_role="被告", case_number="（2026）云0102民初4567号",
                        body="武阳市五华区人民法院")  # fmt: skip
        service.assign(s, p(s, "head"), closed, "lawyer")
        service.accept(s, p(s, "lawyer"), closed)
        service.record_progress(
            cf, s, p(s, "lawyer"), closed, "双方达成调解，已履行完毕。", final=True
        )
        letter = s.scalars(select(IssuedDocument.id).join(
            TemplateVersion, TemplateVersion.id == IssuedDocument.template_version_id)
            .where(TemplateVersion.template_id == "commission-letter")
            .order_by(IssuedDocument.id).offset(2)).first()  # fmt: skip
        # the closed matter's letter: its lawyer's reading of it ended with the matter
        if letter is not None:
            service.link_document(s, p(s, "head"), closed, letter)
        service.close(s, p(s, "head"), closed, "调解结案")
        returned = matter(s, "clerk", fzb, "市民李某来信反映小区停车收费问题", kind="petition")
        service.return_matter(s, p(s, "head"), returned, "属于信访事项，已转市信访局按程序办理。")
        zr = "WY-ZRZYJ"
        waiting = matter(s, "zr-clerk", zr, "某开发公司诉武阳市自然资源局土地出让合同纠纷",
                         kind="civil-litigation", served_days=5, party_role="被告",
                         case_number="（2026）云01民初88号", body="武阳市中级人民法院",
                         specialty="行政诉讼")  # fmt: skip
        deployment.request_deployment(s, p(s, "zr-head"), waiting, reason="本局暂无公职律师")
        deployed = matter(s, "zr-clerk", zr, "刘某诉武阳市自然资源局征收补偿决定",
                          served_days=8, parties="原告刘某", party_role="被告",
                          case_number="（2026）云01行初233号", body="武阳市中级人民法院",
                          specialty="行政诉讼")  # fmt: skip
        request = deployment.request_deployment(
            s, p(s, "zr-head"), deployed, reason="本局暂无公职律师"
        )
        deployment.deploy(s, p(s, username), request.id, "lawyer", "请张明远同志支持")
        service.accept(s, p(s, "lawyer"), deployed)
    return [(username, name, roles)]
