"""Highlighted snippets: HTML-escaped text with <mark> around exactly the matched characters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from app.search.normalize import fold_with_offsets
from app.search.query import Term

SNIPPET_WIDTH = 120

# (payload key, label shown before a metadata match)
_META_FIELDS = (
    ("title", "标题"),
    ("number", "文号"),
    ("case_files", "案卷"),
    ("parties", "当事人"),
    ("addressee", "主送"),
    ("reviewers", "审核人"),
    ("signatory", "签发人"),
    ("unit_name", "单位"),
    ("conclusion", "结论"),
)


def match_spans(text: str, terms: Iterable[Term]) -> list[tuple[int, int]]:
    """Spans [start, end) of *text* (original characters) where any term matches, merged."""
    folded, origin = fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        pat = term.folded
        if not pat:
            continue
        i = folded.find(pat)
        while i != -1:
            spans.append((origin[i], origin[i + len(pat) - 1] + 1))
            i = folded.find(pat, i + len(pat))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def render(
    text: str, spans: Sequence[tuple[int, int]], start: int = 0, end: int | None = None
) -> str:
    """Escape text[start:end] and wrap the given spans (clipped to the window) in <mark>."""
    end = len(text) if end is None else end
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[pos:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return "".join(out)


def _window(text: str, spans: list[tuple[int, int]], width: int) -> str:
    first_s, first_e = spans[0]
    start = max(0, first_s - width // 3)
    end = min(len(text), max(start + width, first_e))
    # never cut a mark in half
    for s, e in spans:
        if s < end < e:
            end = e
    # drop a line break right before the window so the snippet starts cleanly
    html = render(text, spans, start, end)
    html = " ".join(html.split())
    return ("…" if start > 0 else "") + html + ("…" if end < len(text) else "")


def build_snippet(payload: dict, body_terms: Sequence[Term], width: int = SNIPPET_WIDTH) -> str:
    """The snippet for one hit: a window of the body around the first match, else the
    first metadata field that matched ("审核人：<mark>张三</mark>"), else the start of the body."""
    body = payload.get("body", "")
    anywhere = [t for t in body_terms if t.field is None]
    if anywhere and body:
        spans = match_spans(body, anywhere)
        if spans:
            return _window(body, spans, width)
    for key, label in _META_FIELDS:
        value = payload.get(key)
        if not value:
            continue
        text = "、".join(value) if isinstance(value, list | tuple) else str(value)
        terms = [t for t in body_terms if t.field in (None, key)]
        spans = match_spans(text, terms) if terms else []
        if spans:
            return escape(label) + "：" + render(text, spans)
    head = " ".join(body[:width].split())
    return escape(head) + ("…" if len(body) > width else "")
