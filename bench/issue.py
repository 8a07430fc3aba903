"""Issuance cost versus bare rendering (issue 2's figure).

Prints, for the same template and data in one run: the median ms of a bare docxtpl
render+save, and the median ms of the full issuance path (allocate the number, render with
number and date, write the blob with fsync, record, outbox, audit, commit). Target: full
issuance ≤ 1.5× bare render.

With `--issuers P`, instead: P processes issue --n approved drafts each at the same time, and the
numbers must come out gapless (the suite's tests/test_numbering.py runs a short form of this; the
probe of issue 16 ran 8 × 50 on both engines).

    .venv/bin/python bench/issue.py [--n 40] [--template commission-letter] [--database-url URL]
    .venv/bin/python bench/issue.py --issuers 8 --n 50 [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from docxtpl import DocxTemplate  # noqa: E402
from jinja2.sandbox import SandboxedEnvironment  # noqa: E402

from app.access.policy import principal  # noqa: E402
from app.bootstrap import prepare  # noqa: E402
from app.config import Settings  # noqa: E402
from app.container import open_casefile  # noqa: E402
from app.drafting import drafts  # noqa: E402
from app.drafting.registry import RegistryReferences  # noqa: E402
from app.identity.models import User  # noqa: E402
from app.identity.users import add_unit, add_user  # noqa: E402
from app.templating import validate  # noqa: E402
from app.templating.render import build_context  # noqa: E402
from bench.render_pdf import cpu_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--template", default="commission-letter")
    ap.add_argument("--database-url")
    ap.add_argument("--issuers", type=int, default=0, help="concurrent issuing processes")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="casefile-bench-"))
    settings = Settings(
        archive_dir=tmp / "archive", index_dir=tmp / "index",
        database_url=args.database_url or f"sqlite:///{tmp / 'archive' / 'casefile.db'}",
        secret_key="bench" * 8, templates_dir=REPO / "doc_templates", background_workers=False,
    )  # fmt: skip
    cf = open_casefile(settings)
    prepare(cf)
    data = json.loads((REPO / "doc_templates" / args.template / "sample.json").read_text("utf-8"))
    with cf.db.write() as s:
        add_unit(s, "GOV", "武阳市人民政府", None, "武政")
        add_unit(s, "FZB", "武阳市人民政府法律顾问室", "GOV", "武政法")
        for name, roles in [("clerk", ["clerk"]), ("adviser", ["adviser"]), ("head", ["office-head"]),
                            ("signatory", ["signatory"])]:  # fmt: skip
            add_user(s, name, name, "FZB", roles, password="Bench-password-1", must_change=False)
        # the people the sample names in `user` fields (the commission letter's public lawyer)
        schema = cf.catalog.load(cf.catalog.latest_row(s, args.template)).schema
        for i, spec in enumerate(f for f in schema.fields if f.type == "user" and data.get(f.name)):
            add_user(s, f"named{i}", data[spec.name], "FZB", [spec.role or "clerk"],
                     password="Bench-password-1", must_change=False)  # fmt: skip

    def who(s, name):
        return principal(s, s.query(User).filter_by(username=name).one())

    reviewer = {
        "adviser": "adviser",
        "public-lawyer": "adviser",
        "office-head": "head",
        "signatory": "signatory",
    }
    ids = []
    drafts_needed = args.issuers * args.n if args.issuers else args.n + 3
    with cf.db.write() as s:
        for _ in range(drafts_needed):
            d = drafts.create_draft(cf, s, who(s, "clerk"), args.template, data, "FZB")
            drafts.submit(cf, s, who(s, "clerk"), d.id)
            for step in drafts.template_of(cf, s, d).schema.review_chain:
                drafts.approve(cf, s, who(s, reviewer[step.role]), d.id)
            ids.append(d.id)
    if args.issuers:
        cf.close()
        concurrent_issuance(settings, ids, args.issuers)
        return
    with cf.db.read() as s:
        tpl = drafts.template_of(cf, s, s.get(drafts.Draft, ids[0]))
        unit = drafts.unit_context(s.get(drafts.Unit, s.get(drafts.Draft, ids[0]).unit_id))

    import datetime as dt

    with cf.db.read() as s:
        refs = RegistryReferences(
            s, who(s, "clerk"), s.get(drafts.Unit, s.get(drafts.Draft, ids[0]).unit_id)
        )
        clean = validate(tpl.schema, data, refs)[0]
    ctx = build_context(tpl.schema, clean, unit, "武政法函〔2026〕1号", dt.date(2026, 11, 23))

    def bare() -> float:
        t = time.perf_counter()
        doc = DocxTemplate(io.BytesIO(tpl.docx))
        doc.render(ctx, jinja_env=SandboxedEnvironment(autoescape=True))
        doc.save(io.BytesIO())
        return (time.perf_counter() - t) * 1000

    def full(draft_id: int) -> float:
        t = time.perf_counter()
        with cf.db.write() as s:
            drafts.issue(cf, s, who(s, "clerk"), draft_id)
        return (time.perf_counter() - t) * 1000

    for _ in range(3):  # warm caches: template cache, connection pool, imports
        bare()
    for draft_id in ids[:3]:
        full(draft_id)
    bare_ms, full_ms = [], []
    for draft_id in ids[3:]:  # interleave so both see the same machine state
        bare_ms.append(bare())
        full_ms.append(full(draft_id))
    b, f = statistics.median(bare_ms), statistics.median(full_ms)
    engine = (
        "PostgreSQL"
        if settings.database_url.startswith("postgresql")
        else "SQLite (WAL, synchronous=FULL)"
    )
    print(
        f"machine: {cpu_model()}, {__import__('os').cpu_count()} cores; python {platform.python_version()}"
    )
    print(f"template: {args.template}; engine: {engine}; n={args.n}")
    print(
        f"bare docxtpl render+save    median {b:7.1f} ms   p90 {sorted(bare_ms)[int(len(bare_ms) * 0.9)]:7.1f} ms"
    )
    print(
        f"full issuance path          median {f:7.1f} ms   p90 {sorted(full_ms)[int(len(full_ms) * 0.9)]:7.1f} ms"
    )
    print(f"ratio full/bare             {f / b:.2f}x   (target ≤ 1.5x)")
    cf.close()


def _issue_many(settings, draft_ids, results) -> None:
    cf = open_casefile(settings)
    numbers = []
    for draft_id in draft_ids:
        with cf.db.write() as s:
            clerk = principal(s, s.query(User).filter_by(username="clerk").one())
            numbers.append(drafts.issue(cf, s, clerk, draft_id).number)
    cf.close()
    results.put(numbers)


def concurrent_issuance(settings, ids: list[int], processes: int) -> None:
    """`processes` issuers at once over `ids`; prints the rate and whether the numbers are
    gapless (exit status 1 if not)."""
    import multiprocessing  # lazy: only this mode starts processes
    import re  # lazy: only this mode parses numbers

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_issue_many, args=(settings, ids[i::processes], results))
             for i in range(processes)]  # fmt: skip
    t = time.perf_counter()
    for p in procs:
        p.start()
    numbers = [n for _ in procs for n in results.get(timeout=3600)]
    for p in procs:
        p.join(timeout=60)
    elapsed = time.perf_counter() - t
    seqs = sorted(int(re.search(r"〕(\d+)号$", n)[1]) for n in numbers)
    gapless = seqs == list(range(1, len(ids) + 1))
    engine = "PostgreSQL" if settings.database_url.startswith("postgresql") else "SQLite"
    print(f"machine: {cpu_model()}, {__import__('os').cpu_count()} cores; engine: {engine}")
    print(f"{processes} issuers x {len(ids) // processes}: {len(numbers)} documents in "
          f"{elapsed:.1f} s ({len(numbers) / elapsed:.1f}/s, process start-up included)")  # fmt: skip
    print(f"numbers gapless: {'yes' if gapless else 'NO'}")
    if not gapless or any(p.exitcode != 0 for p in procs):
        sys.exit(1)


if __name__ == "__main__":
    main()
