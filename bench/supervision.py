"""The inspector's dashboard and the quarterly ranking at city scale (issue 13's figure).

Generates 60 units × 3 years of records straight into the database (about 100k issued
documents with their drafts and versions, adviser review steps, one engagement contract per
unit and year with its filing, and about 50k hand-entered work records), then times
`dashboard()` (the ranking of a quarter, the trend over four quarters, coverage, expiring
contracts, overdue filings) and `quarter_ranking()` as the city's inspector reads them.
Target: p95 ≤ 300 ms.

    .venv/bin/python bench/supervision.py [--units 60] [--docs 100000] [--records 50000]
                                          [--runs 15] [--database-url URL]
                                          [--store DIR] [--profile]

`--store DIR` keeps the generated store in DIR and reuses it on the next run (migrations are
applied to it first), so that a change can be timed without generating again; `--profile`
prints cProfile's top functions of one dashboard and one ranking.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select  # noqa: E402

from app.access.policy import principal  # noqa: E402
from app.bootstrap import prepare  # noqa: E402
from app.config import Settings  # noqa: E402
from app.container import open_casefile  # noqa: E402
from app.drafting import facts  # noqa: E402
from app.drafting.models import Draft, DraftVersion, IssuedDocument, ReviewStep  # noqa: E402
from app.identity import passwords  # noqa: E402
from app.identity.models import User  # noqa: E402
from app.identity.users import add_unit, add_user  # noqa: E402
from app.supervision.dashboard import dashboard  # noqa: E402
from app.supervision.models import ContractFiling, PoolEntry, WorkRecord  # noqa: E402
from app.supervision.ranking import quarter_ranking  # noqa: E402
from app.templating.models import TemplateVersion  # noqa: E402

YEARS = (2024, 2025, 2026)
CN = "零一二三四五六七八九"
MIX = (("legality-review-opinion", 0.5), ("risk-notice", 0.2), ("commission-letter", 0.3))
BULK_TABLES = (
    "drafts",
    "draft_versions",
    "issued_documents",
    "review_steps",
    "contract_filings",
    "work_records",
    "issued_document_facts",
)
KINDS = ("meeting", "consultation", "negotiation", "petition", "training", "other")


def build(cf, n_units: int, n_docs: int, n_records: int, seed: int = 13) -> None:
    from argon2 import PasswordHasher

    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # fast setup
    rnd = random.Random(seed)
    with cf.db.write() as s:
        add_unit(s, "GOV", "武阳市人民政府", None, "武政")
        add_user(s, "inspector", "周督查", "GOV", ["inspector"], password="Bench-password-1",
                 must_change=False)  # fmt: skip
        for i in range(n_units):
            add_unit(s, f"U{i:02d}", f"武阳市第{i + 1}单位", "GOV", "单" + CN[i // 10] + CN[i % 10])
            add_user(s, f"clerk{i}", f"经办{i}", f"U{i:02d}", ["clerk"], password="Bench-password-1",
                     must_change=False)  # fmt: skip
            add_user(s, f"adviser{i}", f"顾问{i}", f"U{i:02d}", ["adviser"],
                     password="Bench-password-1", must_change=False)  # fmt: skip
    with cf.db.write() as s:
        units = {u: uid for u, uid in s.execute(select(User.username, User.unit_id))}
        users = {u: uid for u, uid in s.execute(select(User.username, User.id))}
        tv = {t: (i, sha) for t, i, sha in s.execute(
            select(TemplateVersion.template_id, TemplateVersion.id, TemplateVersion.docx_sha256))}  # fmt: skip
        inspector = users["inspector"]
        pool_ids = []
        for i in range(n_units):
            s.add(PoolEntry(keeper_unit_id=units["inspector"], name=f"律师{i}", kind="律师",
                            licence=f"{15301200000000000 + i}", firm="某律师事务所", specialties=[],
                            contact="", admitted_on=dt.date(2024, 1, 1), status="active",
                            status_reason="", proposed_by="律师协会", criteria="条件",
                            decision="通过", created_by=inspector))  # fmt: skip
        s.flush()
        pool_ids = list(s.scalars(select(PoolEntry.id)))
        docs, drafts, versions, steps, filings = [], [], [], [], []
        seqs: dict[tuple, int] = {}
        next_id = 1
        per_unit_year = max(1, n_docs // (n_units * len(YEARS)))
        for i in range(n_units):
            unit_id, clerk, adviser = units[f"clerk{i}"], users[f"clerk{i}"], users[f"adviser{i}"]
            for year in YEARS:
                plan = [("engagement-contract", None)]
                plan += [(rnd.choices([t for t, _ in MIX], [w for _, w in MIX])[0], None)
                         for _ in range(per_unit_year - 1)]  # fmt: skip
                for template, _ in plan:
                    tid, sha = tv[template]
                    day = dt.date(year, 1, 1) + dt.timedelta(days=rnd.randrange(0, 330))
                    data: dict = {}
                    if template == "engagement-contract":
                        day = dt.date(year, 1, 5) if i % 7 else dt.date(year, 3, 1)
                        data = {"adviser_name": f"律师{i}", "adviser_kind": "律师",
                                "service_type": "常年法律顾问",
                                "term": {"start": f"{year}-01-01" if i % 7 else f"{year}-03-01",
                                         "end": f"{year}-12-31"}}  # fmt: skip
                    elif template == "commission-letter":
                        data = {"lawyer_name": f"顾问{i}"}
                    code = f"单{i}{template[:2]}"
                    seqs[code, year] = seqs.get((code, year), 0) + 1
                    did = next_id
                    next_id += 1
                    drafts.append({"id": did, "template_version_id": tid, "unit_id": unit_id,
                                   "created_by": clerk, "title": f"文书{did}", "status": "issued",
                                   "current_version": 1})  # fmt: skip
                    versions.append({"id": did, "draft_id": did, "number": 1, "data": data,
                                     "docx_sha256": sha, "created_by": clerk})  # fmt: skip
                    docs.append({"id": did, "draft_id": did, "unit_id": unit_id,
                                 "template_version_id": tid, "title": f"文书{did}",
                                 "number": f"{code}〔{year}〕{seqs[code, year]}号",
                                 "number_code": code, "number_year": year,
                                 "number_seq": seqs[code, year], "issue_date": day,
                                 "issued_by": clerk, "approved_version_id": did,
                                 "approved_sha256": sha, "docx_sha256": sha})  # fmt: skip
                    if template == "legality-review-opinion":
                        steps.append({"draft_id": did, "version_id": did, "version_sha256": sha,
                                      "step_index": 0, "step_name": "adviser-review",
                                      "role": "adviser", "unit_id": unit_id, "user_id": adviser,
                                      "decision": "approve", "comment": "",
                                      "created_at": dt.datetime.combine(day, dt.time(2))})  # fmt: skip
                    if template == "engagement-contract" and i % 5:
                        late = 10 if i % 3 else 45
                        filings.append({"document_id": did, "state": "registered",
                                        "filing_number": f"备{did}", "reason": "",
                                        "filed_on": day + dt.timedelta(days=late),
                                        "decided_by": inspector})  # fmt: skip
        for table, rows in ((Draft, drafts), (DraftVersion, versions), (IssuedDocument, docs),
                            (ReviewStep, steps), (ContractFiling, filings)):  # fmt: skip
            for start in range(0, len(rows), 5000):
                s.execute(insert(table), rows[start : start + 5000])
        records = []
        for _ in range(n_records):
            i = rnd.randrange(n_units)
            records.append({"unit_id": units[f"clerk{i}"], "entry_id": pool_ids[i],
                            "kind": rnd.choice(KINDS), "matter": "服务事项",
                            "served_on": dt.date(rnd.choice(YEARS), 1, 1)
                            + dt.timedelta(days=rnd.randrange(0, 330)),
                            "hours": 2, "created_by": users[f"clerk{i}"]})  # fmt: skip
        for start in range(0, len(records), 5000):
            s.execute(insert(WorkRecord), records[start : start + 5000])
    with cf.db.write() as s:  # issuing fixes each document's facts; this load bypassed it
        facts.rebuild(s)
    print(
        f"generated: {len(docs)} issued documents, {len(steps)} review steps, "
        f"{len(filings)} filings, {len(records)} work records, {n_units} units × {len(YEARS)} years"
    )


def timed(fn, runs: int) -> tuple[float, float, float]:
    """p50 and p95 of the wall-clock time, and p50 of this process's CPU time (the machine is
    shared: the CPU time shows what a call costs when others compete for the cores)."""
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=60)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--database-url")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--store", type=Path, help="keep (and reuse) the generated store here")
    args = ap.parse_args()
    tmp = args.store or Path(tempfile.mkdtemp(prefix="casefile-bench-"))
    settings = Settings(
        archive_dir=tmp / "archive", index_dir=tmp / "index",
        database_url=args.database_url or f"sqlite:///{tmp / 'archive' / 'casefile.db'}",
        secret_key="bench" * 8, templates_dir=REPO / "doc_templates", background_workers=False,
    )  # fmt: skip
    cf = open_casefile(settings)
    prepare(cf)
    with cf.db.read() as s:  # generated before (in SQLite under --store, or in --database-url)
        reuse = args.store is not None and s.scalar(select(func.count()).select_from(User)) > 0
    if reuse:
        print(f"reusing the store in {tmp}")
    else:
        t0 = time.perf_counter()
        build(cf, args.units, args.docs, args.records)
        print(f"generation took {time.perf_counter() - t0:.1f} s")
        if cf.db.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load
            with cf.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE " + ", ".join(BULK_TABLES))
    today = dt.date(2026, 11, 30)

    def run_dashboard():
        with cf.db.write() as s:
            p = principal(s, s.scalars(select(User).where(User.username == "inspector")).one())
            dashboard(s, p, 2026, 4, today=today)

    def run_ranking():
        with cf.db.read() as s:
            p = principal(s, s.scalars(select(User).where(User.username == "inspector")).one())
            quarter_ranking(s, p, 2026, 3, today=today)

    if args.profile:
        import cProfile
        import pstats

        for name, fn in (("dashboard", run_dashboard), ("ranking", run_ranking)):
            fn()
            out = Path(tempfile.gettempdir()) / f"supervision-{name}.prof"
            cProfile.runctx("fn()", globals(), {"fn": fn}, str(out))
            pstats.Stats(str(out)).sort_stats("cumulative").print_stats(40)
    run_dashboard()  # warm caches
    for name, fn in (("dashboard", run_dashboard), ("ranking", run_ranking)):
        p50, p95, cpu = timed(fn, args.runs)
        print(
            f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms ({args.runs} runs; CPU p50 {cpu:.0f} ms)"
        )
    cf.close()


if __name__ == "__main__":
    main()
