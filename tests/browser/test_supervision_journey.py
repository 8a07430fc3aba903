"""Journey: 督导考核 from the adviser pool to the half-yearly report. The justice bureau's
inspector admits a lawyer to the pool; the legal office engages them (the contract's form comes
prefilled from the pool and the office's last contract), issues the contract, and the bureau
registers its filing; the clerk logs a service; the office head assesses the adviser and the
signatory confirms; the inspector reads the dashboard and drills into a number; the clerk drafts
the half-yearly report (its figures from those records), the chain approves it, it is issued
and its PDF opened; the inspector sees the office among the units that have reported."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

from app.common.clock import today_in_china
from app.supervision.reports import REMIND_DAYS, current_period

from . import steps
from .steps import label

NAME = "周立衡"
LICENCE = "15301201810345678"
MATTER = "征收补偿方案听证前法律咨询"
OFFICE = "武阳市人民政府法律顾问室"


def _approve_and_issue(open_as, clerk, draft: int) -> str:
    for reviewer in ("head", "signatory"):
        actor = open_as(reviewer)
        steps.open_draft(actor, draft)
        steps.approve(actor)
    steps.open_draft(clerk, draft)
    return steps.issue(clerk)


def test_pool_engagement_filing_service_assessment_dashboard_and_report(
    open_as, shot, shots_dir, tmp_path
):
    today = today_in_china().isoformat()  # the server's day
    # 人才库: the inspector admits a lawyer
    inspector = open_as("inspector", start="/supervision/pool")
    page = inspector.page
    admit = page.locator("form").filter(has=page.get_by_role("button", name="纳入人才库"))
    for field, value in (("名称或者姓名", NAME), ("执业机构或者工作单位", "滇中正源律师事务所"),
                         ("律师执业证号", LICENCE), ("专业领域", "行政法、土地房产"),
                         ("联系方式", "13987654321"), ("入库日期", today),
                         ("推荐人或者推荐单位", "武阳市律师协会"), ("遴选条件", "执业五年以上，熟悉征收补偿"),
                         ("遴选决定", "经局务会议研究，同意纳入人才库")):  # fmt: skip
        admit.get_by_label(label(field)).fill(value)
    admit.get_by_label(label("类别")).select_option("律师")
    admit.get_by_role("button", name="纳入人才库").click()
    steps.expect_flash(page, f"已将“{NAME}”纳入人才库")
    entry = page.url.removeprefix(inspector.base)

    # 选聘: the office's clerk engages them; the contract form arrives prefilled
    clerk = open_as("clerk", start=entry)
    clerk.page.get_by_role("button", name="起草聘任合同").click()
    form = clerk.page.locator("form.doc-form")
    expect(form.get_by_label(label("乙方名称或者姓名"))).to_have_value(NAME)
    expect(form.get_by_label(label("乙方律师执业证号"))).to_have_value(LICENCE)
    steps.fill_fields(clerk.page, {"乙方住所或者通讯地址": "武阳市五华区人民中路18号"})
    steps.save_and_submit(clerk)
    contract = _approve_and_issue(open_as, clerk, steps.draft_id(clerk.page))

    # 备案: the bureau registers it with a filing number
    inspector.go("/supervision/filings")
    row = inspector.page.locator("tbody tr").filter(has_text=contract)
    row.get_by_label("备案号").fill("武司备〔2026〕21号")
    row.get_by_role("button", name="登记备案").click()
    steps.expect_flash(inspector.page, "已登记备案")
    expect(inspector.page.locator("tbody tr").filter(has_text=contract)).to_contain_text("已备案")

    # 服务记录: the clerk logs a consultation
    clerk.go("/supervision/records")
    record = clerk.page.locator("form").filter(has=clerk.page.get_by_role("button", name="登记"))
    steps.select_starting_with(record.get_by_label("法律顾问或者公职律师"), NAME)
    record.get_by_label("服务类型").select_option(label="法律咨询")
    record.get_by_label("服务日期").fill(today)
    record.get_by_label("事项").fill(MATTER)
    record.get_by_label("用时（小时）").fill("2.5")
    record.get_by_role("button", name="登记").click()
    steps.expect_flash(clerk.page, "服务记录已登记")
    expect(clerk.page.locator("table.list").last).to_contain_text(MATTER)

    # 考核: the office head fills in the year's assessment, the signatory confirms it
    head = open_as("head", start="/supervision/assessments")
    steps.select_starting_with(head.page.get_by_label("考核对象"), NAME)
    head.page.get_by_role("button", name="带出全年服务记录").click()
    expect(head.page.locator("main")).to_contain_text("法律咨询")
    for field, score in (("履职能力", "92"), ("服务质量", "90"), ("工作效率", "88")):
        head.page.get_by_label(re.compile("^" + field)).fill(score)
    head.page.get_by_label("考核意见").fill("咨询意见及时、准确")
    head.page.get_by_role("button", name="保存考核").click()
    steps.expect_flash(head.page, "考核已保存")
    signatory = open_as("signatory", start="/supervision/assessments")
    mine = signatory.page.locator("tbody tr").filter(has_text=NAME)
    mine.get_by_role("button", name="确认考核结果").click()
    steps.expect_flash(signatory.page, "考核结果已确认")

    # 看板: the inspector's dashboard, and the records behind the office's service count
    inspector.go("/supervision/dashboard")
    expect(inspector.page.locator("svg.chart").first).to_be_visible()
    office = inspector.page.locator("table.ranking tbody tr").filter(has_text=OFFICE)
    office.get_by_role("link", name=re.compile(r"^\d+ 次$")).click()
    expect(inspector.page.locator("h1")).to_contain_text("服务次数")
    expect(inspector.page.locator("table.list")).to_contain_text(MATTER)
    shot(inspector, "supervision-drill")

    # 工作情况报告: the home page reminds of it; drafted from the records, reviewed, issued,
    # opened as PDF
    period = current_period(today_in_china())
    if (period.due - today_in_china()).days <= REMIND_DAYS:  # the demo's last report is issued
        clerk.go("/")
        reminder = clerk.page.locator("#supervision-home .report-due")
        expect(reminder).to_contain_text(f"{period.label}法律顾问工作情况报告")
        shot(clerk, "supervision-home-reminder", of=clerk.page.locator("#supervision-home"))
        reminder.get_by_role("link", name="起草报送").click()
    else:
        clerk.go("/supervision/reports")
    card = clerk.page.locator("#report-WY-FZB")
    expect(card).to_contain_text("未报送")
    shot(clerk, "supervision-reports-clerk")
    card.get_by_role("link", name="起草本期报告").click()
    expect(clerk.page.locator("h1")).to_contain_text("法律顾问工作情况报告")
    services = steps.list_field(clerk.page, "法律服务分类统计")
    assert "法律咨询" in [i.input_value() for i in services.locator("input").all()]
    steps.fill_fields(clerk.page, {
        "主要工作开展情况": "法律顾问参与征收补偿方案论证，提供法律咨询。",
        "存在的问题": "部分单位报送审查材料时间偏紧。",
        "下一步工作打算": "督促各单位提前报送审查材料。"})  # fmt: skip
    shot(clerk, "supervision-report-form")
    steps.save_and_submit(clerk)
    number = _approve_and_issue(open_as, clerk, steps.draft_id(clerk.page))
    assert re.fullmatch(r"武政法报〔\d{4}〕\d+号", number), number
    pdf = steps.open_pdf(clerk, steps.wait_for_pdf_link(clerk))
    (tmp_path / "report.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
                          capture_output=True, check=True, text=True).stdout  # fmt: skip
    flat = re.sub(r"\s+", "", text)
    assert "法律顾问工作情况的报告" in flat and NAME in flat and "法律咨询" in flat, flat[:400]
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            str(tmp_path / "report.pdf"),
            str(shots_dir / "supervision-report-pdf"),
        ],
        check=True,
    )  # pages to look at

    inspector.go("/supervision/reports")
    listing = inspector.page.locator("#report-submissions tbody tr").filter(has_text=OFFICE)
    expect(listing).to_contain_text("已报送")
    expect(listing).to_contain_text(number)
    shot(inspector, "supervision-report-submissions")
