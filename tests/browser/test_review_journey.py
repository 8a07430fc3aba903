"""Journey: a legality-review opinion from the clerk's first keystroke to the issued PDF: saved
half-filled, completed with one mistake corrected, returned with a comment the clerk sees at
the top, resubmitted, approved by the whole chain (each with the confirmation) and issued."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from . import steps
from .steps import OPINION_BASIS, OPINION_FIRST_HALF, OPINION_SECOND_HALF

RETURN_COMMENT = "审查依据还应写明《城市绿化条例》的具体条款，请补充后重新提交。"


def test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf(open_as, shot):
    clerk = open_as("clerk")
    steps.start_draft(clerk, "合法性审查意见书")
    # half-filled: 保存草稿 keeps it (completeness is checked at submission only)
    steps.fill_fields(clerk.page, OPINION_FIRST_HALF)
    steps.save_draft(clerk)
    draft = steps.draft_id(clerk.page)
    assert steps.status_label(clerk.page) == "草稿"
    steps.edit_draft(clerk)
    expect(clerk.page.get_by_label(steps.label("送审单位"))).to_have_value(
        OPINION_FIRST_HALF["送审单位"]
    )
    steps.fill_fields(clerk.page, OPINION_SECOND_HALF)
    # one mistake: the item name typed with 书名号, which the system adds itself
    steps.fill_fields(clerk.page, {"审查事项名称": "《武阳市城市绿地养护管理办法（送审稿）》"})
    steps.fill_row(clerk.page, "审查依据", 1, {"法律法规名称": OPINION_BASIS[0]})
    steps.save_and_submit(clerk, expect_refusal=True)
    expect(steps.error_summary(clerk.page)).to_contain_text("共有 1 处需要修改")
    assert "书名号" in steps.field_error(clerk.page, "审查事项名称")
    shot(clerk, "review-form-error")
    steps.fill_fields(clerk.page, {"审查事项名称": OPINION_FIRST_HALF["审查事项名称"]})
    steps.save_and_submit(clerk)
    assert steps.draft_id(clerk.page) == draft  # the same draft, not a second one
    assert steps.status_label(clerk.page) == "审核中"

    adviser = open_as("adviser")
    steps.open_draft(adviser, draft)
    # 同意 without the confirmation ticked does nothing: the step stays pending
    confirmation = steps.approve_confirmation(adviser.page)
    expect(confirmation).to_have_accessible_name(re.compile("不能修改或撤销"))
    adviser.page.get_by_role("button", name="同意", exact=True).click()
    assert confirmation.evaluate("el => el.validity.valueMissing")  # the browser says so
    assert re.search(rf"/drafts/{draft}$", adviser.page.url) and not steps.flash_text(adviser.page)
    steps.return_with_comment(adviser, RETURN_COMMENT)

    steps.open_draft(clerk, draft)
    assert steps.status_label(clerk.page).startswith("已退回")
    for page_name in ("draft", "edit page"):
        notice = steps.return_notice(clerk.page)
        expect(notice, page_name).to_contain_text(RETURN_COMMENT)
        expect(notice, page_name).to_contain_text("王律师")
        expect(notice, page_name).to_contain_text("法律顾问审核")
        if page_name == "draft":
            shot(clerk, "review-returned")
            steps.edit_draft(clerk)
    steps.fill_row(clerk.page, "审查依据", 1, {"条款": OPINION_BASIS[1]})
    steps.save_and_submit(clerk)
    assert steps.status_label(clerk.page) == "审核中"
    expect(steps.return_notice(clerk.page)).to_have_count(0)  # resubmitted: the notice is gone

    for reviewer in ("adviser", "head", "signatory"):
        actor = adviser if reviewer == "adviser" else open_as(reviewer)
        steps.open_draft(actor, draft)
        if reviewer == "signatory":
            steps.approve_confirmation(actor.page).check()
            chain = actor.page.locator("section.card").filter(has_text="审核流程")
            shot(actor, "review-confirm", of=chain)
        steps.approve(actor)

    steps.open_draft(clerk, draft)
    assert steps.status_label(clerk.page).startswith("已审核")
    number = steps.issue(clerk)
    assert re.fullmatch(r"武政法审〔2026〕\d+号", number), number
    pdf = steps.open_pdf(clerk, steps.wait_for_pdf_link(clerk))
    assert len(pdf) > 1000
    shot(clerk, "review-issued")


def test_repeating_rows_are_added_and_removed_in_place(open_as):
    clerk = open_as("clerk", start="/drafts/new/legality-review-opinion")
    page = clerk.page
    rows = steps.list_field(page, "审查依据").locator(".row")
    before = rows.count()
    page.evaluate("window.__same_page = true")
    steps.list_field(page, "审查依据").get_by_role("button", name="添加一项").click()
    expect(rows).to_have_count(before + 1, timeout=2000)  # in place: no round trip
    assert page.evaluate("window.__same_page === true"), "添加一项 reloaded the page"
    steps.list_field(page, "审查依据").get_by_role("button", name="删除").last.click()
    expect(rows).to_have_count(before)
