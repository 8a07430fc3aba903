"""Ids beyond the database's range on the command line: a usage error or "not found", never a
traceback (issue 16, item 4)."""

from __future__ import annotations

import pytest
from casefile_factories import new_case

pytestmark = pytest.mark.engine_neutral  # SQLite only: see tests/conftest.py

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ["case", "show", HUGE],
        ["document", "show", HUGE],
        ["draft", "show", HUGE],
        ["draft", "approve", HUGE, "--as", "head"],
        ["case", "close", HUGE, "--as", "clerk"],
        ["case", "add", "1", "--document", "1", "--reply-to", HUGE, "--as", "clerk"],
    ],
)
def test_a_huge_id_is_a_usage_error(cf, run_cli, capsys, args):
    with pytest.raises(SystemExit) as exc:
        run_cli(*args)
    assert exc.value.code == 2
    assert "不是有效的编号" in capsys.readouterr().err


def test_a_huge_document_number_to_file_is_not_found(cf, run_cli):
    case_id = new_case(cf)
    code, _, err = run_cli("case", "add", str(case_id), "--document", HUGE, "--as", "clerk")
    assert code != 0 and "不存在" in err and "Traceback" not in err
