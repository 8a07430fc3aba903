"""`casefile matter ...`: the same services from the command line; bad input exits 2 naming
the field, a refusal exits 2 with its reason."""

from __future__ import annotations

import json

import pytest
from casefile_factories import make_docx


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_matter_from_the_command_line(cf, run_cli, tmp_path):
    code, out, _ = run_cli("matter", "new", "--as", "head", "--kind", "admin-litigation",
                           "--title", "李某诉武阳市人民政府", "--case-number", "bad",
                           "--json")  # fmt: skip
    assert code == 2 and json.loads(out)["errors"][0]["field"] == "case_number"
    code, out, _ = run_cli("matter", "new", "--as", "head", "--kind", "admin-litigation",
                           "--title", "李某诉武阳市人民政府", "--case-number",
                           "（2026）云01行初123号", "--served", "2026-11-02", "--json")  # fmt: skip
    assert code == 0, out
    matter = json.loads(out)
    assert matter["deadline"] == "2026-11-17"
    mid = str(matter["id"])
    code, _, err = run_cli("matter", "assign", mid, "--as", "clerk", "--lawyer", "lawyer")
    assert code == 2 and "负责人" in err
    assert run_cli("matter", "assign", mid, "--as", "head", "--lawyer", "lawyer")[0] == 0
    assert run_cli("matter", "accept", mid, "--as", "lawyer")[0] == 0
    path = tmp_path / "答辩状.docx"
    path.write_bytes(make_docx("答辩状"))
    assert run_cli("matter", "note", mid, "--as", "lawyer", "--text", "已阅卷",
                   "--file", str(path))[0] == 0  # fmt: skip
    assert run_cli("matter", "feedback", mid, "--as", "lawyer", "--text", "一审胜诉")[0] == 0
    code, out, _ = run_cli("matter", "close", mid, "--as", "head", "--json")
    assert code == 0 and json.loads(out)["status"] == "closed"
    code, out, _ = run_cli("matter", "show", mid, "--json")
    events = json.loads(out)["events"]
    assert [e["kind"] for e in events][-3:] == ["note", "feedback", "close"]
    assert events[-3]["file_name"] == "答辩状.docx"
    code, out, _ = run_cli("matter", "stats", "--by", "unit", "--json")
    assert json.loads(out)["rows"][0]["handled"] == 1
    code, out, _ = run_cli("matter", "decisions", "--as", "head", "--add",
                           "legality-review-opinion", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["entries"][0]["template"] == "legality-review-opinion"
    assert run_cli("matter", "decisions", "--as", "clerk")[0] == 2
