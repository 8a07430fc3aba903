"""Every bench script runs in a tiny form here, so that none of them rots unnoticed (`make
bench` once failed because bench/issue.py's sample no longer satisfied its template). These
check that each script runs to the end and prints its figures, and what the figures must say
whatever the machine: search exact in every class, no outbox event lost. Timings are never
asserted here; they live in the scripts' output and docs/performance.md."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, issue_quick

REPO = Path(__file__).resolve().parent.parent


def run_bench(*args: str, timeout: float = 240) -> str:
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_issue_bench():
    out = run_bench("bench/issue.py", "--n", "2")
    assert re.search(r"ratio full/bare\s+\d+\.\d+x", out), out
    out = run_bench("bench/issue.py", "--issuers", "2", "--n", "2")
    assert "numbers gapless: yes" in out, out


def test_search_bench_is_exact_in_every_class(tmp_path):
    tiny = ("bench/search.py", "--sizes", "300", "--queries", "2", "--fresh", "1", "--procs", "1",
            "--workdir", str(tmp_path), "--keep")  # fmt: skip
    for extra in ((), ("--reuse", "--rebuild-casefile", "--no-fts")):
        out = run_bench(*tiny, *extra)
        rows = re.findall(r"^(\S[\w+ -]*?)\s+(\d\.\d{3})\s+(\d\.\d{3})\s", out, re.M)
        assert len(rows) >= 7 * (2 if not extra else 1), out  # every class, Whoosh (and FTS5)
        assert all(recall == precision == "1.000" for _, recall, precision in rows), out
    assert "reusing the indexes" in out and "whoosh rebuild:" in out, out


def test_outbox_workers_bench_loses_nothing():
    out = run_bench("bench/outbox_workers.py", "--events", "20", "--workers", "2", "--kills", "1")
    assert re.search(r": 0 never handled, [01] handled again", out), out


def test_render_benches():
    out = run_bench("bench/render.py", "--n", "1", "--pdf-n", "1")
    assert "warm converter" in out and "docs/min" in out, out
    out = run_bench("bench/render_pdf.py", "-n", "1", "--paragraphs", "2")
    assert re.search(r"speed-up \(median\): \d", out), out


def test_supervision_bench():
    out = run_bench("bench/supervision.py", "--units", "4", "--docs", "200", "--records", "100",
                    "--runs", "2")  # fmt: skip
    assert re.search(r"^dashboard: p50 \d+ ms, p95 \d+ ms", out, re.M), out
    assert re.search(r"^ranking: p50 \d+ ms, p95 \d+ ms", out, re.M), out


def test_ocr_bench():
    """One scanned third of a page of an issued document, RapidOCR through the pipeline."""
    out = run_bench("bench/ocr.py", "--docs", "1", "--pages", "1", "--crop", "--engines",
                    "rapidocr")  # fmt: skip
    assert re.search(r"^  numbers found\s+1/1$", out, re.M), out
    assert re.search(r"^  pages per minute\s+\d", out, re.M), out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_bench(quick_cf, db_url, tmp_path):
    """The serving bench on a small store of the suite's (a demo store takes too long to
    build here), one waitress process, a second per page: wrk when installed, else its
    Python load generator."""
    issue_quick(quick_cf)
    out = run_bench(
        "bench/serve.py", "--processes", "1", "--duration", "1", "--connections", "4",
        "--pages", "home", "document", "search", "--no-background",
        "--password", PASSWORD,
        "--database-url", db_url, "--archive-dir", str(tmp_path / "archive"),
        "--index-dir", str(tmp_path / "index"), timeout=120,
    )  # fmt: skip
    load = "wrk" if shutil.which("wrk") else "python"
    assert f"{load} -c4" in out, out
    # every page answered (no non-2xx) and its CPU per request was measured
    rows = re.findall(r"^(home|document|search) +[\d.]+ +[\d.]+ +[\d.]+ +0 +\d+\.\d\d ", out, re.M)
    assert rows == ["home", "document", "search"], out
