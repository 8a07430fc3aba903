"""The demo dossier of `casefile init --demo`: a closed case file of a major decision with its
draft, expert opinion, public comments (a scan), risk assessment, the issued legality-review
opinion, meeting minutes and the decision; and an open one holding the risk notice."""

from __future__ import annotations

import io

from docx import Document
from docx.shared import Cm
from sqlalchemy import select

from app.access.policy import principal
from app.casefiles import service as casefiles
from app.container import Casefile
from app.drafting.models import IssuedDocument
from app.identity.models import User
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


def _scan() -> bytes:
    """A stand-in for a scanned page of collected comments (a ruled form)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (1240, 1754), 250)
    draw = ImageDraw.Draw(img)
    draw.rectangle((80, 80, 1160, 1674), outline=40, width=4)
    for y in range(220, 1600, 90):
        draw.line((120, y, 1120, y), fill=120, width=2)
    draw.text((120, 120), "Public comments 2026-10 (scan)", fill=20)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


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
