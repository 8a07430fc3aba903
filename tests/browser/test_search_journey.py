"""Journey: the inspector finds the demo store's legality-review opinion by its number written
with square brackets, and by words typed in traditional script, narrows by a facet and opens it."""

from __future__ import annotations

from playwright.sync_api import expect

from . import steps

OPINION_TITLE = "关于《某市城镇老旧小区改造项目管理办法（送审稿）》的合法性审查意见书"


def test_inspector_searches_by_bracket_variant_and_traditional_script(open_as, shot):
    inspector = open_as("inspector")
    steps.search_from_header(inspector, "武政法审[2026]1号")
    assert OPINION_TITLE in steps.hit_titles(inspector.page)[:1]

    steps.search_from_header(inspector, "老舊小區改造")
    titles = steps.hit_titles(inspector.page)
    assert OPINION_TITLE in titles
    assert len(titles) > 1  # the case file's materials match too: a facet is worth using
    steps.use_facet(inspector, "文书类型", "合法性审查意见书")
    assert steps.hit_titles(inspector.page) == [OPINION_TITLE]
    shot(inspector, "search-facet")

    steps.search_hits(inspector.page).get_by_role("link", name=OPINION_TITLE).click()
    expect(inspector.page.locator("h1")).to_have_text(OPINION_TITLE)
    expect(inspector.page.locator("dl.data")).to_contain_text("武政法审〔2026〕1号")
    shot(inspector, "search-opened")
