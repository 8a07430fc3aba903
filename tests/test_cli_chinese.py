"""The command line speaks Chinese: every command's --help, argparse's own headings and its error
lines hold no English word. What the user types stays Latin and is allowed: the program name,
command and option names, and the values an option accepts (its choices). The rule is the web
pages' (test_ui_chinese.leaks), with its allow-list of formats, identifiers and file names.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re

import pytest
from test_ui_chinese import leaks

from app.cli import build_parser, main

pytestmark = pytest.mark.engine_neutral

# Latin a user types, beyond command and option names and choices, each with its reason:
# - JSON: the format of the data files the user writes (--data) and of --json output;
# - PostgreSQL: the database the administrator installs, named as its own tools name it;
# - attachment, document.read: values typed to --type and --action (no fixed list of choices);
# - entry: the literal of --subject entry:编号;
# - environment variables the administrator sets (CASEFILE_INDEX_FOLLOW).
TYPED = {"JSON", "PostgreSQL", "attachment", "document.read", "entry"}
ENV_VAR = re.compile(r"CASEFILE_[A-Z_]+")


def _parsers(parser: argparse.ArgumentParser):
    """Every parser of the tree, the top one first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _parsers(child)


def _typed_words(parser: argparse.ArgumentParser) -> set[str]:
    """What a user types, so Latin by nature: command names, option names, choices."""
    words = {"casefile"} | TYPED
    for p in _parsers(parser):
        for action in p._actions:
            words |= {s.lstrip("-") for s in action.option_strings}
            words |= {str(c) for c in action.choices or ()}
    return words


def test_every_help_page_is_chinese():
    parser = build_parser()
    typed = _typed_words(parser)
    problems = {}
    pages = 0
    for p in _parsers(parser):
        page = p.format_help()
        pages += 1
        assert "用法：" in page and "显示本帮助并退出" in page and "\n选项：\n" in page, p.prog
        found = {w for w in leaks(page, typed) if not ENV_VAR.fullmatch(w)}
        if found:
            problems[p.prog] = sorted(found)
    assert pages > 60, pages  # the walk reached the subcommands
    assert not problems, f"English in --help: {problems}"


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["nonesuch"], "无效的选项"),
        (["numbers", "raise", "武政法审"], "缺少必需的参数"),
        (["numbers", "raise", "武政法审", "year", "3"], "无效的值"),
        (["numbers", "status", "--bogus"], "无法识别的参数"),
    ],
)
def test_error_lines_are_chinese(argv, expect):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    text = err.getvalue()
    assert expect in text and "错误：" in text, text
    assert not leaks(text, _typed_words(build_parser()) | {"year", "nonesuch", "bogus"}), text


def test_help_texts_stand_in_one_column_on_a_terminal():
    """A Chinese character takes two columns: the help after `--as 用户名` lines up with the
    help after `--json` (argparse alone would pad by length and push it left)."""
    from app.cli.zh import _width

    sub = {p.prog: p for p in _parsers(build_parser())}
    for prog in ("casefile draft new", "casefile numbers raise"):
        columns = set()
        for line in sub[prog].format_help().splitlines():
            m = re.match(r"(  \S.*?\S)  +(\S.*)$", line)
            if m and line.lstrip().startswith(("-", "机关", "年度", "号数")):
                columns.add(_width(line[: m.start(2)]))
        assert len(columns) == 1, (prog, columns)
