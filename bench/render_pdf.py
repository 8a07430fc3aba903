"""PDF rendition throughput: warm converter (one long-lived soffice) vs a cold
`soffice --convert-to pdf` per file.

    .venv/bin/python bench/render_pdf.py [-n 10] [--paragraphs 12]

Prints median / p90 ms per conversion and docs/min for each mode. The documents are generated
with python-docx in the GB/T 9704 layout (A4, 仿宋 16 pt body, 方正小标宋简体 22 pt title), about
two pages each, each one different (document number and body vary).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docx import Document  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Mm, Pt  # noqa: E402

from app.renditions import Converter, cold_convert, page_count  # noqa: E402

BODY = (
    "经审查，该决策事项的主体、权限、内容、程序和形式均符合法律、法规和规章的规定。"
    "建议对第{n}条关于收费标准的表述作进一步明确，并在提交审议前完成公开征求意见程序。"
)


def _font(run, name: str, size: float) -> None:
    run.font.size = Pt(size)
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def make_doc(i: int, paragraphs: int) -> bytes:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = (
        Mm(37),
        Mm(35),
        Mm(28),
        Mm(26),
    )
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("关于城区停车收费调整方案的合法性审查意见书"), "方正小标宋简体", 22)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(f"武政法审〔2026〕{i + 1}号"), "仿宋_GB2312", 16)
    for n in range(paragraphs):
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)
        _font(p.add_run(BODY.format(n=n + i + 1)), "仿宋_GB2312", 16)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summary(label: str, times_ms: list[float], wall_s: float) -> str:
    med = statistics.median(times_ms)
    p90 = sorted(times_ms)[max(0, int(round(0.9 * len(times_ms))) - 1)]
    per_min = len(times_ms) / wall_s * 60
    return (
        f"{label:<37} n={len(times_ms):<3} median {med:7.0f} ms   p90 {p90:7.0f} ms   "
        f"{per_min:6.1f} docs/min"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10, help="documents per mode (default 10)")
    ap.add_argument("--paragraphs", type=int, default=12, help="body paragraphs per document")
    args = ap.parse_args()

    docs = [make_doc(i, args.paragraphs) for i in range(args.n)]
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}")

    conv = Converter()
    t0 = time.perf_counter()
    conv.start()
    start_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    first = conv.convert(docs[0])
    first_ms = (time.perf_counter() - t0) * 1000
    print(f"documents: {args.n}, {page_count(first)} pages each (A4, CJK)")
    print(f"warm converter start-up: {start_ms:.0f} ms; first conversion: {first_ms:.0f} ms")
    warm: list[float] = []
    w0 = time.perf_counter()
    for d in docs:
        t0 = time.perf_counter()
        conv.convert(d)
        warm.append((time.perf_counter() - t0) * 1000)
    warm_wall = time.perf_counter() - w0
    conv.stop()

    with tempfile.TemporaryDirectory(prefix="casefile-bench-") as tmp:
        profile = str(Path(tmp) / "profile")
        t0 = time.perf_counter()
        cold_convert(docs[0], profile_dir=profile)  # creates the profile once
        fresh_ms = (time.perf_counter() - t0) * 1000
        cold: list[float] = []
        w0 = time.perf_counter()
        for d in docs:
            t0 = time.perf_counter()
            cold_convert(d, profile_dir=profile)
            cold.append((time.perf_counter() - t0) * 1000)
        cold_wall = time.perf_counter() - w0
    print(f"cold soffice with a fresh profile (first run): {fresh_ms:.0f} ms")
    print(summary("warm (one soffice, UNO)", warm, warm_wall))
    print(summary("cold (soffice --convert-to per file)", cold, cold_wall))
    print(f"speed-up (median): {statistics.median(cold) / statistics.median(warm):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
