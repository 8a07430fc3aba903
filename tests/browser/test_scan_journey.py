"""Journey: the clerk uploads a scanned page (a photo of a signed reply, no text of its own) to a
case file; the upload answers at once with the page 待识别, the background reads it, the case
file shows 已识别 with a searchable PDF, and a phrase from the page finds it by search."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from app.ocr.simulate import encoded, scanned, typed_page

from . import steps

TITLE = "市财政局关于停车收费调整方案的复函（扫描件）"
PHRASE = "同意将收费标准调整方案提交常务会议"
LINES = ["武阳市财政局", "关于停车收费调整方案的复函", "武财函〔2026〕18号",
         f"经研究，我局{PHRASE}审议。", "2026年11月20日"]  # fmt: skip


def wait_for_recognition(actor, status, seconds: float = 240) -> str:
    """Reload the case file until its scan is no longer waiting (the outbox reads it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = status.inner_text()
        if "待识别" not in text and "识别中" not in text:
            return text
        time.sleep(2)
        actor.page.reload()
    return status.inner_text()


def test_clerk_uploads_a_scan_and_finds_it_by_a_phrase(open_as, shot):
    clerk = open_as("clerk")
    steps.new_case_file(clerk, "关于城区停车收费调整的重大行政决策", "重大行政决策", "永久")
    photo = encoded(scanned(typed_page(LINES, width=1240, height=900), seed=11), "JPEG")
    steps.upload_material(clerk, "财政局复函.jpg", photo, "image/jpeg", 题名=TITLE,
                          责任者="武阳市财政局", 日期="2026-11-20")  # fmt: skip
    steps.expect_flash(clerk.page, "正在后台识别")  # the upload answered before reading it
    status = clerk.page.locator("span.ocr")
    expect(status).to_have_count(1)
    assert wait_for_recognition(clerk, status) == "文字识别：已识别"
    expect(clerk.page.get_by_role("link", name="可检索 PDF")).to_be_visible()
    items = clerk.page.locator("section.card").filter(
        has=clerk.page.get_by_role("heading", name=re.compile("^卷内文件"))
    )
    shot(clerk, "casefile-scan-recognised", of=items)
    # the recognised text reaches the index by the outbox's next event, a moment later
    steps.search_until(clerk, PHRASE, lambda hits: TITLE in hits.locator("h3").all_inner_texts())
    assert TITLE in steps.hit_titles(clerk.page)
    shot(clerk, "search-finds-scan")
