"""Rendering figures for issue 3.

1. Median ms per render (validate + docxtpl render + reproducible save) for each shipped
   template, with its sample data.
2. PDF rendition throughput of the real issued documents: one warm LibreOffice converter versus
   a cold `soffice --convert-to pdf` per file.

    .venv/bin/python bench/render.py [--n 20] [--pdf-n 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.renditions import Converter, cold_convert, page_count  # noqa: E402
from app.templating import parse_schema, render_document, validate  # noqa: E402
from bench.render_pdf import cpu_model  # noqa: E402

UNIT = {"name": "武阳市人民政府法律顾问室", "code": "WY-FZB", "doc_code": "武政法"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20, help="renders per template")
    ap.add_argument("--pdf-n", type=int, default=8, help="documents per PDF mode")
    args = ap.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; date {dt.date.today()}")
    rendered: list[tuple[str, bytes]] = []
    print(f"{'template':<26} {'median ms':>9} {'p90 ms':>8} {'DOCX KB':>8}")
    for folder in sorted((REPO / "doc_templates").iterdir()):
        if not (folder / "schema.yaml").exists():
            continue
        schema = parse_schema((folder / "schema.yaml").read_bytes(), folder.name)
        docx = (folder / "template.docx").read_bytes()
        sample = json.loads((folder / "sample.json").read_text("utf-8"))
        times = []
        out = b""
        for i in range(args.n + 2):
            t = time.perf_counter()
            clean, errors = validate(schema, sample)
            assert not errors, errors
            out = render_document(
                schema, docx, clean, UNIT, f"武政法〔2026〕{i + 1}号", dt.date(2026, 11, 23)
            )
            if i >= 2:
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"{folder.name:<26} {statistics.median(times):9.1f} {times[int(len(times) * 0.9)]:8.1f} {len(out) / 1024:8.0f}"
        )
        rendered.append((folder.name, out))

    docs = [rendered[i % len(rendered)][1] for i in range(args.pdf_n)]
    conv = Converter()
    t0 = time.perf_counter()
    conv.start()
    conv.convert(docs[0])  # first conversion after start
    startup = time.perf_counter() - t0
    warm = []
    pages = 0
    t_all = time.perf_counter()
    for d in docs:
        t = time.perf_counter()
        pdf = conv.convert(d)
        warm.append((time.perf_counter() - t) * 1000)
        pages += page_count(pdf)
    warm_wall = time.perf_counter() - t_all
    conv.stop()
    cold = []
    t_all = time.perf_counter()
    for d in docs:
        t = time.perf_counter()
        cold_convert(d)
        cold.append((time.perf_counter() - t) * 1000)
    cold_wall = time.perf_counter() - t_all
    print(
        f"\nPDF renditions of the {len(docs)} rendered templates ({pages} pages), warm start-up {startup:.1f} s once:"
    )
    for label, ts, wall in (
        ("warm converter", warm, warm_wall),
        ("cold soffice per file", cold, cold_wall),
    ):
        print(
            f"  {label:<22} median {statistics.median(ts):7.0f} ms   {len(ts) / wall * 60:6.0f} docs/min"
        )
    print(f"  speed-up (median)      {statistics.median(cold) / statistics.median(warm):.1f}x")


if __name__ == "__main__":
    main()
