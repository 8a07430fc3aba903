"""`casefile case ...` and `casefile import` as an operator runs them, on the demo dossier."""

import io
import json
from dataclasses import dataclass

import pytest
from casefile_factories import make_pdf
from conftest import demo_url
from pypdf import PdfReader

from app.casefiles.export import read_outline
from app.cli import main

# LibreOffice is installed by `make test` (scripts/install-system-deps.sh); a missing one fails.


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def runner(monkeypatch, capsys):
    """`casefile ...` in this process (the warm LibreOffice is shared), one store per call."""

    def make(tmp_path, db_url):
        def run(*args, check=True):
            monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path / "archive"))
            monkeypatch.setenv("CASEFILE_INDEX_DIR", str(tmp_path / "index"))
            monkeypatch.setenv("CASEFILE_DATABASE_URL", db_url)
            capsys.readouterr()
            code = main(list(args))
            out, err = capsys.readouterr()
            if check and code != 0:
                raise AssertionError(f"casefile {' '.join(args)} → {code}\n{out}\n{err}")
            return Result(code, out, err)

        return run

    return make


def test_demo_dossier_exports_and_imports_into_a_fresh_store(runner, tmp_path, demo_copy):
    run = runner(demo_copy, demo_url(demo_copy))
    listing = json.loads(run("case", "list", "--json").stdout)["case_files"]
    demo = next(c for c in listing if c["status"] == "closed")
    shown = json.loads(run("case", "show", str(demo["id"]), "--json").stdout)
    assert len(shown["items"]) == 7 and all(i["archival_code"] for i in shown["items"])

    pdf, package = tmp_path / "dossier.pdf", tmp_path / "package.zip"
    out = json.loads(run("case", "export", str(demo["id"]), "--pdf", str(pdf), "--package", str(package),
                         "--json").stdout)  # fmt: skip
    # bookmarks and the table of contents match the items
    outline = read_outline(pdf.read_bytes())
    assert [t for t, _ in outline[2:]] == [f"{i['position']}. {i['title']}" for i in shown["items"]]
    toc = [(e["archival_code"], e["pages"]) for e in out["pdf"]["entries"]]
    assert [c for c, _ in toc] == [i["archival_code"] for i in shown["items"]]
    assert len(PdfReader(io.BytesIO(pdf.read_bytes())).pages) == out["pdf"]["pages"]
    first_item_page = outline[2][1]
    for (_, page_index), (_, pages) in zip(outline[2:], toc, strict=True):
        assert str(page_index - first_item_page + 1) == pages.split("–")[0]

    other = runner(
        tmp_path / "other", f"sqlite:///{tmp_path / 'other' / 'archive' / 'casefile.db'}"
    )
    other("init")
    imported = json.loads(other("import", str(package), "--json").stdout)
    assert imported["items"] == 7 and imported["references"] == [
        i["archival_code"] for i in shown["items"]
    ]
    assert "校验通过" in other("verify").stdout
    again = json.loads(other("case", "show", str(imported["case_file"]), "--json").stdout)
    assert [i["title"] for i in again["items"]] == [i["title"] for i in shown["items"]]

    # the commands one by one, with --as and what they refuse
    case = run("case", "new", "--title", "测试案卷", "--kind", "contract-review", "--unit", "WY-FZB",
               "--retention", "D10", "--as", "clerk").stdout.strip()  # fmt: skip
    assert case.isdigit()
    refused = run("case", "new", "--title", "越权", "--kind", "other", "--unit", "WY-FZB", "--retention", "Y",
                  "--as", "zr-clerk", check=False)  # fmt: skip
    assert refused.returncode == 2 and "无权" in refused.stderr
    good = tmp_path / "纪要.pdf"
    good.write_bytes(make_pdf(1))
    added = json.loads(
        run(
            "case",
            "add",
            case,
            "--file",
            str(good),
            "--responsible",
            "市政府办公室",
            "--date",
            "2026-11-01",
            "--as",
            "clerk",
            "--json",
        ).stdout  # fmt: skip
    )
    assert added["type"] == "pdf" and added["position"] == 1
    bad = tmp_path / "坏.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    out = run("case", "add", case, "--file", str(bad), "--as", "clerk", "--json", check=False)
    assert out.returncode == 2 and "坏.pdf" in json.loads(out.stdout)["message"]
    run("case", "add", case, "--document", "4", "--as", "clerk")
    closed = json.loads(run("case", "close", case, "--as", "clerk", "--json", "--yes").stdout)
    assert [r.rsplit("-", 1)[-1] for r in closed["references"]] == ["0001", "0002"]
    late = run("case", "add", case, "--file", str(good), "--as", "clerk", check=False)
    assert late.returncode == 2 and "已归档" in late.stderr
