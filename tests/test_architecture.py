"""The structure says "one rule, one path": the import contracts in pyproject.toml hold, no
import inside a function hides a cycle, and a module over 400 lines says why it is long."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

APP = REPO / "app"
LONG = 400
LONG_MARKER = "Long module:"
LAZY_MARKER = "# lazy:"


def _modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "migrations" not in p.parts)


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_imports_inside_functions_say_why():
    """An import inside a function is there to keep a heavy or optional dependency off a path
    that does not need it, never to dodge a cycle; it says so with a `# lazy:` comment."""
    unexplained = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("app"):
                    line = lines[inner.lineno - 1]
                    end = lines[(inner.end_lineno or inner.lineno) - 1]
                    if LAZY_MARKER not in line and LAZY_MARKER not in end:
                        unexplained.append(
                            f"{path.relative_to(REPO)}:{inner.lineno}: {line.strip()}"
                        )
    assert not unexplained, "imports inside functions without a reason:\n" + "\n".join(unexplained)


def test_long_modules_say_why():
    long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG and LONG_MARKER not in "\n".join(text.splitlines()[:15]):
            long.append(f"{path.relative_to(REPO)} ({text.count(chr(10))} lines)")
    assert not long, f"modules over {LONG} lines without a '{LONG_MARKER}' reason at the top:\n" + (
        "\n".join(long)
    )
