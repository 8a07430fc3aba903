"""Search benchmark: Whoosh backend vs SQLite FTS5 trigram, on the bench corpus.

    python -m bench.search                   # 10k and 100k documents
    python -m bench.search --sizes 10000     # smaller
    python -m bench.search --profile         # also cProfile the slowest query class

For each size it prints, per query class: recall and precision against a brute-force
substring scan of the folded text (the oracle), p50/p95 latency of the first page with
facets and snippets (cold: the decoded-postings cache emptied before each query; steady: kept
across the run's distinct queries); then build rate, index size, single-document freshness and peak
memory; and the same for SQLite FTS5 (trigram, with an instr() scan for 1–2 character
strings, which the trigram index cannot answer), with the ratio FTS5/Whoosh.
Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import os
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/search.py` too

from app.search import IndexDoc, SearchQuery, SearchScope, get_backend  # noqa: E402
from app.search.normalize import FIELD_SEP, fold  # noqa: E402
from app.search.query import parse_query  # noqa: E402
from bench.corpus import generate, make_doc  # noqa: E402

SCOPE = SearchScope(units=None, user_id=None)  # an inspector: every unit, no restricted docs
CLASSES = [
    "2-char",
    "3-5 char",
    "6+ char",
    "digits+brackets",
    "multi-term",
    "filtered",
    "traditional",
]
_TEXT_FIELDS = ("number", "title", "unit_name", "addressee", "signatory", "conclusion")


def folded_text(doc: IndexDoc) -> str:
    parts = [getattr(doc, f) for f in _TEXT_FIELDS]
    parts += ["、".join(doc.reviewers), "、".join(doc.case_files), "、".join(doc.parties), doc.body]
    return FIELD_SEP.join(fold(p) for p in parts)


@dataclass
class Q:
    cls: str
    text: str
    query: SearchQuery = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        self.query = SearchQuery(text=self.text, per_page=20)


# ----------------------------------------------------------------------------- queries


def _substr(rng: random.Random, docs: list[IndexDoc], lo: int, hi: int) -> str:
    while True:
        body = rng.choice(docs).body
        n = rng.randint(lo, hi)
        if len(body) <= n:
            continue
        i = rng.randrange(len(body) - n)
        s = body[i : i + n]
        if s.strip() == s and not any(c.isspace() or c in '"“”' for c in s):
            return s


def make_queries(docs: list[IndexDoc], per_class: int, seed: int) -> list[Q]:
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    out: list[Q] = []
    for _ in range(per_class):
        out.append(Q("2-char", f'"{_substr(rng, docs, 2, 2)}"'))
        out.append(Q("3-5 char", f'"{_substr(rng, docs, 3, 5)}"'))
        out.append(Q("6+ char", f'"{_substr(rng, docs, 6, 12)}"'))
        d = rng.choice(docs)
        kind = rng.randrange(4)
        if kind == 0:  # the number with another bracket style
            num = d.number.replace("〔", rng.choice("[【(（")).replace("〕", rng.choice("]】)）"))
            s = num[rng.randrange(0, max(1, len(num) - 6)) :]
        elif kind == 1:  # year and sequence only: 〔2023〕15号 matches 115号 too
            s = d.number[d.number.index("〔") :]
        elif kind == 2:  # full-width digits
            s = d.number[d.number.index("〔") :].translate(
                str.maketrans("0123456789", "０１２３４５６７８９")
            )
        else:  # a court case number fragment （2024）云01行初
            s = f"({d.issued_on.year})"
        out.append(Q("digits+brackets", f'"{s}"'))
        out.append(Q("multi-term", f'"{_substr(rng, docs, 2, 4)}" "{_substr(rng, docs, 2, 4)}"'))
        filt = rng.choice(
            [
                "type:"
                + rng.choice(["legality-review-opinion", "risk-notice", "commission-letter"]),
                f"year:{(y := rng.randint(2017, 2024))}-{y + 2}",
                "unit:" + rng.choice(docs).unit_code,
            ]
        )
        out.append(Q("filtered", f'"{_substr(rng, docs, 3, 4)}" {filt}'))
        for _ in range(20):
            s = _substr(rng, docs, 3, 5)
            t = s2t.convert(s)
            if t != s:
                break
        out.append(Q("traditional", f'"{t}"'))
    return out


# ----------------------------------------------------------------------------- oracle


class Oracle:
    """Brute-force answer: substring of folded text + the same filters and permissions."""

    def __init__(self, docs: list[IndexDoc]):
        self.docs = docs
        self.texts = [folded_text(d) for d in docs]

    def ids(self, q: SearchQuery, scope: SearchScope) -> set[str]:
        pq = parse_query(q.text)
        out = set()
        for d, t in zip(self.docs, self.texts, strict=True):
            if not scope.allows(d.unit_code, d.restricted_to):
                continue
            if pq.doc_types and d.doc_type not in pq.doc_types:
                continue
            if pq.units and d.unit_code not in pq.units:
                continue
            if pq.year_from and not (pq.year_from <= d.issued_on.year <= pq.year_to):
                continue
            if not all(any(term.folded in t for term in group) for group in pq.must):
                continue
            if any(term.folded in t for term in pq.must_not):
                continue
            out.add(d.doc_id)
        return out


# ----------------------------------------------------------------------------- FTS5


class Fts5:
    """SQLite FTS5 trigram over the same folded text; instr() scan below 3 characters."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE docs(id INTEGER PRIMARY KEY, doc_id TEXT, doc_type TEXT, unit TEXT,
                              year INTEGER, date TEXT, restricted INTEGER, t TEXT);
            CREATE TABLE reviewers(id INTEGER, name TEXT);
            CREATE VIRTUAL TABLE f USING fts5(t, content='docs', content_rowid='id', tokenize='trigram');
            """
        )

    def build(self, docs: list[IndexDoc], texts: list[str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?)",
                (
                    (
                        i,
                        d.doc_id,
                        d.doc_type,
                        d.unit_code,
                        d.issued_on.year,
                        d.issued_on.isoformat(),
                        int(bool(d.restricted_to)),
                        t,
                    )
                    for i, (d, t) in enumerate(zip(docs, texts, strict=True))
                ),
            )
            self.db.executemany(
                "INSERT INTO reviewers VALUES (?,?)",
                ((i, r) for i, d in enumerate(docs) for r in d.reviewers),
            )
            self.db.execute("INSERT INTO f(rowid, t) SELECT id, t FROM docs")
            self.db.execute("CREATE INDEX rv ON reviewers(id)")

    def _where(self, pq) -> tuple[str, list]:
        clauses, params = ["restricted = 0"], []
        for group in pq.must:
            ors = []
            for term in group:
                s = term.folded
                if len(s) >= 3:
                    ors.append("id IN (SELECT rowid FROM f WHERE f MATCH ?)")
                    params.append('"' + s.replace('"', '""') + '"')
                else:
                    ors.append("instr(t, ?) > 0")
                    params.append(s)
            clauses.append("(" + " OR ".join(ors) + ")")
        for term in pq.must_not:
            clauses.append("instr(t, ?) = 0")
            params.append(term.folded)
        if pq.doc_types:
            clauses.append(f"doc_type IN ({','.join('?' * len(pq.doc_types))})")
            params += sorted(pq.doc_types)
        if pq.units:
            clauses.append(f"unit IN ({','.join('?' * len(pq.units))})")
            params += sorted(pq.units)
        if pq.year_from:
            clauses.append("year BETWEEN ? AND ?")
            params += [pq.year_from, pq.year_to]
        return " AND ".join(clauses), params

    def search(self, q: SearchQuery) -> tuple[int, list, dict]:
        """First page by date, total and the four facets (like the web page)."""
        where, params = self._where(parse_query(q.text))
        db = self.db
        db.execute("DROP TABLE IF EXISTS temp.hits")
        db.execute(
            f"CREATE TEMP TABLE hits AS SELECT id, doc_id, doc_type, unit, year, date FROM docs WHERE {where}",
            params,
        )
        total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
        facets = {
            "doc_type": dict(db.execute("SELECT doc_type, count(*) FROM hits GROUP BY 1")),
            "unit": dict(db.execute("SELECT unit, count(*) FROM hits GROUP BY 1")),
            "year": dict(db.execute("SELECT year, count(*) FROM hits GROUP BY 1")),
            "reviewer": dict(
                db.execute("SELECT name, count(*) FROM reviewers JOIN hits USING (id) GROUP BY 1")
            ),
        }
        page = db.execute(
            "SELECT doc_id FROM hits ORDER BY date DESC LIMIT ?", (q.per_page,)
        ).fetchall()
        return total, page, facets

    def ids(self, q: SearchQuery) -> set[str]:
        where, params = self._where(parse_query(q.text))
        return {r[0] for r in self.db.execute(f"SELECT doc_id FROM docs WHERE {where}", params)}


# ----------------------------------------------------------------------------- helpers


def rss_mb(kind: str = "VmRSS") -> float:
    """Resident memory in MiB; kind="RssAnon" leaves out mmapped index files (page cache)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(kind + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine() -> str:
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


# ----------------------------------------------------------------------------- run


def run_size(n: int, args) -> None:
    work = Path(args.workdir) / f"n{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"\n=== {n:,} documents (seed {args.seed}) ===", flush=True)
    t = time.perf_counter()
    docs = list(generate(n, seed=args.seed))
    print(
        f"corpus generated in {time.perf_counter() - t:.1f} s; mean body {statistics.mean(len(d.body) for d in docs):.0f} chars",
        flush=True,
    )

    # -- Whoosh build
    backend = get_backend(work / "whoosh")
    t = time.perf_counter()
    backend.rebuild(docs, procs=args.procs)
    build_s = time.perf_counter() - t
    size = dir_size(work / "whoosh")
    rss0, anon0 = rss_mb(), rss_mb("RssAnon")
    t = time.perf_counter()
    backend.warm()
    warm_s = time.perf_counter() - t
    warm_rss, warm_anon = rss_mb() - rss0, rss_mb("RssAnon") - anon0
    print(
        f"whoosh rebuild: {build_s:.1f} s = {n / build_s:.0f} docs/s ({args.procs} procs); index {size / 2**20:.0f} MiB; warm-up (open + segment metadata) {warm_s * 1000:.0f} ms",
        flush=True,
    )

    # -- queries and oracle
    oracle = Oracle(docs)
    queries = make_queries(docs[: min(n, 20000)], args.queries, args.seed + n)
    truth = {}
    t = time.perf_counter()
    for q in queries:
        truth[q.text] = oracle.ids(q.query, SCOPE)
    print(f"oracle: {len(queries)} queries scanned in {time.perf_counter() - t:.1f} s", flush=True)

    rss1, anon1 = rss_mb(), rss_mb("RssAnon")  # after the oracle's own copy of the corpus
    backend.search(SearchQuery(text='"法律"'), SCOPE)  # first query pays the lazy imports
    lat: dict[str, list[float]] = {c: [] for c in CLASSES}
    steady: dict[str, list[float]] = {c: [] for c in CLASSES}
    rp: dict[str, list[tuple[float, float]]] = {c: [] for c in CLASSES}
    hitcounts: dict[str, list[int]] = {c: [] for c in CLASSES}
    # steady state: the decoded-postings cache kept across the run's (distinct) queries,
    # as in a server that has been up for a while
    for q in queries:
        t = time.perf_counter()
        backend.search(q.query, SCOPE)
        steady[q.cls].append((time.perf_counter() - t) * 1000)
    for q in queries:
        backend.clear_cache()  # cold: every posting list decoded from the index files
        t = time.perf_counter()
        res = backend.search(q.query, SCOPE)
        lat[q.cls].append((time.perf_counter() - t) * 1000)
        got = set(backend.matching_ids(q.query, SCOPE))
        want = truth[q.text]
        assert res.total == len(got), (q.text, res.total, len(got))
        inter = len(got & want)
        rp[q.cls].append((inter / len(want) if want else 1.0, inter / len(got) if got else 1.0))
        hitcounts[q.cls].append(len(want))
    searcher_rss = warm_rss + rss_mb() - rss1
    searcher_anon = warm_anon + rss_mb("RssAnon") - anon1

    # -- freshness: index() of one document until a separate reader instance finds it
    reader = get_backend(work / "whoosh")
    reader.warm()
    fresh, commit = [], []
    for k in range(args.fresh):
        doc = replace(
            make_doc(n + k, args.seed),
            doc_id=f"fresh-{k}",
            body=f"新近发文独有标记{k:04d}乙 " + docs[k].body,
        )
        q = SearchQuery(text=f'"独有标记{k:04d}乙"', facets=False)
        t = time.perf_counter()
        backend.index([doc])
        commit.append((time.perf_counter() - t) * 1000)
        while reader.search(q, SCOPE).total == 0:
            time.sleep(0.005)
        fresh.append((time.perf_counter() - t) * 1000)

    own, kids = peak_mb()
    print(f"\nWhoosh, {n:,} docs — first page (20) + facets + snippets, inspector scope")
    print(
        f"{'class':<16}{'recall':>8}{'precision':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'steady p50':>12}{'steady p95':>12}{'median hits':>13}"
    )
    all_lat, all_steady = [], []
    for c in CLASSES:
        r = min(x for x, _ in rp[c])
        p = min(y for _, y in rp[c])
        all_lat += lat[c]
        all_steady += steady[c]
        print(
            f"{c:<16}{r:>8.3f}{p:>10.3f}{pct(lat[c], 50):>9.1f}{pct(lat[c], 95):>9.1f}{max(lat[c]):>9.1f}"
            f"{pct(steady[c], 50):>12.1f}{pct(steady[c], 95):>12.1f}{int(statistics.median(hitcounts[c])):>13,}"
        )
    print(
        f"{'all':<16}{'':>8}{'':>10}{pct(all_lat, 50):>9.1f}{pct(all_lat, 95):>9.1f}{max(all_lat):>9.1f}"
        f"{pct(all_steady, 50):>12.1f}{pct(all_steady, 95):>12.1f}"
    )
    print(
        "(recall/precision: the minimum over the class's queries; p50/p95/max: cold, the"
        " decoded-postings cache emptied before each query; steady: the cache kept across"
        " the run's distinct queries, as in a running server)"
    )
    print(
        f"freshness: index() of 1 doc {pct(commit, 50):.0f} ms p50 / {max(commit):.0f} ms max; searchable by another instance after {pct(fresh, 50):.0f} ms p50 / {max(fresh):.0f} ms max"
    )
    print(
        f"memory: searcher RSS growth {searcher_rss:.0f} MiB, of which anonymous (not mmapped index pages) {searcher_anon:.0f} MiB; peak RSS this process {own:.0f} MiB (includes the corpus), build workers {kids:.0f} MiB",
        flush=True,
    )

    if args.profile:
        worst = max(CLASSES, key=lambda c: pct(lat[c], 95))
        pr = cProfile.Profile()
        pr.enable()
        for q in queries:
            if q.cls == worst:
                backend.search(q.query, SCOPE)
        pr.disable()
        print(f"\nprofile of class {worst!r}:")
        pstats.Stats(pr).sort_stats("tottime").print_stats(12)

    if args.no_fts:
        return
    # -- FTS5
    fts = Fts5(work / "fts.sqlite")
    t = time.perf_counter()
    fts.build(docs, oracle.texts)
    fts_build = time.perf_counter() - t
    fts_size = (work / "fts.sqlite").stat().st_size
    flat: dict[str, list[float]] = {c: [] for c in CLASSES}
    frp: dict[str, list[tuple[float, float]]] = {c: [] for c in CLASSES}
    for q in queries:
        t = time.perf_counter()
        fts.search(q.query)
        flat[q.cls].append((time.perf_counter() - t) * 1000)
        got, want = fts.ids(q.query), truth[q.text]
        inter = len(got & want)
        frp[q.cls].append((inter / len(want) if want else 1.0, inter / len(got) if got else 1.0))
    print(
        f"\nSQLite FTS5 trigram, {n:,} docs — build {fts_build:.1f} s = {n / fts_build:.0f} docs/s (one core); file {fts_size / 2**20:.0f} MiB"
    )
    print(
        f"{'class':<16}{'recall':>8}{'precision':>10}{'p50 ms':>9}{'p95 ms':>9}{'p50 FTS/Whoosh':>16}"
    )
    fall = []
    for c in CLASSES:
        fall += flat[c]
        ratio = pct(flat[c], 50) / pct(lat[c], 50)
        print(
            f"{c:<16}{min(x for x, _ in frp[c]):>8.3f}{min(y for _, y in frp[c]):>10.3f}{pct(flat[c], 50):>9.1f}{pct(flat[c], 95):>9.1f}{ratio:>16.2f}"
        )
    print(
        f"{'all':<16}{'':>8}{'':>10}{pct(fall, 50):>9.1f}{pct(fall, 95):>9.1f}{pct(fall, 50) / pct(all_lat, 50):>16.2f}",
        flush=True,
    )
    fts.db.close()
    backend.close()
    reader.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=40, help="queries per class")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--fresh", type=int, default=10, help="single-document freshness trials")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--no-fts", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the indexes")
    args = ap.parse_args(argv)
    tmp = None
    if args.workdir is None:
        tmp = args.workdir = tempfile.mkdtemp(prefix="casefile-bench-")
    print(f"casefile search benchmark — {datetime.date.today()} — {machine()}")
    try:
        for n in args.sizes:
            run_size(n, args)
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
