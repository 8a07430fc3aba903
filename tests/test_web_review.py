"""A legality-review opinion from draft to issued in the browser: a clerk, an adviser, an office
head and a signatory, with one return for changes; the slip and the history page show it all."""

import io
import re

import pytest
from conftest import sample
from docx import Document
from webutil import csrf_from, post_form
from webutil import logged_in as _client

from app.common.docx_text import docx_text

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

TEMPLATE = "legality-review-opinion"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _form_data(data: dict) -> dict:
    """The form's field names: list rows as name.i.sub, scalars as name."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                if not isinstance(row, dict):  # a one-value list (抄送, 附件): name.i
                    flat[f"{key}.{i}"] = row
                    continue
                for sub, v in row.items():
                    flat[f"{key}.{i}.{sub}"] = v
        else:
            flat[key] = value
    return flat


def _text(page) -> str:
    return page.get_data(as_text=True)


def test_legality_review_opinion_from_draft_to_issued_with_one_return(app, cf):
    clerk, adviser = _client(app, "clerk"), _client(app, "adviser")
    head, signatory = _client(app, "head"), _client(app, "signatory")
    new = f"/drafts/new/{TEMPLATE}"

    # the clerk drafts and submits
    data = _form_data(sample(TEMPLATE)) | {"unit": "FZB", "submit_now": "1"}
    r = post_form(clerk, new, new, data)
    assert r.status_code == 302, _text(r)[:3000]
    url = r.headers["Location"]
    draft_id = url.rsplit("/", 1)[-1]
    assert "审核中" in _text(clerk.get(url))

    # the adviser sees it waiting, with where it stands and its age
    home = _text(adviser.get("/"))
    assert f'href="/drafts/{draft_id}"' in home and "待法律顾问审核" in home and "刚刚" in home
    assert "待我审核（1）" in home
    # the head is not yet asked, but sees it among the unit's pending drafts
    home = _text(head.get("/"))
    assert "待我审核（0）" in home and "本单位在办（1" in home
    r = post_form(adviser, url, url + "/approve", {"comment": "经审查，基本同意。", "confirm": "1"})
    assert r.status_code == 302

    # the office head returns it with a comment
    assert "待我审核（1）" in _text(head.get("/"))
    r = post_form(head, url, url + "/return", {"comment": "第十八条的意见请写明依据。"})
    assert r.status_code == 302
    page = _text(clerk.get(url))
    assert "已退回修改" in page and "第十八条的意见请写明依据。" in page
    # the reason is at the top of the draft and of its edit page: who, at which step (in Chinese)
    notice = page.split('id="return-notice"', 1)[1].split("</div>", 1)[0]
    assert "第十八条的意见请写明依据。" in notice and "office-check" not in notice
    assert "head（法律顾问室负责人）在“法律顾问室把关”环节" in notice, notice
    edit_page = _text(clerk.get(url + "/edit"))
    notice = edit_page.split('id="return-notice"', 1)[1].split("</div>", 1)[0]
    assert "第十八条的意见请写明依据。" in notice and "“法律顾问室把关”环节" in notice

    # the clerk edits (a new version) and resubmits in one go
    changed = sample(TEMPLATE)
    changed["content_review"] = changed["content_review"].replace(
        "缺乏法律、法规依据", "缺乏法律、法规依据（《中华人民共和国立法法》第八十条）"
    )
    r = post_form(clerk, url + "/edit", url + "/edit", _form_data(changed) | {"submit_now": "1"})
    assert r.status_code == 302, _text(r)[:3000]
    page = _text(clerk.get(url))
    assert "当前版本：第2版" in page and "审核中" in page

    # the v1 approval does not count: the adviser reviews again, with a written opinion file
    token = csrf_from(adviser, url)
    r = adviser.post(
        url + "/approve",
        data={"csrf_token": token, "comment": "修改后同意。", "confirm": "1",
              "opinion_file": (io.BytesIO(PDF), "法律意见书.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert r.status_code == 302
    assert "已审核同意" in _text(adviser.get(url))
    post_form(head, url, url + "/approve", {"comment": "同意，报请签发。", "confirm": "1"})
    post_form(signatory, url, url + "/approve", {"comment": "同意签发。", "confirm": "1"})
    assert "待发文（1）" in _text(clerk.get("/"))

    r = post_form(clerk, url, url + "/issue", {"confirm": "1"})
    assert r.status_code == 302 and "/documents/" in r.headers["Location"]
    doc_url = r.headers["Location"]
    page = _text(clerk.get(doc_url))
    number = re.search(r"武政法\S*〔\d{4}〕\d+号", page)[0]
    assert "发文稿纸（审核链）" in page and "同意签发。" in page

    # the slip: title, number, drafter, each reviewer with role, decision, comment, time, hashes
    slip = _text(clerk.get(doc_url + "/slip"))
    for expected in (
        number, "发文稿纸", "clerk", "adviser", "head", "signatory",
        "法律顾问审核", "法律顾问室把关", "领导签发", "法律顾问", "法律顾问室负责人", "签发人",
        "修改后同意。", "同意，报请签发。", "同意签发。", "退回修改", "第十八条的意见请写明依据。",
        "经审查，基本同意。", "法律意见书.pdf", "审核签批（均针对第2版）", "市住房和城乡建设局",
    ):  # fmt: skip
        assert expected in slip, expected
    docx = clerk.get(doc_url + "/slip.docx")
    assert docx.status_code == 200
    slip_text = docx_text(docx.data)
    assert number in slip_text and "第十八条的意见请写明依据。" in slip_text
    with cf.db.read() as s:
        from sqlalchemy import select

        from app.drafting.models import IssuedDocument

        doc = s.scalars(select(IssuedDocument)).one()
        assert doc.approved_sha256 in slip_text and doc.docx_sha256 in slip_text
        assert doc.approved_sha256 in slip and doc.docx_sha256 in slip

    # the history page: timeline, the change between versions, and approved → issued
    hist = _text(clerk.get(doc_url + "/history"))
    assert "保存第1版" in hist and "保存第2版" in hist and "退回修改" in hist
    assert "审核稿与发文稿之间只应有发文字号和成文日期的差别" in hist
    changed = re.findall(r'<p class="(?:changed|added|removed)">(.*?)</p>', hist)
    after = [re.sub(r"<del>.*?</del>|</?ins>", "", line) for line in changed]
    assert after[0] == number and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", after[1])
    # only the number and the date differ from the approved text: the date also in the 版记
    # (印发日期, issue 15), the line's other words unchanged
    assert len(changed) == 3 and after[2].endswith(f"{after[1]}印发"), changed
    assert re.sub(r"<ins>.*?</ins>", "", changed[2]).count("<del>") == 2  # （签发时填写）
    diff = _text(clerk.get(f"/drafts/{draft_id}/history?a=1&b=2"))
    assert "<ins>（《中华人民共和国立法法》第八十条）</ins>" in diff
    # the opinion file is downloadable by those who may read the draft, and nobody else
    step_link = re.search(r'href="(/drafts/\d+/opinions/\d+)"', hist)[1]
    got = clerk.get(step_link)
    assert got.status_code == 200 and got.data == PDF
    assert _client(app, "zr-clerk").get(step_link).status_code == 404
    dl = clerk.get(doc_url + "/download")
    assert number in "\n".join(p.text for p in Document(io.BytesIO(dl.data)).paragraphs)


def test_a_reviewer_adds_a_note_and_the_original_stays(app, cf):
    from conftest import as_user

    from app.drafting import drafts

    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        step = drafts.approve(cf, s, as_user(s, "head"), d.id, "同意")
        draft_id, step_id = d.id, step.id
    head = _client(app, "head")
    url = f"/drafts/{draft_id}"
    assert "对我签署的意见作补充或更正" in _text(head.get(url))
    r = post_form(
        head, url, url + "/note", {"supersedes": step_id, "comment": "补充：请附授权书。"}
    )
    assert r.status_code == 302
    page = _text(head.get(url))
    assert "补充：请附授权书。" in page and "同意" in page and f"第{step_id}号记录" in page
    # someone else's opinion cannot be "supplemented"
    sig = _client(app, "signatory")
    post_form(sig, url, url + "/note", {"supersedes": step_id, "comment": "改一下"})
    assert "改一下" not in _text(head.get(url))


def test_a_bad_opinion_file_is_refused_and_nothing_is_recorded(app, cf):
    from conftest import as_user

    from app.drafting import drafts

    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
        draft_id = d.id
    head = _client(app, "head")
    url = f"/drafts/{draft_id}"
    token = csrf_from(head, url)
    r = head.post(
        url + "/approve",
        data={"csrf_token": token, "comment": "同意", "confirm": "1",
              "opinion_file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "意见.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert r.status_code == 302
    page = _text(head.get(url))
    assert "只能是 PDF 或 Word" in page and "审核中" in page
    with cf.db.read() as s:
        assert [st.decision for st in drafts.steps_of(s, s.get(drafts.Draft, draft_id))] == [
            "submit"
        ]
