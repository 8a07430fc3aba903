"""The audit log reads in Chinese wherever a person reads it (the web page, `casefile audit`):
every action the code records has a label, and a detail leaves out empty values."""

from __future__ import annotations

import ast
import importlib

import pytest
from conftest import REPO, issue_letter
from test_ui_chinese import visible_text
from webutil import logged_in

from app.audit.labels import ACTION_LABELS, action_label, detail_text

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py


def _recorded_actions() -> set[str]:
    """Every action passed to audit.record() in app/, read from the source (constants, both
    branches of a conditional, module-level names; f-strings expanded by the test below)."""
    found: set[str] = set()
    for path in (REPO / "app").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "record"):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                continue
            arg = node.args[1] if len(node.args) > 1 else None
            values = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for value in values:
                if isinstance(value, ast.Constant):
                    found.add(value.value)
                elif isinstance(value, ast.Name) and value.id.isupper():
                    found.add(getattr(importlib.import_module(module), value.id))
    return found


def test_every_recorded_action_has_a_chinese_label():
    actions = _recorded_actions()
    assert {"login", "document.issue", "search", "casefile.close"} <= actions  # the scan works
    actions |= {f"draft.{d}" for d in ("approve", "return")}  # f"draft.{decision}" in drafts.py
    assert actions - set(ACTION_LABELS) == set()
    assert action_label("draft.something-new") == "草稿操作"  # a later action: its family
    assert action_label("document.read") == "阅读文书"


def test_a_detail_reads_in_chinese_without_empty_values():
    detail = {"query": "合同", "types": [], "units": [], "year_from": None, "year_to": None,
              "reviewer": "", "conclusion": "", "results": 3, "via": "web"}  # fmt: skip
    assert detail_text(detail) == "检索词：合同；结果数：3；途径：网页"
    names = {"legality-review-opinion": "合法性审查意见书", "adviser-review": "法律顾问审核"}
    text = detail_text({"template": "legality-review-opinion@2", "step": "adviser-review",
                        "sha256": "f79a7393fbf66c9adefd9f40f85b90954e4edadb"}, names)  # fmt: skip
    assert text == "模板：合法性审查意见书 第2版；环节：法律顾问审核；SHA-256：f79a7393fbf66c9a…"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_audit_page_and_casefile_audit_read_in_chinese(cf, app, run_cli):
    doc = issue_letter(cf)
    inspector = logged_in(app, "inspector")
    assert inspector.get(f"/documents/{doc.id}").status_code == 200
    page = visible_text(inspector.get("/admin/audit").get_data(as_text=True))
    assert "阅读文书" in page and "发文" in page and "途径：网页" in page
    assert "document.read" not in page and "None" not in page and "via=" not in page
    assert inspector.get("/admin/audit?page=2&action=login").status_code == 200  # pager + filter
    code, out, _ = run_cli("audit", "--limit", "50")
    assert code == 0 and "阅读文书" in out and f"文书 {doc.id}" in out
    assert "document.read" not in out and "draft.approve" not in out
    code, out, _ = run_cli("audit", "--json", "--action", "document.read")
    assert code == 0 and '"action": "document.read"' in out and "阅读文书" in out


def test_a_matter_detail_reads_its_own_codes():
    detail = {"status": "closed", "kind": "admin-litigation", "justified": False}
    assert (
        detail_text(detail, action="matter.close") == "状态：办结；类别：行政诉讼；有正当理由：否"
    )
    assert detail_text({"status": "closed"}, action="casefile.close") == "状态：已归档"
    assert (
        action_label("matter.assign") == "指派承办人" and action_label("matter.new") == "法律事务"
    )
