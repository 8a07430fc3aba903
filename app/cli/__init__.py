"""`casefile` command line. Every command takes --json; `--as USER` acts under the web's rules.

Exit codes: 0 success, 1 verification found problems, 2 bad input or a refused action.
Commands run without --as act as the server operator (who owns the files anyway).

One module per command group, each adding its subcommands with `register(sub, common, acting)`;
they call the same services as the web and the API and print what app/presenters shapes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from app import bootstrap
from app.cli import (
    admin,
    audit,
    backup,
    casefiles,
    documents,
    drafts,
    matters,
    numbers,
    registers,
    server,
    supervision,
    zh,
)
from app.cli.common import CliError
from app.config import ConfigError, Settings
from app.container import open_casefile
from app.errors import WorkflowError

COMMAND_GROUPS = (
    admin,
    server,
    drafts,
    documents,
    casefiles,
    registers,
    numbers,
    backup,
    audit,
    matters,
)
COMMAND_GROUPS += (supervision,)


def build_parser() -> argparse.ArgumentParser:
    zh.install()  # before the parsers are built: their headings are looked up then
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="以 JSON 输出，供程序读取")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--as", dest="as_user", help="以该用户的身份办理")

    parser = zh.Parser(prog="casefile", description="casefile: 公文生成、审核与案卷归档")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="group", required=True, metavar="命令")
    for group in COMMAND_GROUPS:
        group.register(sub, common, acting)
    zh.name_values(parser)
    return parser


# the status of a command killed by SIGPIPE (128 + 13), as the shell reports it
BROKEN_PIPE_STATUS = 141


def main(argv: list[str] | None = None) -> int:
    """Run one command. A reader that stops early (`casefile search … | head -1`) ends it
    quietly, with the shell's SIGPIPE status and no traceback."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # what is still buffered fails here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader is gone: point stdout at /dev/null so the final flush at exit is silent too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE_STATUS


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    cf = open_casefile(settings)
    try:
        if getattr(args, "needs_store", True) and not bootstrap.is_initialised(cf):
            raise CliError("档案库尚未初始化，请先运行 casefile init（或 make run）")
        return args.func(cf, args)
    except (CliError, WorkflowError) as exc:
        report_error(args, exc)
        return exc.code if isinstance(exc, CliError) else 2
    finally:
        cf.close()


def report_error(args, exc: CliError | WorkflowError) -> None:
    """A refusal or bad input: JSON on stdout with --json, else the reason on stderr."""
    if args.json:
        code = exc.code if isinstance(exc, WorkflowError) else "cli_error"
        print(json.dumps({"error": code, "message": exc.message, "errors": exc.errors},
                         ensure_ascii=False, indent=2), file=sys.stdout)  # fmt: skip
        return
    print(f"错误：{exc.message}", file=sys.stderr)
    for e in exc.errors:
        print(f"  - {e.get('label', e.get('field'))}（{e.get('field')}）：{e['message']}",
              file=sys.stderr)  # fmt: skip
