"""发文字号: the format, and gapless allocation under concurrent issuance on both engines."""

import multiprocessing
import re

import pytest
from conftest import as_user
from sqlalchemy import select

from app.container import open_casefile
from app.drafting import drafts
from app.drafting.models import Draft, IssuedDocument
from app.drafting.numbering import format_number, parse_number

# the short form: four issuers at once, enough to race for every number; the probe's 8 x 50 runs
# in `bench/issue.py --issuers 8 --n 50`
PROCESSES, PER_PROCESS = 4, 8


def test_format_follows_gbt_9704():
    assert format_number("武政法审", 2026, 12) == "武政法审〔2026〕12号"
    assert parse_number("武政法审〔2026〕12号") == ("武政法审", 2026, 12)
    for bad in (
        "武政法审[2026]12号",
        "武政法审〔2026〕012号",
        "武政法审〔26〕12号",
        "武政法审〔2026〕第12号",
    ):
        assert parse_number(bad) is None
    with pytest.raises(ValueError):
        format_number("武政法审", 2026, 0)


def _approved_drafts(cf, count: int) -> list[int]:
    ids = []
    with cf.db.write() as s:
        clerk, signatory = as_user(s, "clerk"), as_user(s, "signatory")
        for i in range(count):
            d = drafts.create_draft(cf, s, clerk, "quick", {"subject": f"事项{i}"}, "FZB")
            drafts.submit(cf, s, clerk, d.id)
            drafts.approve(cf, s, signatory, d.id)
            ids.append(d.id)
    return ids


def _issue_many(settings, draft_ids, results):
    cf = open_casefile(settings)
    numbers = []
    for draft_id in draft_ids:
        with cf.db.write() as s:
            doc = drafts.issue(cf, s, as_user(s, "clerk"), draft_id)
            numbers.append(doc.number)
    cf.close()
    results.put(numbers)


@pytest.mark.slow
def test_concurrent_issuance_is_gapless(quick_cf):
    ids = _approved_drafts(quick_cf, PROCESSES * PER_PROCESS)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_issue_many, args=(quick_cf.settings, ids[i::PROCESSES], results))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    numbers = [n for _ in procs for n in results.get(timeout=600)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    seqs = sorted(int(re.match(r"武政法测〔\d{4}〕(\d+)号$", n)[1]) for n in numbers)
    assert seqs == list(range(1, PROCESSES * PER_PROCESS + 1))
    with quick_cf.db.read() as s:
        assert s.query(IssuedDocument).count() == PROCESSES * PER_PROCESS
        assert {d.status for d in s.scalars(select(Draft))} == {"issued"}


def test_failed_issuance_consumes_no_number(quick_cf, monkeypatch):
    ids = _approved_drafts(quick_cf, 2)

    def broken(*args, **kwargs):
        raise drafts.RenderError("simulated failure after the number was allocated")

    with monkeypatch.context() as m:
        m.setattr(drafts, "render_document", broken)
        with pytest.raises(drafts.WorkflowError):
            with quick_cf.db.write() as s:
                drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[0])
    with quick_cf.db.write() as s:
        doc = drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[1])
        assert doc.number.endswith("〕1号")
    with quick_cf.db.write() as s:
        assert drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[0]).number.endswith("〕2号")


def test_sequences_are_per_unit_code_and_year(quick_cf):
    import datetime as dt

    ids = _approved_drafts(quick_cf, 3)
    with quick_cf.db.write() as s:
        a = drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[0], issue_date=dt.date(2025, 12, 31))
        b = drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[1], issue_date=dt.date(2026, 1, 1))
        c = drafts.issue(quick_cf, s, as_user(s, "clerk"), ids[2], issue_date=dt.date(2026, 1, 2))
    assert (a.number, b.number, c.number) == (
        "武政法测〔2025〕1号",
        "武政法测〔2026〕1号",
        "武政法测〔2026〕2号",
    )
