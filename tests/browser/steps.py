"""Small steps a user takes in the browser; the journeys in test_journeys.py are sequences of
these. Each step says what the user does, in the words of the page (labels and button texts),
and checks what the user would see; keep selectors here so a changed page means one edit."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from .conftest import Actor

# a file made on request by LibreOffice (dossier PDF, transfer package) may take a while on a
# busy machine; everything else keeps the context's default timeout
CONVERSION_TIMEOUT = 180_000

# A complete 合法性审查意见书, as a clerk would type it (labels as on the form).
OPINION_FIRST_HALF = {
    "送审单位": "市住房和城乡建设局",
    "审查事项类别": "行政规范性文件",
    "审查事项名称": "武阳市城市绿地养护管理办法（送审稿）",
    "简称": "办法",
}
OPINION_SECOND_HALF = {
    "收到送审材料日期": "2026-11-18",
    "制定主体审查": "市住房和城乡建设局是本市城市绿化主管部门，制定主体适格。",
    "权限审查": "未超越法定职权，未设定行政许可、行政处罚、行政强制和收费事项。",
    "内容审查": "送审稿与《城市绿化条例》等上位法规定一致，未减损公民、法人和其他组织合法权益。",
    "程序审查": "已公开征求意见并组织专家论证，程序符合规定。",
    "形式审查": "名称、体例和文字表述规范，施行日期明确。",
    "审查结论": "合法，可以提交审议",
}
OPINION_BASIS = ("城市绿化条例", "第十条")


def label(text: str) -> re.Pattern:
    """A field's label as shown: the text, then the required-field star if any."""
    return re.compile("^" + re.escape(text) + r"\s*\*?$")


# --- signing in and moving around ------------------------------------------------------------


def login(actor: Actor, username: str, password: str) -> None:
    page = actor.page
    actor.go("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header .who")).to_be_visible()


def open_nav(actor: Actor, label: str) -> None:
    actor.page.locator("header nav").get_by_role("link", name=label, exact=True).click()
    actor.page.wait_for_load_state()


def flash_text(page: Page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def expect_flash(page: Page, text: str, timeout: float | None = None) -> None:
    """The page (already loaded) shows a message with this text."""
    expect(page.locator(".flash").filter(has_text=text).first).to_be_visible(timeout=timeout)


# --- drafting ------------------------------------------------------------------------------


def start_draft(actor: Actor, template_title: str) -> None:
    """起草文书 → the template's card → 填写."""
    open_nav(actor, "起草文书")
    card = actor.page.locator("section.card").filter(
        has=actor.page.get_by_role("heading", name=template_title, exact=True)
    )
    card.get_by_role("link", name="填写").click()
    expect(actor.page.locator("h1")).to_contain_text(template_title)


def fill_fields(page: Page, values: dict[str, str]) -> None:
    """Fill top-level fields by their label: a select gets its option, others are typed."""
    for name, value in values.items():
        control = page.locator("form.doc-form").get_by_label(label(name))
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)


def select_starting_with(control, text: str) -> None:
    """Choose the option whose text starts with `text` (e.g. 定期30年 for 定期30年（D30）)."""
    options = control.locator("option").all_inner_texts()
    control.select_option(label=next(o for o in options if o.startswith(text)))


def fill_row(page: Page, list_label: str, row: int, values: dict[str, str]) -> None:
    """Fill row `row` (1-based) of a repeating field (审查依据, 修改建议, ...)."""
    rows = list_field(page, list_label).locator(".row")
    target = rows.nth(row - 1)
    for name, value in values.items():
        target.get_by_label(label(name)).fill(value)


def list_field(page: Page, list_label: str):
    return (
        page.locator("form.doc-form .field")
        .filter(has=page.locator("label", has_text=re.compile("^" + re.escape(list_label))))
        .first
    )


def save_draft(actor: Actor, expect_refusal: bool = False) -> None:
    _press_form_button(actor, "保存草稿", expect_refusal)


def save_and_submit(actor: Actor, expect_refusal: bool = False) -> None:
    _press_form_button(actor, "保存并提交审核", expect_refusal)


def _press_form_button(actor: Actor, name: str, expect_refusal: bool) -> None:
    page = actor.page
    if expect_refusal:
        with actor.expecting(422):
            page.get_by_role("button", name=name, exact=True).click()
            page.wait_for_load_state()
            expect(page.locator("form.doc-form")).to_be_visible()
    else:
        page.get_by_role("button", name=name, exact=True).click()
        page.wait_for_load_state()
        saved = re.search(r"/drafts/\d+$", page.url)
        assert saved, (
            f"{name} was refused: {flash_text(page)} {page.locator('.field-error').all_inner_texts()}"
        )


def error_summary(page: Page):
    """The summary at the top of a refused form ("共有 N 处需要修改")."""
    return page.locator("[role=alert]").filter(has_text="处需要修改")


def field_error(page: Page, label: str) -> str:
    """The red message under a field, found by the field's label."""
    box = (
        page.locator("form.doc-form .field")
        .filter(has=page.locator("label", has_text=re.compile("^" + re.escape(label))))
        .first
    )
    return box.locator(".field-error").first.inner_text()


def draft_id(page: Page) -> int:
    match = re.search(r"/drafts/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def open_draft(actor: Actor, draft: int) -> None:
    actor.go(f"/drafts/{draft}")
    expect(actor.page.locator(".status").first).to_be_visible()


def status_label(page: Page) -> str:
    return page.locator("h1 + p .status").inner_text()


def submit_for_review(actor: Actor, comment: str = "") -> None:
    page = actor.page
    if comment:
        page.get_by_label("提交说明（可选）").fill(comment)
    page.get_by_role("button", name="提交审核", exact=True).click()
    expect_flash(page, "已提交审核")


def edit_draft(actor: Actor) -> None:
    actor.page.get_by_role("link", name="修改", exact=True).click()
    expect(actor.page.locator("h1")).to_contain_text("修改草稿")


# --- reviewing -----------------------------------------------------------------------------


def return_notice(page: Page):
    """The box at the top of a returned draft (and of its edit page): who, at which step, why."""
    return page.locator("#return-notice")


def return_with_comment(actor: Actor, comment: str) -> None:
    """退回修改 needs no confirmation (the draft comes back to the clerk), only the comment."""
    page = actor.page
    page.get_by_label("审核意见（退回时必填）").fill(comment)
    page.get_by_role("button", name="退回修改", exact=True).click()
    expect_flash(page, "已退回起草人修改")


def approve_confirmation(page: Page):
    """The checkbox 同意 requires: it says the signed approval cannot be changed or undone."""
    return page.get_by_role("checkbox", name=re.compile("确认同意"))


def approve(actor: Actor, comment: str = "同意。") -> None:
    """同意, with the confirmation ticked (the button does nothing until it is)."""
    page = actor.page
    page.get_by_label("审核意见（退回时必填）").fill(comment)
    approve_confirmation(page).check()
    page.get_by_role("button", name="同意", exact=True).click()
    expect_flash(page, "已审核同意")


def issue(actor: Actor) -> str:
    """发文, with its confirmation ticked: lands on the document page; returns the number."""
    page = actor.page
    confirmation = page.get_by_role("checkbox", name=re.compile("确认发文"))
    expect(confirmation).to_have_accessible_name(re.compile("不能修改、撤销或删除"))
    confirmation.check()
    page.get_by_role("button", name="发文", exact=True).click()
    expect_flash(page, "已发文")
    return page.locator("dl.data dt:text-is('发文字号') + dd").inner_text().strip()


def history_comments(page: Page) -> list[str]:
    """The 意见 column of 办理记录."""
    rows = page.locator("section.card").filter(has_text="办理记录").locator("tbody tr")
    return [r.locator("td").nth(4).inner_text() for r in rows.all()]


# --- documents -------------------------------------------------------------------------------


def wait_for_pdf_link(actor: Actor, seconds: float = 180) -> str:
    """The document page offers 查看 PDF once the rendition is made (background worker)."""
    page = actor.page
    deadline = time.monotonic() + seconds
    link = page.get_by_role("link", name=re.compile("^查看 PDF"))
    while not link.count():
        assert time.monotonic() < deadline, f"no PDF rendition after {seconds} s"
        time.sleep(0.5)
        page.reload()
    return link.get_attribute("href")


def open_pdf(actor: Actor, href: str) -> bytes:
    """Open a PDF link the way the browser would (with the user's cookies); checks it is one."""
    response = actor.context.request.get(actor.url(href), timeout=CONVERSION_TIMEOUT)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("application/pdf")
    body = response.body()
    assert body.startswith(b"%PDF-"), body[:20]
    return body


# --- search --------------------------------------------------------------------------------


def search_from_header(actor: Actor, query: str) -> None:
    page = actor.page
    box = page.get_by_role("search").get_by_label("检索")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))


def search_hits(page: Page):
    return page.locator("article.hit")


def search_until(actor: Actor, query: str, found, seconds: float = 90):
    """Search from the header until `found(hits)` is true: the index follows the outbox a moment
    after a write (issuing, a status, a scan read). Returns the last hits' locator."""
    deadline = time.monotonic() + seconds
    while True:
        search_from_header(actor, query)
        hits = search_hits(actor.page)
        if found(hits) or time.monotonic() > deadline:
            return hits
        time.sleep(1)


def hit_titles(page: Page) -> list[str]:
    return search_hits(page).locator("h3").all_inner_texts()


def use_facet(actor: Actor, heading: str, value: str) -> None:
    page = actor.page
    facets = page.locator("aside.facets")
    group = facets.locator("h3", has_text=heading).locator("xpath=following-sibling::ul[1]")
    group.get_by_role("link", name=value).click()
    page.wait_for_load_state()
    expect(page.locator(".chips")).to_contain_text(value)


# --- case files ----------------------------------------------------------------------------


def new_case_file(actor: Actor, title: str, kind: str, retention: str) -> int:
    page = actor.page
    open_nav(actor, "案卷")
    page.get_by_role("link", name="新建案卷").click()
    page.get_by_label("案卷题名").fill(title)
    page.get_by_label("类别").select_option(label=kind)
    select_starting_with(page.get_by_label("保管期限"), retention)
    page.get_by_role("button", name="建立案卷").click()
    expect_flash(page, "案卷已建立")
    return int(re.search(r"/casefiles/(\d+)", page.url).group(1))


def file_document(
    actor: Actor, typed: str, pick: str | None = None, on_list: Callable[[], object] | None = None
) -> None:
    """归入已发文书: type a number (any bracket style) or words of a title; with `pick`, choose
    that number from the list the picker shows as one types (`on_list` is called while it is
    shown), else submit what was typed."""
    page = actor.page
    field = page.get_by_label("发文字号、标题或文书编号")
    field.fill(typed)
    if pick is not None:
        option = page.locator(f"#document-picker button.picker-option[data-number='{pick}']")
        expect(option).to_be_visible()  # listed as one types
        if on_list:
            on_list()
        field.press("ArrowDown")  # into the list, then choose by keyboard
        expect(option).to_be_focused()
        option.press("Enter")
        expect(field).to_have_value(pick)
    page.get_by_role("button", name="归入", exact=True).click()
    page.wait_for_load_state()


def upload_material(actor: Actor, name: str, data: bytes, mime: str, **fields: str) -> None:
    """上传材料: fields by label (题名, 责任者, 日期, 文号, 材料类别)."""
    page = actor.page
    form = page.locator("form").filter(has=page.get_by_role("button", name="上传"))
    form.get_by_label("文件").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    for name, value in fields.items():
        control = form.get_by_label(label(name))
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)
    form.get_by_role("button", name="上传").click()
    expect_flash(page, "已上传")


def case_items(page: Page) -> list[str]:
    """题名 of every item in 卷内文件."""
    rows = page.locator("section.card").filter(has_text="卷内文件").locator("tbody tr")
    return [r.locator("td").nth(4).inner_text() for r in rows.all()]


def case_numbers(page: Page) -> list[str]:
    """文号 of every item in 卷内文件."""
    rows = page.locator("section.card").filter(has_text="卷内文件").locator("tbody tr")
    return [r.locator("td").nth(2).inner_text() for r in rows.all()]


def close_case_file(actor: Actor) -> None:
    """归档, with its confirmation ticked (it says the case file cannot be changed after)."""
    page = actor.page
    confirmation = page.get_by_role("checkbox", name=re.compile("确认归档"))
    expect(confirmation).to_have_accessible_name(re.compile("不可撤销"))
    confirmation.check()
    page.get_by_role("button", name=re.compile("^归档")).click()
    expect_flash(page, "案卷已归档")


def download_dossier(actor: Actor) -> bytes:
    """案卷 PDF: the whole case file as one PDF."""
    href = actor.page.get_by_role("link", name="案卷 PDF").get_attribute("href")
    assert href.endswith("/dossier.pdf"), href
    return open_pdf(actor, href)


def download_package(actor: Actor) -> zipfile.ZipFile:
    """移交包（ZIP）: the transfer package, checked to be a ZIP the archive can open."""
    href = actor.page.get_by_role("link", name="移交包（ZIP）").get_attribute("href")
    response = actor.context.request.get(actor.url(href), timeout=CONVERSION_TIMEOUT)
    assert response.ok, response.status
    package = zipfile.ZipFile(io.BytesIO(response.body()))
    assert package.testzip() is None
    return package


# --- administration ------------------------------------------------------------------------


def upload_template(
    actor: Actor, template_id: str, docx: bytes, schema: bytes, sample: bytes | None = None
) -> None:
    """模板 → 上传模板或新版本 → 检查并上传. A refused upload answers 422 with the report on
    the same page."""
    page = actor.page
    form = page.locator("form").filter(has=page.get_by_role("button", name="检查并上传"))
    form.get_by_label(re.compile("^模板编号")).fill(template_id)
    form.get_by_label("模板文件（.docx）").set_input_files(
        {"name": "template.docx", "mimeType": "application/octet-stream", "buffer": docx}
    )
    form.get_by_label("字段定义（schema.yaml）").set_input_files(
        {"name": "schema.yaml", "mimeType": "application/x-yaml", "buffer": schema}
    )
    if sample is not None:
        form.get_by_label(re.compile("^示例数据")).set_input_files(
            {"name": "sample.json", "mimeType": "application/json", "buffer": sample}
        )
    with actor.expecting(422):
        form.get_by_role("button", name="检查并上传").click()
        page.wait_for_load_state()


def template_report(page: Page) -> list[str]:
    """The problems of a refused upload, one item each."""
    return page.locator("#template-problems li").all_inner_texts()


# --- layout and keyboard -------------------------------------------------------------------


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls a screen reader cannot name (no <label>, no aria-label)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )


def tab_through(page: Page, stop_at: str, limit: int = 200) -> list[dict]:
    """Press Tab until the focused element's text or name matches `stop_at`; returns each
    focused element's tag, id/name, visible label and position."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const el = document.activeElement; const r = el.getBoundingClientRect();
                return {tag: el.tagName, id: el.id || el.name || '',
                in_form: !!el.closest('form.doc-form'), text: (el.innerText ||
                el.value || '').trim().slice(0, 30), top: r.top + window.scrollY, left: r.left,
                label: el.labels && el.labels.length ? el.labels[0].innerText.trim() :
                (el.getAttribute('aria-label') || '')}; }"""
        )
        seen.append(info)
        if stop_at in (info["text"], info["id"]):
            return seen
    raise AssertionError(f"Tab never reached {stop_at!r}; last: {seen[-5:]}")


def submitted_opinion(actor: Actor) -> int:
    """A complete opinion saved and submitted in one go; returns the draft's id."""
    start_draft(actor, "合法性审查意见书")
    fill_fields(actor.page, OPINION_FIRST_HALF | OPINION_SECOND_HALF)
    fill_row(actor.page, "审查依据", 1, {"法律法规名称": OPINION_BASIS[0]})
    save_and_submit(actor)
    return draft_id(actor.page)


def visible_codes(page: Page, own: Iterable[str] = ()) -> list[str]:
    """Internal codes showing through on the page: lowercase words joined by - _ or .
    (adviser-review, document.read, year_from), leaving out file names a user is asked for
    (schema.yaml); uppercase codes (档号 Y-WY-FZB-0001, unit codes) are the user's own. So are
    the identifiers an administrator assigns and users type (login names, template ids): `own`."""
    text = page.locator("main").inner_text() + " " + page.locator("header").inner_text()
    found = re.findall(r"\b[a-z]+(?:[-_.][a-z0-9]+)+\b", text)  # codes are lowercase
    files = re.compile(r".*\.(docx|yaml|yml|json|pdf|zip|md|ofd|png|jpg)$", re.I)
    found += re.findall(r"casefile [a-z]+", text)  # a command to run, shown to a clerk
    return sorted({w for w in found if not files.match(w) and w not in set(own)})


def nav_labels(page: Page) -> list[str]:
    return page.locator("header nav a").all_inner_texts()
