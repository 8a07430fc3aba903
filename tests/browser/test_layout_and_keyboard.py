"""The main pages at 390 px (no sideways scrolling), and the draft form by keyboard alone:
every control labelled, focus moving down the page in order, the error summary taking focus
and linking to each field in error."""

from __future__ import annotations

import yaml
from playwright.sync_api import expect

from . import steps
from .conftest import PHONE, REPO

FORM = "/drafts/new/legality-review-opinion"
NARROW = ["/", "/documents", "/documents/1", "/casefiles", "/casefiles/1", "/contracts",
          "/templates", FORM, "/search?q=老旧小区", "/matters", "/normative",
          "/supervision/pool"]  # fmt: skip


def required_fields(template_id: str) -> list[str]:
    """The labels of a template's required top-level fields, from its schema.yaml."""
    schema = yaml.safe_load((REPO / "doc_templates" / template_id / "schema.yaml").read_text())
    return [f["label"] for f in schema["fields"] if f.get("required")]


def test_clerk_at_390px_sees_no_sideways_scrolling(open_as, shot):
    clerk = open_as("clerk", viewport=PHONE, start="")
    wide = {}
    for path in NARROW:
        clerk.go(path)
        if (over := steps.horizontal_overflow(clerk.page)) > 0:
            wide[path] = over
    assert wide == {}, wide
    clerk.go(FORM)
    steps.fill_fields(clerk.page, steps.OPINION_FIRST_HALF)
    steps.save_and_submit(clerk, expect_refusal=True)  # the refused form must fit as well
    expect(steps.error_summary(clerk.page)).to_be_visible()
    assert steps.horizontal_overflow(clerk.page) == 0
    shot(clerk, "narrow-form-errors")


def test_draft_form_by_keyboard_alone(open_as, shot):
    clerk = open_as("clerk", start=FORM)
    page = clerk.page
    assert steps.unlabelled_controls(page) == []
    page.keyboard.press("Tab")  # into the page from the address bar
    order = steps.tab_through(page, stop_at="保存并提交审核")
    in_form = [f for f in order if f["in_form"]]
    assert in_form[0]["id"] == "addressee", in_form[:3]
    tops = [f["top"] for f in in_form]
    assert tops == sorted(tops), [(f["id"], f["top"]) for f in in_form]
    controls = [f for f in in_form if f["tag"] in {"INPUT", "SELECT", "TEXTAREA"}]
    assert all(f["label"] for f in controls), [f["id"] for f in controls if not f["label"]]

    with clerk.expecting(422):
        page.keyboard.press("Enter")  # on 保存并提交审核, with nothing filled in
        page.wait_for_load_state()
    summary = steps.error_summary(page)
    expect(summary).to_be_focused()
    # one link for each field really in error: every required field of the empty form
    missing = required_fields("legality-review-opinion")
    expect(summary.locator("h2")).to_have_text(f"共有 {len(missing)} 处需要修改")
    links = summary.get_by_role("link")
    assert [t.split("：")[0] for t in links.all_inner_texts()] == missing
    expect(page.locator("form.doc-form .field-error")).to_have_count(len(missing))
    shot(clerk, "keyboard-error-summary")

    page.keyboard.press("Tab")  # from the focused summary to its first link
    expect(links.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label(steps.label("送审单位"))).to_be_focused()
    page.keyboard.type(steps.OPINION_FIRST_HALF["送审单位"])
    # a list field's link lands in its first row
    basis = summary.get_by_role("link", name="审查依据：此项为必填项")
    for _ in range(3 * len(missing)):  # back up (past the progress box) to the 审查依据 link
        page.keyboard.press("Shift+Tab")
        if basis.evaluate("el => el === document.activeElement"):
            break
    expect(basis).to_be_focused()
    page.keyboard.press("Enter")
    first_row = steps.list_field(page, "审查依据").locator(".row").first
    expect(first_row.get_by_label(steps.label("法律法规名称"))).to_be_focused()
