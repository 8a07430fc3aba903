"""What every user sees: Chinese only (no internal codes), menus that offer only what the role
may do, and no request for a missing favicon."""

from __future__ import annotations

from . import steps

FORM = "/drafts/new/legality-review-opinion"
# every page of each role's menu, and the pages of one demo document, draft and case file
SCREENS = {
    "clerk": ["/", "/templates", FORM, "/documents", "/documents/1", "/drafts/1",
              "/drafts/1/history", "/casefiles", "/casefiles/1", "/contracts",
              "/search?q=老旧小区", "/matters", "/normative", "/supervision/pool"],
    "head": ["/compliance"],
    "inspector": ["/admin/audit", "/archive/checks"],
    "admin": ["/admin/audit", "/admin/templates", "/admin/users", "/admin/units"],
}  # fmt: skip
# what the administrator assigns and users type are theirs, not internal codes: login names
# (用户管理's first column, shown in the audit log too) and template ids (模板管理's first column)
ASSIGNED = "table.list tbody td:first-child"


def assigned(page) -> set[str]:
    return {t.strip() for t in page.locator(ASSIGNED).all_inner_texts()}


def test_screens_show_no_internal_codes(open_as):
    found = {}
    login_names = assigned(open_as("admin", start="/admin/users").page)
    assert {"clerk", "zr-clerk"} <= login_names, login_names
    for username, paths in SCREENS.items():
        actor = open_as(username, start="")
        for path in paths:
            response = actor.go(path)
            assert response.ok, (username, path, response.status)
            own = login_names | (assigned(actor.page) if path == "/admin/templates" else set())
            if codes := steps.visible_codes(actor.page, own):
                found[f"{username} {path}"] = codes
    assert found == {}, found


def test_menus_offer_only_what_the_role_may_do(open_as):
    inspector = open_as("inspector")
    assert "起草文书" not in steps.nav_labels(inspector.page)
    admin = open_as("admin")
    assert {"起草文书", "聘任合同", "合规检查"}.isdisjoint(steps.nav_labels(admin.page))


def test_pages_have_a_favicon(open_as):
    clerk = open_as("clerk", start="/documents")
    declared = clerk.page.evaluate(
        "() => document.querySelector('link[rel~=icon]')?.getAttribute('href') || null"
    )
    href = declared or "/favicon.ico"  # what the browser asks for when a page declares none
    if href.startswith("data:"):
        return
    assert clerk.context.request.get(clerk.url(href)).ok, href
