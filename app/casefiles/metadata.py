"""The metadata a case file and its items must carry to be archived (DA/T 22-2015): one rule,
read by closing (which refuses what is missing) and by the four checks (`casefile verify`),
so a case file that closes also passes the archive check."""

from __future__ import annotations

from app.casefiles.models import KINDS, RETENTION, CaseFile, CaseFileItem


def case_gaps(case: CaseFile) -> list[str]:
    """The required descriptions a case file lacks, by their Chinese names."""
    return [label for label, ok in (
        ("案卷题名", bool(case.title)), ("类别", case.kind in KINDS),
        ("保管期限", case.retention in RETENTION), ("责任人", bool(case.responsible)),
    ) if not ok]  # fmt: skip


def item_gaps(item: CaseFileItem) -> list[str]:
    """The required descriptions an item lacks (its 档号 is given at closing)."""
    return [label for label, ok in (
        ("题名", bool(item.title)), ("责任者", bool(item.responsible)),
        ("日期", item.doc_date is not None),
    ) if not ok]  # fmt: skip
