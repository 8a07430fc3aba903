"""Journey: a matter (法律事务) of a unit without a public lawyer, from registration to closing:
the natural-resources bureau asks the level above for a lawyer (申请调配), the government's
office head picks one (选派), the lawyer accepts, drafts the commission letter from the matter
(prefilled) which goes through its chain and is issued, records progress and the feedback, and
the bureau's office head closes the matter (办结)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from . import steps

TITLE = "某置业公司诉武阳市自然资源局不动产登记"
CASE_NUMBER = "（2026）云01行初318号"
COURT = "武阳市中级人民法院"


def matter_status(actor) -> str:
    return actor.page.locator("#matter-status").inner_text()


def test_a_deployed_lawyer_handles_a_matter_from_request_to_closing(open_as, shot):
    zr_clerk = open_as("zr-clerk")
    steps.open_nav(zr_clerk, "法律事务")
    zr_clerk.page.get_by_role("link", name="登记法律事务").click()
    page = zr_clerk.page
    page.get_by_label("类别").select_option(label="行政诉讼")
    page.get_by_label("事由").fill(TITLE)
    page.get_by_label("当事人").fill("原告某置业公司")
    page.get_by_label("本单位地位").select_option(label="被告")
    page.get_by_label("案号").fill(CASE_NUMBER)
    page.get_by_label("受理法院或机构").fill(COURT)
    page.get_by_label("所需专长").fill("行政诉讼")
    page.get_by_label("送达日期").fill((dt.date.today() - dt.timedelta(days=3)).isoformat())
    shot(zr_clerk, "matter-1-new")
    page.get_by_role("button", name="登记", exact=True).click()
    steps.expect_flash(page, "法律事务已登记")
    matter = int(re.search(r"/matters/(\d+)$", page.url)[1])
    assert matter_status(zr_clerk) == "待指派"
    expect(page.locator("#matter-next")).to_contain_text("向上级单位申请调配")  # what comes next
    shot(zr_clerk, "matter-2-registered")

    # the bureau has no public lawyer: its office head asks the government for one
    zr_head = open_as("zr-head", start=f"/matters/{matter}")
    zr_head.page.get_by_label("申请理由").fill("本局暂无公职律师，请求调配。")
    shot(zr_head, "matter-3-request")
    zr_head.page.get_by_role("button", name="申请调配").click()
    steps.expect_flash(zr_head.page, "已向上级单位申请调配")
    expect(zr_head.page.locator("#request")).to_contain_text("等待上级单位选派")  # asked once
    expect(zr_head.page.get_by_role("button", name="申请调配")).to_have_count(0)
    shot(zr_head, "matter-4-requested")

    wy_head = open_as("wy-head")
    steps.open_nav(wy_head, "法律事务")
    requests = wy_head.page.locator("#deployment-requests tr").filter(has_text=TITLE)
    shot(wy_head, "matter-5-requests")
    requests.get_by_role("link", name="选派公职律师").click()
    wy_head.page.get_by_label("张明远").check()
    shot(wy_head, "matter-6-pick")
    wy_head.page.get_by_role("button", name="选派", exact=True).click()
    steps.expect_flash(wy_head.page, "已选派公职律师")
    assert matter_status(wy_head) == "已指派"

    lawyer = open_as("lawyer", start=f"/matters/{matter}")
    shot(lawyer, "matter-7-assigned")
    lawyer.page.get_by_role("button", name="接受指派").click()
    steps.expect_flash(lawyer.page, "已接受指派")
    assert matter_status(lawyer) == "承办中"
    shot(lawyer, "matter-8-handling")
    lawyer.page.get_by_role("button", name="起草委托公函").click()
    steps.expect_flash(lawyer.page, "已根据本事务起草委托公函")
    draft = steps.draft_id(lawyer.page)
    shot(lawyer, "matter-9-letter-draft")
    expect(lawyer.page.locator("#draft-matter")).to_contain_text(TITLE)  # and back
    body = lawyer.page.locator("main").inner_text()
    for prefilled in (CASE_NUMBER, COURT, "张明远", "15301202610123456"):
        assert prefilled in body, prefilled
    steps.submit_for_review(lawyer)

    for reviewer in ("head", "signatory"):
        actor = open_as(reviewer)
        steps.open_draft(actor, draft)
        steps.approve(actor)
    clerk = open_as("clerk")
    steps.open_draft(clerk, draft)
    number = steps.issue(clerk)
    assert re.fullmatch(r"武政法函〔2026〕\d+号", number), number

    lawyer.go(f"/matters/{matter}")
    expect(lawyer.page.locator("#documents")).to_contain_text(number)
    lawyer.page.locator("#matter-letter").get_by_role("link", name=number).click()
    lawyer.page.locator("#document-matters").get_by_role("link", name=TITLE).click()  # back
    lawyer.page.get_by_label(steps.label("承办记录")).fill("已调取不动产登记档案，起草答辩状。")
    lawyer.page.get_by_role("button", name="保存承办记录").click()
    steps.expect_flash(lawyer.page, "已保存承办记录")
    lawyer.page.get_by_label(steps.label("办理反馈")).fill("已按期提交答辩状并出庭应诉。")
    lawyer.page.get_by_role("button", name="提交反馈").click()
    steps.expect_flash(lawyer.page, "已提交反馈")
    assert matter_status(lawyer) == "已反馈"
    shot(lawyer, "matter-10-reported")

    zr_head.go(f"/matters/{matter}")
    zr_head.page.get_by_label("办结说明").fill("一审判决驳回原告诉讼请求。")
    zr_head.page.get_by_role("button", name="办结", exact=True).click()
    steps.expect_flash(zr_head.page, "法律事务已办结")
    assert matter_status(zr_head) == "办结"
    expect(zr_head.page.locator("#matter-letter")).to_contain_text(number)  # issued upstairs
    events = zr_head.page.locator("#events").inner_text()
    for done in (
        "登记",
        "申请调配",
        "调配",
        "接受指派",
        "起草委托公函",
        "承办记录",
        "办理反馈",
        "办结",
    ):
        assert done in events, done
    shot(zr_head, "matter-11-closed")
