"""The ranking's numbers counted in the database (app/supervision/counts.py) equal a naive
recount of the records a drill-down lists (records.collect, ranking.opinion_rows), quarter by
quarter, on a small store made by bench/supervision.py plus the cases at the edges."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from conftest import as_user, make_settings
from demostore import open_demo_store
from sqlalchemy import func, insert, select

from app.container import open_casefile
from app.drafting import facts
from app.drafting.models import (
    Draft,
    DraftVersion,
    IssuedDocument,
    IssuedDocumentFacts,
    ReviewStep,
)
from app.identity.models import User
from app.supervision import counts, ranking
from app.supervision.dashboard import dashboard
from app.supervision.ranking import opinion_rows, quarters_between
from app.supervision.records import collect
from bench import supervision as bench

TODAY = dt.date(2026, 11, 30)


def _edge_rows(cf) -> None:
    """Rows the generator does not make: a review step late in the evening (UTC) of a quarter's
    last day, which is the next quarter in China; a return; two advisers approving one opinion
    and one adviser approving another twice; commission letters naming nobody."""
    with cf.db.write() as s:
        users = dict(s.execute(select(User.username, User.id)).all())
        unit = s.scalar(select(User.unit_id).where(User.username == "clerk0"))
        docs = s.execute(select(IssuedDocument).order_by(IssuedDocument.id)).scalars().all()
        opinion = next(d for d in docs if d.unit_id == unit and d.number_code.endswith("le"))
        letter = next(d for d in docs if d.unit_id == unit and d.number_code.endswith("co"))
        sha = letter.docx_sha256  # a stored blob, as the foreign keys want
        step = {"version_sha256": sha, "step_index": 0, "step_name": "adviser-review",
                "unit_id": unit, "comment": "", "role": "adviser"}  # fmt: skip
        s.execute(insert(ReviewStep), [
            step | {"draft_id": opinion.draft_id, "version_id": opinion.approved_version_id,
                    "user_id": users["adviser1"], "decision": "approve",
                    "created_at": dt.datetime(2026, 3, 31, 20, 0)},  # 2026-04-01 in China
            step | {"draft_id": opinion.draft_id, "version_id": opinion.approved_version_id,
                    "user_id": users["adviser0"], "decision": "approve",
                    "created_at": dt.datetime(2026, 3, 31, 15, 59)},  # still 03-31 in China
            step | {"draft_id": letter.draft_id, "version_id": letter.approved_version_id,
                    "user_id": users["adviser0"], "decision": "return",
                    "created_at": dt.datetime(2026, 6, 30, 16, 0)},  # 07-01 in China
        ])  # fmt: skip
        for i, name in enumerate(("", "  ", None)):
            did = 900_000 + i
            s.execute(insert(Draft), [{"id": did, "template_version_id": letter.template_version_id,
                                       "unit_id": unit, "created_by": users["clerk0"],
                                       "title": "无名函", "status": "issued",
                                       "current_version": 1}])  # fmt: skip
            data = {} if name is None else {"lawyer_name": name}
            s.execute(insert(DraftVersion), [{"id": did, "draft_id": did, "number": 1,
                                              "data": data, "docx_sha256": sha,
                                              "created_by": users["clerk0"]}])  # fmt: skip
            s.execute(insert(IssuedDocument), [{
                "id": did, "draft_id": did, "unit_id": unit,
                "template_version_id": letter.template_version_id, "title": "无名函",
                "number": f"无名〔2026〕{i + 1}号", "number_code": "无名", "number_year": 2026,
                "number_seq": i + 1, "issue_date": dt.date(2026, 5, 5), "issued_by": users["clerk0"],
                "approved_version_id": did, "approved_sha256": sha, "docx_sha256": sha}])  # fmt: skip


def test_counts_in_sql_equal_a_naive_recount(tmp_path, db_url, monkeypatch):
    monkeypatch.setattr(bench.passwords, "_hasher", bench.passwords._hasher)  # build() sets it
    cf = open_casefile(make_settings(tmp_path, db_url))
    try:
        _recount(cf)
    finally:
        cf.close()


def _recount(cf) -> None:
    with cf.db.write() as s:
        cf.catalog.sync(s)
    bench.build(cf, n_units=4, n_docs=240, n_records=160)
    _edge_rows(cf)
    with cf.db.write() as s:  # the edge rows bypassed issuing, which fixes a document's facts
        facts.rebuild(s)
    quarters = quarters_between(dt.date(2024, 1, 1), dt.date(2026, 12, 31))
    with cf.db.write() as s:
        p = as_user(s, "inspector")
        units = {u.id for u in ranking.ranked_units(s, p)}
        services = counts.service_counts(s, units, quarters)  # twelve quarters in one go
        opinions = counts.opinion_counts(s, units, quarters)
        for i, (start, end) in enumerate(quarters):
            naive = Counter(r.unit_id for r in collect(s, units, start, end))
            assert services[i] == dict(naive), (start, end)
            assert counts.service_counts(s, units, [(start, end)])[0] == dict(naive)
            naive = Counter(row[1] for row in opinion_rows(s, units, start, end))
            assert opinions[i] == dict(naive), (start, end)
        assert sum(map(sum, (c.values() for c in services))) > 400  # the store is not empty
        # the ranking shows those numbers, and a drill-down lists as many rows
        ranked = ranking.quarter_ranking(s, p, 2026, 2, today=TODAY)
        for row in ranked.rows:
            for key in ranking.COUNTED:
                drill = ranking.drill(s, p, row.unit.code, key, 2026, 2, today=TODAY)
                assert row.raw[key].split()[0] == str(len(drill.rows)), (row.unit.code, key)
        # the dashboard's four quarters (counted together) rank as each quarter alone
        board = dashboard(s, p, 2026, 4, today=TODAY)
        alone = ranking.quarter_ranking(s, p, 2026, 3, today=TODAY)
        trend = dict(board.trend)
        assert [trend[r.unit.name][2] for r in alone.rows] == [r.score for r in alone.rows]


def test_facts_fixed_at_issue_equal_those_recomputed_from_the_records(demo_copy):
    """The demo issues every document through `drafts.issue`, which writes its facts; a
    rebuild from the review steps and the data finds the same."""
    cf = open_demo_store(demo_copy)
    try:

        def rows(s):
            return sorted(tuple(r) for r in s.execute(select(
                IssuedDocumentFacts.document_id, IssuedDocumentFacts.unit_id,
                IssuedDocumentFacts.template_version_id, IssuedDocumentFacts.issue_date,
                IssuedDocumentFacts.advisers, IssuedDocumentFacts.lawyer_named)))  # fmt: skip

        with cf.db.write() as s:
            at_issue = rows(s)
            issued = s.scalar(select(func.count()).select_from(IssuedDocument))
            assert len(at_issue) == issued > 0
            assert any(r[4] > 0 for r in at_issue) and any(r[5] for r in at_issue)
            assert facts.rebuild(s) == issued
            assert rows(s) == at_issue
    finally:
        cf.close()
