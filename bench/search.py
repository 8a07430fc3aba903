"""Search benchmark: the casefile engine (Whoosh backend) against SQLite FTS5 and Tantivy, on
the bench corpus.

    python -m bench.search                   # 10k and 100k documents
    python -m bench.search --docs 1000000    # one size; the corpus is made in chunks
    python -m bench.search --profile         # also cProfile the slowest class of each path
    python -m bench.search --workdir DIR --keep        # keep the indexes, then:
    python -m bench.search --workdir DIR --reuse       # measure again without rebuilding
    python -m bench.search --workdir DIR --reuse --rebuild-casefile   # a changed engine

For each size it prints, per query class: recall and precision against a brute-force
substring scan of the folded text (the oracle), p50/p95 latency of two requests:
- the web page's: the first page of 20 by relevance, with the four facets and snippets;
- the issue's comparison (issue 17): the first page of 20 by date, with the four facets, no
  snippets; cold (the decoded-postings cache emptied before each query) and steady (kept
  across the run's distinct queries);
then build rate, index size, single-document freshness and memory; and the same for SQLite
FTS5 (trigram, with an instr() scan for 1–2 character strings, which the trigram index cannot
answer) and Tantivy (if installed: `pip install -e '.[bench]'`), each checked against the
oracle for every query.

The corpus is generated in chunks of --chunk documents (deterministic per seed): the engines
are built from a generator and the oracle scans chunk by chunk, so a million documents never
sit in memory at once. Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
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
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/search.py` too

from app.search import IndexDoc, SearchQuery, SearchScope, get_backend  # noqa: E402
from app.search.normalize import FIELD_SEP, fold  # noqa: E402
from app.search.query import parse_query  # noqa: E402
from bench import tantivy_ref  # noqa: E402
from bench.corpus import generate, make_doc  # noqa: E402
from bench.fts5_ref import Fts5  # noqa: E402

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
QUERY_POOL = 20_000  # queries are cut from the first documents of the corpus
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
    by_date: SearchQuery = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        self.query = SearchQuery(text=self.text, per_page=20)  # the web page's request
        self.by_date = SearchQuery(text=self.text, per_page=20, sort="date", snippets=False)


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
    """*per_class* distinct queries of each class (a repeated text would be timed twice, warm
    the second time, and the oracle, which answers per text, would count its hits twice)."""
    out: list[Q] = []
    seen: set[str] = set()
    for drawn, q in enumerate(_draw_queries(docs, seed)):
        if drawn > 1000 * per_class * len(CLASSES):
            sys.exit(
                f"the corpus's first documents do not give {per_class} distinct queries a class"
            )
        if q.text not in seen and sum(o.cls == q.cls for o in out) < per_class:
            seen.add(q.text)
            out.append(q)
        if len(out) == per_class * len(CLASSES):
            return out
    raise AssertionError("unreachable: the stream is endless")


def _draw_queries(docs: list[IndexDoc], seed: int):
    """An endless stream of queries, one of each class per round, in CLASSES order."""
    import opencc  # lazy: only the bench's query generation needs the converter

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    while True:
        out: list[Q] = []
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
        yield from out


# ----------------------------------------------------------------------------- oracle


class Oracle:
    """Brute-force answer: substring of folded text + the same filters and permissions, fed
    the corpus chunk by chunk."""

    def __init__(self, queries: list[Q]):
        self.parsed = [(text, parse_query(text)) for text in dict.fromkeys(q.text for q in queries)]
        # corpus numbers of the matching documents, 4 bytes each: at a million documents the
        # answers hold tens of millions of them
        self.found: dict[str, array] = {text: array("i") for text, _ in self.parsed}

    @property
    def truth(self) -> dict[str, np.ndarray]:
        return {text: np.frombuffer(a, dtype=np.int32) for text, a in self.found.items()}

    def add(self, nums, docs: list[IndexDoc], texts: list[str]) -> None:
        rows = [(i, d, t) for i, d, t in zip(nums, docs, texts, strict=True)
                if SCOPE.allows(d.unit_code, d.restricted_to)]  # fmt: skip
        for text, pq in self.parsed:
            out = self.found[text]
            for i, d, t in rows:
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
                out.append(i)


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


def doc_num(doc_id: str) -> int:
    """The corpus number in a bench document's id (D7-0001234)."""
    return int(doc_id.rsplit("-", 1)[1])


def recall_precision(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    got = np.unique(got)
    inter = len(np.intersect1d(got, want, assume_unique=True))
    return (inter / len(want) if len(want) else 1.0, inter / len(got) if len(got) else 1.0)


def by_class(queries: list[Q], values: list) -> dict[str, list]:
    out: dict[str, list] = {c: [] for c in CLASSES}
    for q, v in zip(queries, values, strict=True):
        out[q.cls].append(v)
    return out


def timed(fn, queries: list[Q], before=None) -> list[float]:
    out = []
    for q in queries:
        if before is not None:
            before()
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def profile(label: str, fn, queries: list[Q], lat: list[float], before=None) -> None:
    """cProfile of the class with the worst p95 on this path."""
    per = by_class(queries, lat)
    worst = max(CLASSES, key=lambda c: pct(per[c], 95))
    pr = cProfile.Profile()
    for q in queries:
        if q.cls == worst:
            if before is not None:
                before()
            pr.enable()
            fn(q)
            pr.disable()
    print(f"\nprofile of {label}, class {worst!r} (cold):")
    pstats.Stats(pr).sort_stats("tottime").print_stats(14)


def rebuild_casefile(n: int, args, work: Path) -> float:
    """Build the casefile index of the corpus afresh in work/whoosh; the seconds it took."""
    shutil.rmtree(work / "whoosh", ignore_errors=True)
    backend = get_backend(work / "whoosh")
    t = time.perf_counter()
    backend.rebuild(generate(n, seed=args.seed), procs=args.procs)
    spent = time.perf_counter() - t
    backend.close()
    print(f"whoosh rebuild: {spent:.1f} s", flush=True)
    return spent


def build(n: int, args, work: Path, queries: list[Q]) -> dict:
    """Build every engine from one pass over the corpus (Whoosh from its own generator), and
    the oracle's answers; with --reuse, what a previous run kept in `work`."""
    marker = work / "built.json"
    key = {"n": n, "seed": args.seed, "queries": [q.text for q in queries]}
    if args.reuse and marker.exists():
        built = json.loads(marker.read_text("utf-8"))
        if built["key"] == key:
            print("reusing the indexes and the oracle's answers in", work, flush=True)
            if args.rebuild_casefile:  # a changed engine against the kept references
                built["whoosh_build_s"] = rebuild_casefile(n, args, work)
                marker.write_text(json.dumps(built, ensure_ascii=False), "utf-8")
            with np.load(work / "truth.npz") as saved:
                built["truth"] = {q.text: saved[str(i)] for i, q in enumerate(queries)}
            return built
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    stats: dict = {"key": key, "whoosh_build_s": rebuild_casefile(n, args, work)}

    oracle = Oracle(queries)
    fts = None if args.no_fts else Fts5(work / "fts.sqlite")
    tan = None
    if not args.no_tantivy and tantivy_ref.available():
        tan = tantivy_ref.TantivyRef(work / "tantivy", threads=args.procs)
    spent = {"oracle": 0.0, "fts": 0.0, "tantivy": 0.0, "corpus": 0.0}
    for start in range(0, n, args.chunk):
        t = time.perf_counter()
        docs = list(generate(min(args.chunk, n - start), seed=args.seed, start=start))
        texts = [folded_text(d) for d in docs]
        nums = range(start, start + len(docs))
        spent["corpus"] += time.perf_counter() - t
        for name, engine in (("oracle", oracle), ("fts", fts), ("tantivy", tan)):
            if engine is not None:
                t = time.perf_counter()
                engine.add(nums, docs, texts)
                spent[name] += time.perf_counter() - t
        print(f"  corpus pass: {start + len(docs):,} / {n:,}", flush=True)
    if fts is not None:
        t = time.perf_counter()
        fts.finish()
        fts.db.close()
        spent["fts"] += time.perf_counter() - t
    if tan is not None:
        t = time.perf_counter()
        tan.commit()
        spent["tantivy"] += time.perf_counter() - t
    print(
        f"corpus generated and folded in {spent['corpus']:.1f} s; oracle scanned "
        f"{len(queries)} queries in {spent['oracle']:.1f} s",
        flush=True,
    )
    stats |= {"fts_build_s": spent["fts"] if fts else None,
              "tantivy_build_s": spent["tantivy"] if tan else None}  # fmt: skip
    truth = oracle.truth
    if args.keep:
        np.savez(work / "truth.npz", **{str(i): truth[q.text] for i, q in enumerate(queries)})
        marker.write_text(json.dumps(stats, ensure_ascii=False), "utf-8")
    stats["truth"] = truth
    return stats


def run_size(n: int, args) -> None:
    work = Path(args.workdir) / f"n{n}"
    print(f"\n=== {n:,} documents (seed {args.seed}, chunks of {args.chunk:,}) ===", flush=True)
    first = list(generate(min(n, QUERY_POOL), seed=args.seed))
    print(f"mean body {statistics.mean(len(d.body) for d in first):.0f} chars", flush=True)
    queries = make_queries(first, args.queries, args.seed + n)
    built = build(n, args, work, queries)
    truth = built["truth"]

    leftover = get_backend(work / "whoosh")  # a run stopped during the freshness probe
    drop_fresh(leftover, max(args.fresh, 20))
    leftover.close()  # its own instance, so the warm-up below is measured cold
    backend = get_backend(work / "whoosh")
    size = dir_size(work / "whoosh")
    rss0, anon0 = rss_mb(), rss_mb("RssAnon")
    t = time.perf_counter()
    backend.warm()
    warm_s = time.perf_counter() - t
    warm_rss, warm_anon = rss_mb() - rss0, rss_mb("RssAnon") - anon0
    build_s = built["whoosh_build_s"]
    print(
        f"whoosh rebuild: {build_s:.1f} s = {n / build_s:.0f} docs/s ({args.procs} procs); "
        f"index {size / 2**20:.0f} MiB; warm-up (open + segment metadata) {warm_s * 1000:.0f} ms",
        flush=True,
    )
    rss1, anon1 = rss_mb(), rss_mb("RssAnon")
    backend.search(SearchQuery(text='"法律"'), SCOPE)  # the first query pays the lazy imports

    # -- the web page's request (relevance, snippets); steady first, then cold + exactness
    steady = timed(lambda q: backend.search(q.query, SCOPE), queries)
    lat, rp, hits = [], [], []
    for q in queries:
        backend.clear_cache()
        t = time.perf_counter()
        res = backend.search(q.query, SCOPE)
        lat.append((time.perf_counter() - t) * 1000)
        ids = backend.matching_ids(q.query, SCOPE)
        got = np.fromiter(map(doc_num, ids), dtype=np.int32, count=len(ids))
        want = truth[q.text]
        assert res.total == len(got), (q.text, res.total, len(got))
        rp.append(recall_precision(got, want))
        assert rp[-1] == (1.0, 1.0), (q.text, rp[-1])  # exact, or the figures mean nothing
        hits.append(len(want))
    # -- the comparison: by date, no snippets
    # Tantivy is timed query by query beside it, so both see the same load on a shared machine
    tan = None
    if not args.no_tantivy and built.get("tantivy_build_s") is not None:
        tan = open_tantivy(work)
    d_steady = timed(lambda q: backend.search(q.by_date, SCOPE), queries)
    d_lat, t_lat = [], [] if tan else None
    for q in queries:
        backend.clear_cache()
        t = time.perf_counter()
        backend.search(q.by_date, SCOPE)
        d_lat.append((time.perf_counter() - t) * 1000)
        if tan is not None:
            t = time.perf_counter()
            tan.search(q.by_date)
            t_lat.append((time.perf_counter() - t) * 1000)
    for q in queries:
        assert backend.search(q.by_date, SCOPE).total == len(truth[q.text]), q.text
    searcher_rss = warm_rss + rss_mb() - rss1
    searcher_anon = warm_anon + rss_mb("RssAnon") - anon1

    fresh, commit = freshness(backend, work, n, first, args)
    own, kids = peak_mb()
    print(
        f"\nWhoosh, {n:,} docs — first page (20) by relevance + facets + snippets, inspector scope"
    )
    print(
        f"{'class':<16}{'recall':>8}{'precision':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'steady p50':>12}{'steady p95':>12}{'median hits':>13}"
    )
    c_lat, c_steady, c_rp, c_hits = (by_class(queries, v) for v in (lat, steady, rp, hits))
    for c in CLASSES:
        print(
            f"{c:<16}{min(x for x, _ in c_rp[c]):>8.3f}{min(y for _, y in c_rp[c]):>10.3f}"
            f"{pct(c_lat[c], 50):>9.1f}{pct(c_lat[c], 95):>9.1f}{max(c_lat[c]):>9.1f}"
            f"{pct(c_steady[c], 50):>12.1f}{pct(c_steady[c], 95):>12.1f}"
            f"{int(statistics.median(c_hits[c])):>13,}"
        )
    print(
        f"{'all':<16}{'':>8}{'':>10}{pct(lat, 50):>9.1f}{pct(lat, 95):>9.1f}{max(lat):>9.1f}"
        f"{pct(steady, 50):>12.1f}{pct(steady, 95):>12.1f}"
    )
    print(
        "(recall/precision: the minimum over the class's queries; p50/p95/max: cold, the"
        " decoded-postings cache emptied before each query; steady: the cache kept across"
        " the run's distinct queries, as in a running server)"
    )
    print(
        f"freshness: index() of 1 doc {pct(commit, 50):.0f} ms p50 / {max(commit):.0f} ms max; "
        f"searchable by another instance after {pct(fresh, 50):.0f} ms p50 / {max(fresh):.0f} ms max"
    )
    print(
        f"memory: searcher RSS growth {searcher_rss:.0f} MiB, of which anonymous (not mmapped "
        f"index pages) {searcher_anon:.0f} MiB; peak RSS this process {own:.0f} MiB, build "
        f"workers {kids:.0f} MiB",
        flush=True,
    )
    if args.profile:
        profile("the web page's request", lambda q: backend.search(q.query, SCOPE), queries,
                lat, backend.clear_cache)  # fmt: skip
        profile("the first page by date", lambda q: backend.search(q.by_date, SCOPE), queries,
                d_lat, backend.clear_cache)  # fmt: skip

    if tan is not None:
        report_tantivy(n, work, built, tan, queries, truth, t_lat)
    print_comparison(n, queries, d_lat, d_steady, t_lat)
    if not args.no_fts and built.get("fts_build_s") is not None:
        run_fts(n, work, built, queries, truth, lat)
    backend.close()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def freshness(backend, work: Path, n: int, first: list[IndexDoc], args):
    """index() of one document until a separate reader instance finds it."""
    reader = get_backend(work / "whoosh")
    reader.warm()
    fresh, commit = [], []
    for k in range(args.fresh):
        # not restricted to named users (2 % of the corpus is): the bench's scope must see it
        doc = replace(make_doc(n + k, args.seed), doc_id=f"fresh-{k}", restricted_to=(),
                      body=f"新近发文独有标记{k:04d}乙 " + first[k].body)  # fmt: skip
        q = SearchQuery(text=f'"独有标记{k:04d}乙"', facets=False)
        t = time.perf_counter()
        backend.index([doc])
        commit.append((time.perf_counter() - t) * 1000)
        while reader.search(q, SCOPE).total == 0:
            if time.perf_counter() - t > 60:
                sys.exit(f"fresh-{k}: not found by another instance after 60 s")
            time.sleep(0.005)
        fresh.append((time.perf_counter() - t) * 1000)
    reader.close()
    drop_fresh(backend, args.fresh)
    return fresh or [float("nan")], commit or [float("nan")]


def drop_fresh(backend, count: int) -> None:
    """Delete the freshness probe's documents (a kept index must answer as the oracle does)."""
    if count:
        backend.delete_many([f"fresh-{k}" for k in range(count)])


def open_tantivy(work: Path) -> tantivy_ref.TantivyRef:
    tan = tantivy_ref.TantivyRef(work / "tantivy")
    tan.index.reload()
    tan.searcher = tan.index.searcher()
    tan.search(Q("2-char", '"法律"').by_date)  # warm, as the casefile backend is
    return tan


def report_tantivy(n, work, built, tan, queries, truth, lat) -> None:
    rp = []
    for q in queries:
        got = tan.nums(q.by_date)
        total = tan.search(q.by_date)[0]
        assert total == len(got), (q.text, total, len(got))
        rp.append(recall_precision(got, truth[q.text]))
    size = dir_size(work / "tantivy")
    build_s = built["tantivy_build_s"]
    print(
        f"\nTantivy {tantivy_version()}, {n:,} docs — build {build_s:.1f} s = "
        f"{n / build_s:.0f} docs/s (grams made in Python, {tan.threads} indexing threads); "
        f"index {size / 2**20:.0f} MiB"
    )
    print(f"{'class':<16}{'recall':>8}{'precision':>10}{'p50 ms':>9}{'p95 ms':>9}")
    c_lat, c_rp = by_class(queries, lat), by_class(queries, rp)
    for c in CLASSES:
        print(
            f"{c:<16}{min(x for x, _ in c_rp[c]):>8.3f}{min(y for _, y in c_rp[c]):>10.3f}"
            f"{pct(c_lat[c], 50):>9.1f}{pct(c_lat[c], 95):>9.1f}"
        )
    print(f"{'all':<16}{'':>8}{'':>10}{pct(lat, 50):>9.1f}{pct(lat, 95):>9.1f}", flush=True)


def tantivy_version() -> str:
    import tantivy

    return getattr(tantivy, "__version__", "")


def print_comparison(n, queries, d_lat, d_steady, t_lat) -> None:
    print(f"\nFirst page of 20 by date + the four facets, no snippets, {n:,} docs (issue 17)")
    head = f"{'class':<16}{'casefile p50':>13}{'p95':>8}{'steady p50':>12}{'p95':>8}"
    if t_lat:
        head += f"{'Tantivy p50':>13}{'p95':>8}{'ratio p50':>11}{'p95':>7}"
    print(head)
    c_lat, c_steady = by_class(queries, d_lat), by_class(queries, d_steady)
    c_t = by_class(queries, t_lat) if t_lat else None
    rows = [(c, c_lat[c], c_steady[c], c_t[c] if c_t else None) for c in CLASSES]
    rows.append(("all", d_lat, d_steady, t_lat))
    for c, a, s, t in rows:
        line = f"{c:<16}{pct(a, 50):>13.1f}{pct(a, 95):>8.1f}{pct(s, 50):>12.1f}{pct(s, 95):>8.1f}"
        if t:
            line += (f"{pct(t, 50):>13.1f}{pct(t, 95):>8.1f}{pct(a, 50) / pct(t, 50):>10.2f}x"
                     f"{pct(a, 95) / pct(t, 95):>6.2f}x")  # fmt: skip
        print(line)
    print("(casefile: cold, the decoded-postings cache emptied before each query; steady: kept)",
          flush=True)  # fmt: skip


def run_fts(n, work, built, queries, truth, whoosh_lat) -> None:
    fts = Fts5(work / "fts.sqlite")
    lat = timed(lambda q: fts.search(q.query), queries)
    rp = [recall_precision(fts.nums(q.query), truth[q.text]) for q in queries]
    size = (work / "fts.sqlite").stat().st_size
    build_s = built["fts_build_s"]
    print(
        f"\nSQLite FTS5 trigram, {n:,} docs — build {build_s:.1f} s = {n / build_s:.0f} docs/s "
        f"(one core); file {size / 2**20:.0f} MiB"
    )
    print(f"{'class':<16}{'recall':>8}{'precision':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p50 FTS/Whoosh':>16}")  # fmt: skip
    c_lat, c_rp, c_w = by_class(queries, lat), by_class(queries, rp), by_class(queries, whoosh_lat)
    for c in CLASSES:
        print(
            f"{c:<16}{min(x for x, _ in c_rp[c]):>8.3f}{min(y for _, y in c_rp[c]):>10.3f}"
            f"{pct(c_lat[c], 50):>9.1f}{pct(c_lat[c], 95):>9.1f}"
            f"{pct(c_lat[c], 50) / pct(c_w[c], 50):>16.2f}"
        )
    print(
        f"{'all':<16}{'':>8}{'':>10}{pct(lat, 50):>9.1f}{pct(lat, 95):>9.1f}"
        f"{pct(lat, 50) / pct(whoosh_lat, 50):>16.2f}",
        flush=True,
    )
    fts.db.close()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--docs", type=int, help="one size (same as --sizes N)")
    ap.add_argument("--chunk", type=int, default=20_000, help="documents generated at a time")
    ap.add_argument("--queries", type=int, default=40, help="queries per class")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--fresh", type=int, default=10, help="single-document freshness trials")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--no-fts", action="store_true")
    ap.add_argument("--no-tantivy", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the indexes (see --reuse)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse indexes kept in --workdir by a run with the same size and seed")  # fmt: skip
    ap.add_argument("--rebuild-casefile", action="store_true",
                    help="with --reuse: rebuild the casefile index, keep the others")  # fmt: skip
    args = ap.parse_args(argv)
    if args.docs:
        args.sizes = [args.docs]
    tmp = None
    if args.workdir is None:
        tmp = args.workdir = tempfile.mkdtemp(prefix="casefile-bench-")
    if not args.no_tantivy and not tantivy_ref.available():
        print("Tantivy: not installed (pip install -e '.[bench]'); measuring without it")
    print(f"casefile search benchmark — {datetime.date.today()} — {machine()}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    try:
        for n in args.sizes:
            run_size(n, args)
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
