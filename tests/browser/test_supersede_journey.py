"""Journey: an issued document is corrected (更正) rather than changed: the clerk drafts the
correction from it, the chain reviews it, the clerk issues it, and the old document shows
已被替代 on its page, in the list of issued documents and in search, each linking to the other."""

from __future__ import annotations

from playwright.sync_api import expect

from . import steps

# a demo risk notice in force that no other journey touches
OLD_NUMBER = "武政法提示〔2026〕1号"
OLD_TITLE = "关于国有建设用地使用权出让合同履约监管的法律风险提示函"
CORRECTED_FACTS = "经核查，2025年以来全市出让合同中有12宗未按约定开工，涉及土地面积36公顷。"


def test_a_correction_supersedes_the_document_everywhere(open_as, shot):
    clerk = open_as("clerk")
    steps.open_nav(clerk, "已发文书")
    clerk.page.get_by_role("link", name=OLD_TITLE).click()
    clerk.page.get_by_role("button", name="起草更正文书").click()
    steps.expect_flash(clerk.page, "已根据原文书起草更正稿")
    steps.fill_fields(clerk.page, {"基本情况": CORRECTED_FACTS})
    steps.save_and_submit(clerk)
    draft = steps.draft_id(clerk.page)
    expect(clerk.page.locator("#draft-corrects")).to_contain_text(OLD_NUMBER)

    for reviewer in ("adviser", "head"):
        actor = open_as(reviewer)
        steps.open_draft(actor, draft)
        steps.approve(actor, "同意更正。")
    steps.open_draft(clerk, draft)
    new_number = steps.issue(clerk)
    assert new_number != OLD_NUMBER and new_number.startswith("武政法提示〔2026〕")
    expect(clerk.page.locator("#document-supersedes")).to_contain_text(OLD_NUMBER)
    shot(clerk, "supersede-new")

    # the old document, reached from the new one: marked, and linking to its successor
    clerk.page.locator("#document-supersedes").get_by_role("link", name=OLD_NUMBER).click()
    expect(clerk.page.locator("h1 .badge")).to_have_text("已被替代")
    expect(clerk.page.locator("#status-label")).to_have_text("已被替代")
    status = clerk.page.locator("#document-status")
    expect(status).to_contain_text(new_number)
    shot(clerk, "supersede-old")
    expect(clerk.page.get_by_role("button", name="起草更正文书")).to_have_count(0)

    steps.open_nav(clerk, "已发文书")
    row = clerk.page.locator("tbody tr").filter(has_text=OLD_NUMBER)
    expect(row.locator(".badge")).to_have_text("已被替代")
    shot(clerk, "supersede-list")

    # search learns the status from the outbox a moment after issuing
    def old_hit(hits):
        return hits.filter(has_text=OLD_NUMBER).first  # not the new one

    def marked(hits) -> bool:
        return (
            old_hit(hits).count()
            and "已被替代" in old_hit(hits).locator(".badge").all_inner_texts()
        )

    hit = old_hit(steps.search_until(clerk, OLD_NUMBER, marked))
    assert hit.locator(".badge").all_inner_texts() == ["已被替代"]
    shot(clerk, "supersede-search")
    hit.get_by_role("link", name=OLD_TITLE).click()
    clerk.page.locator("#document-status").get_by_role("link", name=new_number).click()
    expect(clerk.page.locator("dl.data")).to_contain_text(new_number)
