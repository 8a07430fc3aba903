"""Journey: a legality-review opinion from the clerk's first keystroke to the issued PDF,
through a return with a comment and the full review chain (adviser, office head, signatory)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from . import steps
from .steps import OPINION_BASIS, OPINION_FIRST_HALF, OPINION_SECOND_HALF

RETURN_COMMENT = "审查依据还应写明《城市绿化条例》的具体条款，请补充后重新提交。"


def test_opinion_is_drafted_returned_reviewed_issued_and_opened_as_pdf(open_as, shot):
    clerk = open_as("clerk")
    steps.start_draft(clerk, "合法性审查意见书")
    steps.fill_fields(clerk.page, OPINION_FIRST_HALF | OPINION_SECOND_HALF)
    # one mistake: the item name typed with 书名号, which the system adds itself
    steps.fill_fields(clerk.page, {"审查事项名称": "《武阳市城市绿地养护管理办法（送审稿）》"})
    steps.fill_row(clerk.page, "审查依据", 1, {"法律法规名称": OPINION_BASIS[0]})
    steps.save_and_submit(clerk, expect_refusal=True)
    expect(steps.error_summary(clerk.page)).to_contain_text("共有 1 处需要修改")
    assert "书名号" in steps.field_error(clerk.page, "审查事项名称")
    shot(clerk, "review-form-error")
    steps.fill_fields(clerk.page, {"审查事项名称": OPINION_FIRST_HALF["审查事项名称"]})
    steps.save_and_submit(clerk)
    draft = steps.draft_id(clerk.page)
    assert steps.status_label(clerk.page) == "审核中"

    adviser = open_as("adviser")
    steps.open_draft(adviser, draft)
    steps.return_with_comment(adviser, RETURN_COMMENT)

    steps.open_draft(clerk, draft)
    assert steps.status_label(clerk.page).startswith("已退回")
    assert any(RETURN_COMMENT in c for c in steps.history_comments(clerk.page))
    shot(clerk, "review-returned")
    steps.edit_draft(clerk)
    steps.fill_row(clerk.page, "审查依据", 1, {"条款": OPINION_BASIS[1]})
    steps.save_and_submit(clerk)
    assert steps.status_label(clerk.page) == "审核中"

    for reviewer in ("adviser", "head", "signatory"):
        actor = adviser if reviewer == "adviser" else open_as(reviewer)
        steps.accept_dialogs(actor)
        steps.open_draft(actor, draft)
        steps.approve(actor)

    steps.open_draft(clerk, draft)
    assert steps.status_label(clerk.page).startswith("已审核")
    steps.accept_dialogs(clerk)
    number = steps.issue(clerk)
    assert re.fullmatch(r"武政法审〔2026〕\d+号", number), number
    pdf = steps.open_pdf(clerk, steps.wait_for_pdf_link(clerk))
    assert len(pdf) > 1000
    shot(clerk, "review-issued")


@pytest.mark.xfail(strict=True, reason="needs branch forms: 保存草稿 keeps a half-filled form")
def test_half_filled_opinion_is_saved_and_completed_later(open_as):
    clerk = open_as("clerk")
    steps.start_draft(clerk, "合法性审查意见书")
    steps.fill_fields(clerk.page, OPINION_FIRST_HALF)
    steps.save_draft(clerk)
    draft = steps.draft_id(clerk.page)
    steps.edit_draft(clerk)
    expect(clerk.page.get_by_label(steps.label("送审单位"))).to_have_value(
        OPINION_FIRST_HALF["送审单位"]
    )
    steps.fill_fields(clerk.page, OPINION_SECOND_HALF)
    steps.fill_row(clerk.page, "审查依据", 1, {"法律法规名称": OPINION_BASIS[0]})
    steps.save_and_submit(clerk)
    assert steps.draft_id(clerk.page) == draft
    assert steps.status_label(clerk.page) == "审核中"


@pytest.mark.xfail(strict=True, reason="needs branch flow: 同意/归档 ask for confirmation; the "
                   "return reason is shown at the top of the draft and its edit page")  # fmt: skip
def test_irreversible_actions_ask_first_and_a_return_shows_its_reason(open_as):
    clerk = open_as("clerk")
    draft = steps.submitted_opinion(clerk)
    adviser = open_as("adviser")
    steps.open_draft(adviser, draft)
    asked: list[str] = []
    adviser.page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    adviser.page.get_by_role("button", name="同意", exact=True).click()
    adviser.page.wait_for_load_state()
    steps.open_draft(adviser, draft)  # declining the confirmation leaves the step pending
    expect(adviser.page.get_by_role("button", name="同意", exact=True)).to_be_visible(timeout=1000)
    assert asked and any("不能" in m or "无法" in m for m in asked), asked

    steps.return_with_comment(adviser, RETURN_COMMENT)
    steps.open_draft(clerk, draft)
    top = clerk.page.locator("main .notice").first
    expect(top).to_contain_text(RETURN_COMMENT)
    expect(top).to_contain_text("王律师")
    expect(top).to_contain_text("法律顾问审核")
    steps.edit_draft(clerk)
    expect(clerk.page.locator("main")).to_contain_text(RETURN_COMMENT)


@pytest.mark.xfail(
    strict=True, reason="needs branch forms: repeating rows added and removed in place"
)
def test_repeating_rows_are_added_and_removed_in_place(open_as):
    clerk = open_as("clerk")
    steps.start_draft(clerk, "合法性审查意见书")
    page = clerk.page
    rows = steps.list_field(page, "审查依据").locator(".row")
    before = rows.count()
    page.evaluate("window.__same_page = true")
    steps.list_field(page, "审查依据").get_by_role("button", name="添加一项").click()
    expect(rows).to_have_count(before + 1, timeout=2000)  # in place: no round trip
    assert page.evaluate("window.__same_page === true"), "添加一项 reloaded the page"
    steps.list_field(page, "审查依据").get_by_role("button", name="删除").last.click()
    expect(rows).to_have_count(before)
