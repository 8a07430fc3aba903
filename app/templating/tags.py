"""The Jinja tags of a DOCX, paragraph by paragraph (模板标签检查).

Jinja reports a missing `{% endif %}` at the end of the document and docxtpl's XML has no
useful line numbers, so an author learns nothing from its message. Here each tag is parsed on
its own and the blocks are matched across paragraphs, so every problem names the paragraph
(number and text) where it is, and an unclosed block names the paragraph where it opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from app.templating import advice

STATEMENT = re.compile(r"\{%-?\s*(?:(?:p|tr|tc|r)\s+)?(.*?)\s*-?%\}", re.S)
EXPRESSION = re.compile(r"\{\{-?\s*(?:[rp]\s+)?(.*?)\s*-?\}\}", re.S)
BLOCKS = {"if", "for", "macro", "call", "filter", "with", "autoescape", "raw"}
MIDDLE = {"else": {"if", "for"}, "elif": {"if"}}
KNOWN_TAGS = sorted(BLOCKS | {f"end{b}" for b in BLOCKS} | set(MIDDLE) | {"set", "endset"})


@dataclass
class TagCheck:
    problems: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # template inputs the tags read (approximate)


def excerpt(text: str, size: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size] + "…"


def _reason(exc: TemplateSyntaxError, env: SandboxedEnvironment) -> str:
    """Jinja's message in Chinese, with a suggestion where one helps."""
    msg = exc.message or ""
    if m := re.search(r"No filter named '([^']+)'", msg):
        return f"未知的过滤器“{m[1]}”" + advice.did_you_mean(m[1], env.filters)
    if m := re.search(r"No test named '([^']+)'", msg):
        return f"未知的判断“{m[1]}”" + advice.did_you_mean(m[1], env.tests)
    if m := re.search(r"unknown tag '([^']+)'", msg):
        return f"未知的标签“{m[1]}”" + advice.did_you_mean(m[1], KNOWN_TAGS)
    if m := re.search(r"expected token '([^']+)', got '([^']+)'", msg):
        return f"“{m[2]}”处写法有误（可能缺少运算符、逗号或引号）"
    if m := re.search(r"unexpected '([^']+)'", msg):
        return f"不应出现“{m[1]}”"
    if "unexpected end of template" in msg or "Unexpected end of template" in msg:
        return "表达式不完整"
    if "unexpected char" in msg:
        return "含有不能出现在标签中的字符（请检查是否用了中文标点或全角符号）"
    return "标签无法解析，请对照 docs/templates.md 的写法检查"


def _parse(env: SandboxedEnvironment, source: str) -> nodes.Template:
    tree = env.parse(source)
    env.compile(tree)  # unknown filters and tests are found when compiling
    return tree


def check_tags(paragraphs: list[tuple[str, str]]) -> TagCheck:
    """`paragraphs`: (where, text) in document order, e.g. ("正文第12段", "…")."""
    env = SandboxedEnvironment(autoescape=True)
    out = TagCheck()
    stack: list[tuple[str, str, str]] = []  # (keyword, where, paragraph text)
    loop_vars: set[str] = set()

    def at(where: str, text: str) -> str:
        return f"{where}（“{excerpt(text)}”）"

    def read(source: str, where: str, text: str, tag: str) -> None:
        try:
            tree = _parse(env, source)
        except TemplateSyntaxError as exc:
            out.problems.append(f"{at(where, text)}：标签“{tag}”有误：{_reason(exc, env)}")
            return
        for node in tree.find_all(nodes.For):
            targets = [node.target, *node.target.find_all(nodes.Name)]
            loop_vars.update(n.name for n in targets if isinstance(n, nodes.Name))
        out.names.update(meta.find_undeclared_variables(tree))

    for where, text in paragraphs:
        spans = sorted(
            [(m.start(), "stmt", m) for m in STATEMENT.finditer(text)]
            + [(m.start(), "expr", m) for m in EXPRESSION.finditer(text)],
            key=lambda item: item[0],
        )
        for _, kind, m in spans:
            tag = m.group(0)
            body = m.group(1).strip()
            if kind == "expr":
                read("{{ " + body + " }}", where, text, tag)
                continue
            keyword, _, rest = body.partition(" ")
            if keyword in BLOCKS or (keyword == "set" and "=" not in rest):
                stack.append((keyword, where, text))
                if keyword in ("if", "for"):
                    read(f"{{% {body} %}}{{% end{keyword} %}}", where, text, tag)
            elif keyword in MIDDLE:
                if not stack or stack[-1][0] not in MIDDLE[keyword]:
                    out.problems.append(
                        f"{at(where, text)}：“{tag}”不在任何 {{% if %}} 块之内，请删去或补上对应的 if"
                    )
                elif keyword == "elif":
                    read(f"{{% if {rest} %}}{{% endif %}}", where, text, tag)
            elif keyword.startswith("end"):
                opened = keyword[3:]
                if not stack:
                    out.problems.append(
                        f"{at(where, text)}：“{tag}”没有对应的开始标签 {{% {opened} … %}}，请删去或补上开始标签"
                    )
                elif stack[-1][0] != opened:
                    kw, open_where, open_text = stack[-1]
                    out.problems.append(
                        f"{at(where, text)}：“{tag}”与{at(open_where, open_text)}开始的 {kw} 块不配对："
                        f"请先用 {{% end{kw} %}} 结束 {kw}"
                    )
                    if any(k == opened for k, _, _ in stack):
                        while stack and stack[-1][0] != opened:
                            stack.pop()
                        stack.pop()
                else:
                    stack.pop()
            elif keyword == "set":
                read("{% " + body + " %}", where, text, tag)
                target = rest.split("=", 1)[0].strip()
                loop_vars.update(n.strip() for n in target.split(","))
            else:
                out.problems.append(
                    f"{at(where, text)}：未知的标签“{tag}”"
                    + advice.did_you_mean(keyword, KNOWN_TAGS)
                )
    for keyword, where, text in stack:
        out.problems.append(
            f"{at(where, text)}开始的 {keyword} 块没有结束：请在块末另起一段写 "
            f"{{%p end{keyword} %}}（段内的块写 {{% end{keyword} %}}）"
        )
    out.names -= loop_vars
    return out
