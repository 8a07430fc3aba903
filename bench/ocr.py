"""Text recognition of scans (issue 15): RapidOCR (the engine casefile ships) against Debian's
tesseract-ocr with chi_sim through ocrmypdf, on the same scanned pages.

The pages are the shipped templates rendered with their sample data as issued documents
(number 武政法审〔2026〕1号 …, PDF through LibreOffice), rendered to images by pdftoppm at --dpi,
then scanned (app/ocr/simulate.py: a skew of up to 1°, blur, grey noise, specks, JPEG) and
put together as one scanned PDF per document, without any text.

RapidOCR runs through casefile's own pipeline: each scanned PDF is uploaded into a case file
of a fresh SQLite store, the outbox's "ocr" events are drained (pages, recognition, the PDF/A
copy, the result row), then the "index" events, and every document number and phrase is
searched for as a clerk. Tesseract runs as `ocrmypdf -l chi_sim --output-type pdfa-2
--sidecar`, its text tidied by the same app/search/normalize.py: tidy_ocr_line, and searched
for with search's own rule (the folded query is a substring of the folded text).

Printed per engine: character accuracy (1 - edit distance / length, on folded text without
spaces, against pdftotext of the issued PDF), the numbers and phrases found (target ≥ 98%),
and pages per minute on this machine.

    .venv/bin/python bench/ocr.py [--docs 4] [--pages 0] [--phrases 4] [--dpi 200]
                                  [--engines rapidocr,tesseract]

--pages N keeps the first N pages of each document (0: all); --crop keeps the top third of
each page (the tiny form in tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.access.policy import principal, search_scope  # noqa: E402
from app.bootstrap import prepare  # noqa: E402
from app.casefiles import service as casefiles  # noqa: E402
from app.casefiles.models import AttachmentOcr, CaseFileItem  # noqa: E402
from app.config import Settings  # noqa: E402
from app.container import open_casefile  # noqa: E402
from app.identity.models import User  # noqa: E402
from app.identity.users import add_unit, add_user  # noqa: E402
from app.jobs.outbox import drain  # noqa: E402
from app.ocr import ENGINE_NAME  # noqa: E402
from app.ocr.simulate import scanned  # noqa: E402
from app.renditions import Converter  # noqa: E402
from app.renditions.pdf import render_page_images  # noqa: E402
from app.search import SearchQuery  # noqa: E402
from app.search.indexing import attachment_doc_id  # noqa: E402
from app.search.normalize import fold, tidy_ocr_line  # noqa: E402
from app.templating import parse_schema, render_document, validate  # noqa: E402
from bench.render_pdf import cpu_model  # noqa: E402

UNIT = {"name": "武阳市人民政府法律顾问室", "code": "FZB", "doc_code": "武政法"}


@dataclass
class Doc:
    name: str
    number: str
    truth: list[str]  # per page, pdftotext of the issued PDF
    phrases: list[str]
    scan: bytes = b""  # the scanned PDF
    pages: int = 0


@dataclass
class Result:
    engine: str
    pages: int = 0
    seconds: float = 0.0  # wall clock
    cpu: float = 0.0  # CPU seconds of the process and its children (both cores count)
    errors: int = 0
    length: int = 0
    worst: float = 1.0
    found: dict[str, list[bool]] = field(default_factory=lambda: {"numbers": [], "phrases": []})
    missed: list[str] = field(default_factory=list)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def issued_documents(n_docs: int) -> list[tuple[str, str, bytes]]:
    """(template, number, PDF) of the first n shipped templates, issued with sample data."""
    out = []
    conv = Converter()
    conv.start()
    try:
        folders = [
            f for f in sorted((REPO / "doc_templates").iterdir()) if (f / "schema.yaml").exists()
        ]
        for i, folder in enumerate(folders[:n_docs], start=1):
            schema = parse_schema((folder / "schema.yaml").read_bytes(), folder.name)
            data, errors = validate(schema, json.loads((folder / "sample.json").read_text("utf-8")))
            assert not errors, errors
            number = f"武政法审〔2026〕{i}号"
            docx = render_document(schema, (folder / "template.docx").read_bytes(), data, UNIT,
                                   number, dt.date(2026, 11, 23))  # fmt: skip
            out.append((folder.name, number, conv.convert(docx)))
    finally:
        conv.stop()
    return out


def page_truth(pdf: bytes, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()  # fmt: skip


def pick_phrases(pages: list[str], per_page: int) -> list[str]:
    """Phrases a user would type: up to 10 characters of the longest run of Han characters,
    letters and digits of lines spread over each page (runs of at least 6)."""
    out = []
    for text in pages:
        runs = [max(found, key=len) for line in text.splitlines()
                if (found := re.findall(r"[\u4e00-\u9fff0-9A-Za-z]{6,}", line))]  # fmt: skip
        step = max(1, len(runs) // per_page) if runs else 1
        out += [run[:10] for run in runs[::step][:per_page]]
    return out


def make_docs(args) -> list[Doc]:
    docs = []
    for seed, (name, number, pdf) in enumerate(issued_documents(args.docs)):
        images = render_page_images(pdf, args.dpi, last_page=args.pages or None, raw=True)
        truth, scans = [], []
        for n, ppm in enumerate(images, start=1):
            with Image.open(io.BytesIO(ppm)) as img:
                page = img.convert("L")
            if args.crop:
                page = page.crop((0, 0, page.width, page.height // 3))
                truth.append(page_truth_cropped(pdf, n, args.dpi, page.height))
            else:
                truth.append(page_truth(pdf, n))
            scans.append(scanned(page, seed=seed * 100 + n))
        buf = io.BytesIO()
        scans[0].save(buf, format="PDF", save_all=True, append_images=scans[1:],
                      resolution=float(args.dpi), quality=80)  # fmt: skip
        docs.append(Doc(name, number, truth, pick_phrases(truth, args.phrases), buf.getvalue(),
                        len(scans)))  # fmt: skip
    return docs


def page_truth_cropped(pdf: bytes, page: int, dpi: int, height_px: int) -> str:
    """pdftotext of the top of a page (the part --crop keeps)."""
    points = height_px * 72 / dpi
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-x", "0", "-y", "0",
                           "-W", "1000", "-H", str(int(points)), "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()  # fmt: skip


def score(result: Result, doc: Doc, page_texts: list[str], found) -> None:
    for text, truth in zip(page_texts, doc.truth, strict=True):
        got, want = squeeze(text), squeeze(truth)
        errors = edit_distance(got, want)
        result.errors += errors
        result.length += len(want)
        result.worst = min(result.worst, 1 - errors / max(1, len(want)))
    for kind, queries in (("numbers", [doc.number]), ("phrases", doc.phrases)):
        for q in queries:
            ok = found(q)
            result.found[kind].append(ok)
            if not ok:
                result.missed.append(f"{doc.name}: {q}")


def run_rapidocr(docs: list[Doc], database_url: str | None) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="casefile-bench-ocr-"))
    settings = Settings(
        archive_dir=tmp / "archive", index_dir=tmp / "index",
        database_url=database_url or f"sqlite:///{tmp / 'archive' / 'casefile.db'}",
        secret_key="bench" * 8, templates_dir=REPO / "doc_templates", background_workers=False,
    )  # fmt: skip
    cf = open_casefile(settings)
    prepare(cf)
    with cf.db.write() as s:
        add_unit(s, "GOV", "武阳市人民政府", None, "武政")
        add_unit(s, "FZB", "武阳市人民政府法律顾问室", "GOV", "武政法")
        add_user(
            s, "clerk", "clerk", "FZB", ["clerk"], password="Bench-password-1", must_change=False
        )

    def clerk(s):
        return principal(s, s.scalars(select(User).where(User.username == "clerk")).one())

    with cf.db.write() as s:
        case = casefiles.create_case_file(s, clerk(s), title="扫描件识别测试", kind="other",
                                          unit_code="FZB", retention="D10")  # fmt: skip
        attachments = []
        for doc in docs:
            item = casefiles.add_attachment(cf, s, clerk(s), case.id, doc.scan, f"{doc.name}.pdf")
            attachments.append(item.attachment_id)
    started, cpu = time.perf_counter(), cpu_seconds()
    while drain(cf, ("ocr",), limit=1)["done"]:
        pass
    result = Result(engine=f"{ENGINE_NAME} (casefile pipeline)")
    result.seconds, result.cpu = time.perf_counter() - started, cpu_seconds() - cpu
    result.pages = sum(d.pages for d in docs)
    while drain(cf, ("index",))["done"]:
        pass
    with cf.db.read() as s:
        scope = search_scope(s, clerk(s))
        rows = {r.attachment_id: r for r in s.scalars(select(AttachmentOcr))}
        assert s.scalar(select(CaseFileItem.id).where(CaseFileItem.case_file_id == case.id))
    for doc, att_id in zip(docs, attachments, strict=True):
        row = rows[att_id]

        def found(q: str, att_id: int = att_id) -> bool:
            hits = cf.search.search(SearchQuery(text=q), scope).hits
            return attachment_doc_id(att_id) in {h.doc_id for h in hits}

        score(result, doc, row.text.split("\f"), found)
    cf.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def run_tesseract(docs: list[Doc]) -> Result | None:
    exe = shutil.which("ocrmypdf")
    if not exe:
        print("tesseract: ocrmypdf is not installed (Debian: ocrmypdf tesseract-ocr-chi-sim); "
              "skipped")  # fmt: skip
        return None
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout
    result = Result(engine=f"tesseract {version.split()[1]} chi_sim, ocrmypdf (PDF/A-2b)")
    with tempfile.TemporaryDirectory(prefix="casefile-bench-tess-") as tmp:
        for doc in docs:
            src, out, side = (
                Path(tmp) / f"{doc.name}{ext}" for ext in (".pdf", ".ocr.pdf", ".txt")
            )
            src.write_bytes(doc.scan)
            started, cpu = time.perf_counter(), cpu_seconds()
            subprocess.run([exe, "-q", "-l", "chi_sim", "--output-type", "pdfa-2", "-j", "1",
                            "--sidecar", str(side), str(src), str(out)], check=True)  # fmt: skip
            result.seconds += time.perf_counter() - started
            result.cpu += cpu_seconds() - cpu
            result.pages += doc.pages
            pages = side.read_text("utf-8").split("\f")[: doc.pages]
            pages = ["\n".join(tidy_ocr_line(ln) for ln in p.splitlines()) for p in pages]
            pages += [""] * (doc.pages - len(pages))
            folded = fold(" ".join(pages))
            score(result, doc, pages, lambda q, text=folded: fold(q) in text)
    return result


def cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (ocrmypdf, tesseract, gs)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(result: Result) -> None:
    numbers, phrases = result.found["numbers"], result.found["phrases"]
    checks = numbers + phrases
    print(f"\n{result.engine}")
    print(f"  character accuracy   {1 - result.errors / max(1, result.length):.4f} "
          f"(worst page {result.worst:.4f})")  # fmt: skip
    print(f"  numbers found        {sum(numbers)}/{len(numbers)}")
    print(f"  phrases found        {sum(phrases)}/{len(phrases)}")
    print(f"  recall               {sum(checks) / max(1, len(checks)):.1%} (target ≥ 98%)")
    print(f"  pages per minute     {result.pages / result.seconds * 60:.1f} "
          f"({result.seconds / result.pages:.1f} s a page, {result.pages} pages)")  # fmt: skip
    print(f"  CPU per page         {result.cpu / result.pages:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")  # fmt: skip
    for miss in result.missed:
        print(f"  missed: {miss}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=4, help="shipped templates to issue (1-4)")
    ap.add_argument("--pages", type=int, default=0, help="first pages of each (0: all)")
    ap.add_argument("--phrases", type=int, default=4, help="phrases per page")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--crop", action="store_true", help="keep the top third of each page")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--database-url")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load {load:.1f}; "
          f"python {platform.python_version()}; date {dt.date.today()}")  # fmt: skip
    docs = make_docs(args)
    print(f"pages: {sum(d.pages for d in docs)} scanned at {args.dpi} dpi from {len(docs)} "
          f"issued documents; checks: {len(docs)} numbers, {sum(len(d.phrases) for d in docs)} "
          "phrases")  # fmt: skip
    engines = args.engines.split(",")
    if "rapidocr" in engines:
        report(run_rapidocr(docs, args.database_url))
    if "tesseract" in engines and (result := run_tesseract(docs)) is not None:
        report(result)


if __name__ == "__main__":
    main()
