"""Trigram positions (app/search/whoosh_positions.py) against a brute-force scan."""

from __future__ import annotations

import random

import numpy as np
import pytest

from app.search import SearchQuery, SearchUnavailable, get_backend
from app.search import whoosh_positions as wp
from app.search.whoosh_positions import Positions, write_positions

from .conftest import ALL, make_doc

SEP = "\x1f"
# a small alphabet, so that near misses are common: Han, Latin, digits, a space, brackets and
# a character outside the BMP (two UTF-16 code units)
ALPHABET = list("法律顾问审查ab1 ()") + ["\U00020000"]


def occurrences(text: str, pattern: str) -> list[int]:
    out, i = [], text.find(pattern)
    while i >= 0:
        out.append(i)
        i = text.find(pattern, i + 1)
    return out


def random_doc(rng: random.Random) -> str:
    fields = ["".join(rng.choices(ALPHABET, k=rng.randint(0, 40))) for _ in range(4)]
    return SEP.join(fields)


class _Unpacked(wp._Packing):
    def __init__(self, units):
        super().__init__(units)
        self.max_units = 50  # every document is longer: trigrams sorted the slow way


@pytest.mark.parametrize("mode", ["packed", "wide", "unpacked"])
def test_positions_match_a_scan(tmp_path, monkeypatch, mode):
    """Documents, occurrence counts and the number/title boost, over several parts, with a
    scope mask, in 32-bit and 64-bit offsets, sorted packed or not."""
    if mode != "packed":  # many parts of a few documents, which most patterns occur in more
        # often than there are documents (the other way of finding the documents)
        monkeypatch.setattr(wp, "PART_UNITS", 700)
    if mode == "wide":
        monkeypatch.setattr(wp, "POS32_LIMIT", 0)
    if mode == "unpacked":
        monkeypatch.setattr(wp, "_Packing", _Unpacked)
    rng = random.Random(17)
    docs = [random_doc(rng) for _ in range(300)]
    path = str(tmp_path / "x.tpos")
    write_positions(path, [d.encode("utf-16-le", "surrogatepass") for d in docs])
    pos = Positions(path, len(docs))
    assert len(pos.parts) > 5 or mode == "packed"
    base = np.array([rng.random() < 0.8 for _ in docs])
    patterns = set()
    while len(patterns) < 300:
        d = rng.choice(docs)
        start = rng.randint(0, max(0, len(d) - 3))
        p = d[start : start + rng.randint(3, 9)]
        if rng.random() < 0.3:  # a near miss
            p = p[:-1] + rng.choice(ALPHABET)
        if SEP not in p and len(p.encode("utf-16-le", "surrogatepass")) >= 6:
            patterns.add(p)
    for p in sorted(patterns):
        hits, scores = pos.match(p, base, want_scores=True)
        want_docs, want_scores = [], []
        for i, d in enumerate(docs):
            at = occurrences(d, p)
            if at and base[i]:
                title_end = len(SEP.join(d.split(SEP)[:2]))
                want_docs.append(i)
                want_scores.append(len(at) + (20 if at[0] < title_end else 0))
        assert hits.tolist() == want_docs, p
        assert scores.tolist() == want_scores, p
        assert pos.match(p, base, want_scores=False)[0].tolist() == want_docs
    pos.close()


def test_a_phrase_with_spaces_and_merged_segments(backend):
    docs = [make_doc(i, body=f"第 {i} 条 依法 审查", reviewers=()) for i in range(30)]
    for d in docs:
        backend.index([d])  # one commit each: Whoosh merges small segments
    assert backend.stats().segment_count < 30
    found = backend.matching_ids(SearchQuery(text='"第 1 条"'), ALL)
    assert found == ["d1"]
    assert len(backend.matching_ids(SearchQuery(text='"条 依法 审"'), ALL)) == 30


def test_a_missing_positions_file_is_reported_and_rebuilt(tmp_path):
    b = get_backend(tmp_path / "ix")
    b.index([make_doc(i) for i in range(5)])
    assert b.check(deep=True) == []
    for f in (tmp_path / "ix").glob("*.tpos"):
        f.unlink()
    b.close()
    b = get_backend(tmp_path / "ix")
    assert any("tpos" in p for p in b.check())
    with pytest.raises(SearchUnavailable):
        b.search(SearchQuery(text="审查意见"), ALL)
    b.rebuild([make_doc(i) for i in range(5)])
    assert b.check(deep=True) == []
    assert b.search(SearchQuery(text="审查意见"), ALL).total == 5
    b.close()
