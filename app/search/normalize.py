"""Text normalisation shared by documents and queries (检索归一化).

Search has Ctrl-F semantics on *normalised* text: a query matches a document when
``fold(query)`` is a substring of ``fold(field)``.  ``fold`` works character by
character, so it is a homomorphism (``fold(a + b) == fold(a) + fold(b)``): whenever the
raw query is a substring of the raw text, the folded query is a substring of the folded
text.  That is what makes recall exact; applying the same function to both sides is
what makes the equivalences below symmetric.

Per character, in this order:

* Unicode NFKC (full-width letters and digits, compatibility ideographs, ㈠ → (一));
* case folding for Latin (and Greek, Cyrillic);
* the bracket family used in document numbers, 〔〕 [] 【】 （） () ［］ 〖〗 ﹝﹞ 〘〙 ⦅⦆,
  all fold to ``(`` and ``)``;
* traditional → simplified Chinese, character by character (OpenCC's t2s applied to
  the single character: 審 → 审, 發/髮 → 发);
* every whitespace or control character → one space; format characters (zero-width
  space, soft hyphen, BOM) are dropped.
"""

from __future__ import annotations

import operator
import re
import threading
import unicodedata
from collections.abc import Iterator

# Field separator in the stored verification text.  fold() never produces it (control
# characters fold to a space), so no query can match across two fields.
FIELD_SEP = "\x1f"

_SPLIT = re.compile("[ \x1f]+").split
_add = operator.add


def _add3(a: str, b: str, c: str) -> str:
    return a + b + c


_OPEN = "([【〔〖﹝〘⦅［（｟「"
_CLOSE = ")]】〕〗﹞〙⦆］）｠」"
# 「」 are quotation brackets, not number brackets: keep them out of the family.
_BRACKETS = {ch: "(" for ch in _OPEN if ch != "「"} | {ch: ")" for ch in _CLOSE if ch != "」"}

_t2s_lock = threading.Lock()
_t2s_converter = None


def _t2s(ch: str) -> str:
    global _t2s_converter
    if _t2s_converter is None:
        with _t2s_lock:
            if _t2s_converter is None:
                import opencc

                _t2s_converter = opencc.OpenCC("t2s")
    out = _t2s_converter.convert(ch)
    # Keep the mapping length-preserving; OpenCC never maps one character to several,
    # but if a future dictionary did we would rather not fold than break offsets.
    return out if len(out) == 1 else ch


def fold_char(ch: str) -> str:
    """Fold one character (see the module docstring)."""
    cat = unicodedata.category(ch)
    if cat == "Cf":
        return ""
    if ch.isspace() or cat == "Cc":
        return " "
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = _BRACKETS.get(c, c)
        if c.isspace() or unicodedata.category(c) == "Cc":
            c = " "
        elif "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or c >= "\U00020000":
            c = _t2s(c)
        out.append(c)
    return "".join(out)


class _FoldTable(dict):
    """str.translate table that fills itself lazily (str.translate honours __missing__)."""

    def __missing__(self, code: int) -> str:
        global _SHIFTING
        folded = fold_char(chr(code))
        if len(folded) != 1:
            _NOT_ONE_TO_ONE.add(chr(code))
            _SHIFTING = re.compile("[" + re.escape("".join(sorted(_NOT_ONE_TO_ONE))) + "]")
        self[code] = folded
        return folded


# characters that fold to nothing or to several characters (offsets shift after them);
# _SHIFTING finds any of them (a character class search is ~30x faster than a set test
# over a whole document, and snippets make that test for every hit on a page)
_NOT_ONE_TO_ONE: set[str] = set()
_SHIFTING = re.compile("(?!)")


_TABLE = _FoldTable()
# ASCII fast path, filled eagerly so the common case never calls __missing__.
for _c in range(128):
    _TABLE[_c] = fold_char(chr(_c))


def fold(text: str) -> str:
    """Normalise *text* for matching (documents and queries alike)."""
    return text.translate(_TABLE)


def fold_with_offsets(text: str) -> tuple[str, list[int] | range]:
    """Fold *text* and map every folded character back to its source index.

    ``origin[j]`` is the index in *text* of the character that produced folded
    character ``j``; used to put highlight marks around exactly the matched original
    characters.
    """
    folded = text.translate(_TABLE)
    if len(folded) == len(text) and not _SHIFTING.search(text):
        return folded, range(len(text))
    out: list[str] = []
    origin: list[int] = []
    table = _TABLE
    for i, ch in enumerate(text):
        f = table[ord(ch)]
        if len(f) == 1:
            out.append(f)
            origin.append(i)
        elif f:
            out.append(f)
            origin.extend([i] * len(f))
    return "".join(out), origin


GRAM_MAX = 3  # index terms are runs of 1, 2 and 3 characters


def chunk_grams(chunk: str) -> Iterator[str]:
    """Every character, overlapping pair and overlapping triple of a space-free chunk."""
    yield from chunk
    yield from map(_add, chunk, chunk[1:])
    yield from map(_add3, chunk, chunk[1:], chunk[2:])


def grams(folded: str) -> set[str]:
    """Index terms of an already folded text: every run of one, two and three
    characters, leaving out any that contain a space.

    Han, Latin, digits and punctuation are treated alike, which is what gives substring
    semantics for "12号" inside "112号" or "法审" inside "武政法审".
    """
    out: set[str] = set()
    for chunk in _SPLIT(folded):
        if chunk:
            out.update(chunk_grams(chunk))
    return out


def query_grams(folded: str) -> list[str]:
    """Terms that every document containing *folded* must have (candidate generation).

    For each space-free chunk: its overlapping triples, or the chunk itself when it is
    shorter than three characters.
    """
    out: set[str] = set()
    for chunk in _SPLIT(folded):
        if len(chunk) <= GRAM_MAX:
            if chunk:
                out.add(chunk)
        else:
            out.update(map(_add3, chunk, chunk[1:], chunk[2:]))
    return sorted(out)


def is_exact_gram(folded: str) -> bool:
    """True when the posting list of the single gram *is* the answer (no verification)."""
    return 1 <= len(folded) <= GRAM_MAX and " " not in folded and FIELD_SEP not in folded


# ---- OCR output (识别文字) ------------------------------------------------------------------
# What text recognition typically gets wrong in this domain, put right before the text is
# stored, indexed and laid under the scanned page. fold() already makes 〔〕/[]/() and
# full-width digits equal for matching; this makes the stored text read as typed text does,
# so that a query typed as usual ("武政法审〔2026〕1号") is a substring of it.

_WIDE_ALNUM = {c: c - 0xFEE0 for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                        *range(0xFF41, 0xFF5B))}  # fmt: skip
_WIDE_ALNUM[0x3000] = 0x20  # ideographic space
# a character of Chinese text: Han, CJK punctuation and symbols, full-width forms
_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_SPACE_BY_CJK = re.compile(f"(?<=[{_CJK}])[ \t]+|[ \t]+(?=[{_CJK}])")
_NUMBER_OPEN = re.escape("".join(ch for ch in _OPEN if ch != "「") + "<〈{")
_NUMBER_CLOSE = re.escape("".join(ch for ch in _CLOSE if ch != "」") + ">〉}")
# 发文字号: 机关代字, the year in any bracket OCR reads, the serial, 号 (or what it is misread as)
_DOC_NUMBER = re.compile(
    rf"(?P<code>[\u4e00-\u9fff]{{1,12}})[ \t]*[{_NUMBER_OPEN}][ \t]*(?P<year>[12][0-9OoIl]{{3}})"
    rf"[ \t]*[{_NUMBER_CLOSE}][ \t]*(?P<serial>[0-9]{{1,5}})[ \t]*(?P<hao>[号弓亏与兮])"
)
_DIGIT_LOOKALIKES = str.maketrans("OoIl", "0011")


def _doc_number(m: re.Match) -> str:
    year = m["year"].translate(_DIGIT_LOOKALIKES)
    return f"{m['code']}〔{year}〕{m['serial']}号"


def tidy_ocr_line(line: str) -> str:
    """One line of recognised text as typed text would read: full-width letters and digits
    as ASCII, no space next to a Chinese character (engines put spaces between characters
    and around numbers), and a document number's brackets and 号 as GB/T 9704 writes them
    (武政法审[2026]1号, (2026), 【2026】, 〔2O26〕… and 号 read as 弓/亏/与 become
    武政法审〔2026〕1号)."""
    line = unicodedata.normalize("NFC", line).translate(_WIDE_ALNUM)
    line = _SPACE_BY_CJK.sub("", line.strip())
    return _DOC_NUMBER.sub(_doc_number, line)
