"""argparse's own words in Simplified Chinese: usage line, section headings, -h, error lines.

argparse looks its messages up through `gettext` at the moment it uses them (module globals `_`
and `ngettext`), so pointing those two at this table translates every heading and error the
command line prints, without a compiled catalogue or a copy of argparse's formatting code.
Only the `casefile` process installs it (build_parser); an unknown message passes through.
"""

from __future__ import annotations

import argparse
import re
import unicodedata

MESSAGES = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的值：%(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "至多需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须给出其一",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "ignored explicit argument %r": "多余的值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可选：%(choices)s）",
}  # fmt: skip


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def install() -> None:
    """argparse speaks Chinese from now on in this process."""
    argparse._ = gettext
    argparse.ngettext = ngettext


# What a value is called in --help and in error lines, by the option's dest (argparse would
# show the dest itself, or in capitals: UNIT, YEAR). A module names a value itself where the
# same dest means something else (`numbers raise CODE` is a 机关代字, not a unit code).
DATE = "年-月-日"
VALUE_NAMES = {
    "as_user": "用户名", "username": "用户名", "user": "用户名", "actor": "用户名",
    "lawyer": "律师用户名", "unit": "单位代码", "co_sign": "单位代码", "parent": "上级单位代码",
    "code": "单位代码", "doc_code": "机关代字", "name": "名称", "label": "名称",
    "template_id": "模板标识", "template": "模板标识", "add": "模板标识",
    "docx": "文件.docx", "schema": "文件.yaml", "sample": "文件.json", "version": "版本号",
    "out": "路径", "limit": "条数", "action": "操作代码", "folder": "文件夹",
    "title": "标题", "responsible": "责任者", "document": "文书编号", "file": "文件",
    "date": DATE, "date_from": DATE, "date_to": DATE, "deadline": DATE, "served": DATE,
    "received": DATE, "reviewed": DATE, "meeting": DATE, "decided": DATE,
    "number": "文号", "reply_to": "条目编号", "item": "条目编号", "remove": "条目编号",
    "case": "案卷编号", "case_file": "案卷编号", "position": "位置", "note": "备注",
    "pdf": "文件.pdf", "package": "文件.zip", "xlsx": "文件.xlsx", "id": "编号",
    "query": "检索词", "q": "检索词", "type": "文书类型", "page": "页码", "per_page": "每页条数",
    "status": "状态", "state": "状态", "reason": "理由", "comment": "意见", "text": "内容",
    "data": "数据文件", "opinion_file": "意见文件", "draft": "草稿编号", "matter": "事务编号",
    "specialty": "专业领域", "deployment": "调配编号", "body": "机关", "parties": "当事人",
    "party_role": "诉讼地位", "case_number": "案号", "deadline_label": "期限名称",
    "licence": "执业证号", "phone": "电话", "host": "地址", "port": "端口",
    "processes": "进程数", "threads": "线程数", "year": "年度", "quarter": "季度",
    "half": "半年", "expiring": "天数", "window": "天数", "entry": "入库编号",
    "subject": "entry:编号|user:编号", "hours": "小时数", "assessment": "考核编号",
    "set": "指标=权重", "ability": "分数", "quality": "分数", "efficiency": "分数", "n": "号数",
}  # fmt: skip


def name_values(parser: argparse.ArgumentParser) -> None:
    """Give every value of the tree without a name of its own (and without a list of choices,
    which argparse shows instead) its Chinese name from VALUE_NAMES."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                name_values(child)
        elif action.nargs != 0 and action.metavar is None and action.choices is None:
            action.metavar = VALUE_NAMES.get(action.dest)


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: two for a Chinese character."""
    return len(text) + sum(unicodedata.east_asian_width(c) in "WF" for c in text)


class Formatter(argparse.HelpFormatter):
    """argparse pads an option's name to its help by len(); a Chinese character takes two
    columns of a terminal, so the padding after a Chinese value name (`--as 用户名`) is
    shortened by one space per such character, keeping the help texts in one column."""

    def format_help(self) -> str:
        # a section heading ends with argparse's ASCII colon: a Chinese one after Chinese words
        return re.sub(r"^(\S.*[\u4e00-\u9fff]):$", r"\1：", super().format_help(), flags=re.M)

    def add_argument(self, action):
        """The help column is placed by the names' width on screen, not their length."""
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            shown = _width(self._format_action_invocation(action)) + self._current_indent
            self._action_max_length = max(self._action_max_length, shown)

    def _format_action(self, action):
        text = super()._format_action(action)
        header = " " * self._current_indent + self._format_action_invocation(action)
        wide = _width(header) - len(header)
        gap = len(text) - len(text[len(header) :].lstrip(" ")) - len(header)
        if not wide or not text.startswith(header) or text[len(header) + gap] == "\n":
            return text  # no Chinese, or the help is on lines of its own already
        if gap - wide >= 2:
            return header + text[len(header) + wide :]
        # too wide for the column once shown: the help goes to the next line, as argparse does
        return header + "\n" + " " * (len(header) + gap) + text[len(header) + gap :]


class Parser(argparse.ArgumentParser):
    """The `casefile` parser; its subcommands' parsers are of the same class."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
