"""The Whoosh search backend against a real index in a temp dir.

The oracle everywhere is a brute-force scan: a document matches a string when the folded
string is a substring of one of its folded fields (Ctrl-F on normalised text).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.search import (
    IndexBusy,
    SearchBackend,
    SearchQuery,
    SearchScope,
    SearchUnavailable,
    get_backend,
)
from app.search.normalize import fold

from .conftest import ALL, PHRASES, make_doc

SEARCHED = ("number", "title", "unit_name", "addressee", "signatory", "conclusion", "body")


def texts(doc):
    out = [getattr(doc, f) for f in SEARCHED]
    out += ["、".join(doc.reviewers), "、".join(doc.case_files), "、".join(doc.parties)]
    return [fold(t) for t in out]


def oracle(docs, *strings, scope=ALL):
    hits = set()
    for d in docs:
        if not scope.allows(d.unit_code, d.restricted_to):
            continue
        if all(any(fold(s) in t for t in texts(d)) for s in strings):
            hits.add(d.doc_id)
    return hits


def ids(backend, text, scope=ALL, **kw):
    return set(backend.matching_ids(SearchQuery(text=text, **kw), scope))


def test_backend_satisfies_protocol(backend):
    assert isinstance(backend, SearchBackend)


# --------------------------------------------------------------------- substring semantics


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("山大", {"a"}),  # across the word boundary 狮山|大道
        ("法审", {"a", "b"}),  # inside the number 武政法审
        ("〔2026〕12号", {"a"}),
        ("[2026]12号", {"a"}),
        ("【2026】12号", {"a"}),
        ("(2026)12号", {"a"}),
        ("１２号", {"a", "b"}),  # full-width digits; 12号 is inside 112号 too
        ("审查机关", {"c"}),  # simplified query, traditional document
        ("審查", {"a", "b", "c"}),  # traditional query; every title has 审查
        ("legal opinion", {"b"}),
        ("LEGAL", {"b"}),
        ("112号", {"b"}),
        ("道", {"a"}),  # one character
    ],
)
def test_substring_semantics(backend, query, expected):
    backend.index(
        [
            make_doc(
                1, doc_id="a", number="武政法审〔2026〕12号", body="狮山大道改造，经审查合法。"
            ),
            make_doc(2, doc_id="b", number="武政法审〔2025〕112号", body="Legal Opinion 第112号"),
            make_doc(3, doc_id="c", number="禄住建函〔2024〕3号", body="審查機關依法作出決定"),
        ]
    )
    assert ids(backend, f'"{query}"') == expected


def test_precision_and_recall_against_scan(shared, corpus):
    for phrase in PHRASES:
        for start in range(0, len(phrase) - 1, 3):
            for length in (1, 2, 3, 5, 9):
                s = phrase[start : start + length]
                if not s.strip() or '"' in s:
                    continue
                assert ids(shared, f'"{s}"') == oracle(corpus, s), s


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_false_positives_or_negatives_hypothesis(shared, corpus, data):
    doc = data.draw(st.sampled_from(corpus))
    source = data.draw(st.sampled_from([doc.body, doc.number, doc.title]))
    start = data.draw(st.integers(0, max(0, len(source) - 1)))
    length = data.draw(st.integers(1, 8))
    s = source[start : start + length]
    # sometimes garble it so that near misses are tried too
    if data.draw(st.booleans()):
        s = s + data.draw(st.sampled_from(["号", "审", "1", "的", "X"]))
    if not s.strip() or '"' in s:
        return
    assert ids(shared, f'"{s}"') == oracle(corpus, s)


def test_phrase_or_and_exclusion(shared, corpus):
    both = ids(shared, "狮山大道 公职律师")
    assert both == oracle(corpus, "狮山大道") & oracle(corpus, "公职律师")
    assert ids(shared, '"法律顾问应当 在五个"') == set()  # the quoted space is literal
    either = ids(shared, "狮山大道 OR 公职律师")
    assert either == oracle(corpus, "狮山大道") | oracle(corpus, "公职律师")
    excl = ids(shared, "狮山大道 -公职律师")
    assert excl == oracle(corpus, "狮山大道") - oracle(corpus, "公职律师")
    assert ids(shared, "title:第12项") == {"d12"}
    assert "d12" not in ids(shared, "number:第12项")


# --------------------------------------------------------------------- filters, facets, pages


def test_filters(shared, corpus):
    q = "审查"
    want = oracle(corpus, q)
    by_id = {d.doc_id: d for d in corpus}
    got = ids(shared, q, doc_types=frozenset({"risk-notice"}))
    assert got == {i for i in want if by_id[i].doc_type == "risk-notice"}
    got = ids(shared, q + " year:2020-2021")
    assert got == {i for i in want if by_id[i].issued_on.year in (2020, 2021)}
    lo, hi = datetime.date(2021, 3, 1), datetime.date(2023, 6, 30)
    got = ids(shared, q, date_from=lo, date_to=hi)
    assert got == {i for i in want if lo <= by_id[i].issued_on <= hi}
    got = ids(shared, q + " reviewer:张三 conclusion:合法")
    assert got == {
        i for i in want if "张三" in by_id[i].reviewers and by_id[i].conclusion == "合法"
    }
    got = ids(shared, q, units=frozenset({"WDZF"}))
    assert got == {i for i in want if by_id[i].unit_code == "WDZF"}


def test_facets_are_exact(shared, corpus):
    res = shared.search(SearchQuery(text="法律顾问"), ALL)
    hits = [d for d in corpus if d.doc_id in oracle(corpus, "法律顾问")]
    assert res.total == len(hits)
    assert res.facets["doc_type"] == dict(Counter(d.doc_type for d in hits))
    assert res.facets["unit"] == dict(Counter(d.unit_code for d in hits))
    assert res.facets["year"] == dict(Counter(str(d.issued_on.year) for d in hits))
    assert res.facets["reviewer"] == dict(Counter(r for d in hits for r in d.reviewers))


def test_pagination_and_sort(shared, corpus):
    q = SearchQuery(text="审查", sort="date", per_page=7)
    first = shared.search(q, ALL)
    seen = []
    for page in range(1, first.pages + 1):
        seen += shared.search(replace(q, page=page), ALL).hits
    assert len(seen) == first.total == len({h.doc_id for h in seen})
    dates = [h.issued_on for h in seen]
    assert dates == sorted(dates, reverse=True)
    rel = shared.search(SearchQuery(text="第12项", per_page=3), ALL)
    assert rel.hits[0].doc_id == "d12"  # a title match ranks first


# --------------------------------------------------------------------- snippets


def test_snippet_is_escaped_and_marks_exactly_the_match(backend):
    backend.index([make_doc(1, body="前文<script>alert('x')</script>狮山大道&改造 后文")])
    res = backend.search(SearchQuery(text="山大"), ALL)
    html = res.hits[0].snippet_html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert re.findall(r"<mark>(.*?)</mark>", html) == ["山大"]
    assert "狮<mark>山大</mark>道&amp;改造" in html
    res = backend.search(SearchQuery(text="[2020]1号"), ALL)  # number written 〔2020〕1号
    assert re.findall(r"<mark>(.*?)</mark>", res.hits[0].snippet_html) == ["〔2020〕1号"]


def test_snippet_marks_original_text_for_folded_matches(backend):
    backend.index([make_doc(1, body="依據審查機關的意見，ＡＢＣ公司")])
    html = backend.search(SearchQuery(text="审查机关 abc"), ALL).hits[0].snippet_html
    assert re.findall(r"<mark>(.*?)</mark>", html) == ["審查機關", "ＡＢＣ"]


# --------------------------------------------------------------------- permissions


def test_permissions_hold_for_results_counts_facets_and_snippets(backend):
    secret = "绝密事项甲乙丙"
    backend.index(
        [
            make_doc(1, doc_id="mine", unit_code="U1", body=f"{secret} 公开"),
            make_doc(
                2,
                doc_id="foreign",
                unit_code="U2",
                reviewers=("外单位审核人",),
                body=f"{secret} 外单位",
            ),
            make_doc(
                3,
                doc_id="restricted",
                unit_code="U1",
                restricted_to=(7,),
                reviewers=("限定审核人",),
                body=f"{secret} 限定",
            ),
        ]
    )
    clerk = SearchScope(units=frozenset({"U1"}), user_id=5)
    res = backend.search(SearchQuery(text=secret), clerk)
    assert [h.doc_id for h in res.hits] == ["mine"] and res.total == 1
    assert res.facets["unit"] == {"U1": 1}
    assert (
        "外单位审核人" not in res.facets["reviewer"] and "限定审核人" not in res.facets["reviewer"]
    )
    assert sum(res.facets["doc_type"].values()) == 1
    assert backend.search(SearchQuery(text="外单位"), clerk).total == 0
    assert backend.search(SearchQuery(text="限定"), clerk).facets["reviewer"] == {}
    assert backend.similar("mine", clerk) == [] or all(h.doc_id == "mine" for h in [])
    assert {h.doc_id for h in backend.similar("mine", clerk)} <= {"mine"}
    assert backend.similar("foreign", clerk) == []  # cannot even ask about it
    # the named user sees the restricted one; an inspector sees all but the restricted
    assert ids(backend, secret, SearchScope(units=frozenset({"U1"}), user_id=7)) == {
        "mine",
        "restricted",
    }
    assert ids(backend, secret, SearchScope(units=None, user_id=None)) == {"mine", "foreign"}


# --------------------------------------------------------------------- lifecycle


def test_update_delete_and_hashes(backend):
    backend.index([make_doc(1, body="第一版"), make_doc(2)])
    backend.index([make_doc(1, body="第二版", content_hash="new")])
    assert ids(backend, "第一版") == set() and ids(backend, "第二版") == {"d1"}
    assert backend.stored_hashes() == {"d1": "new", "d2": "h2"}
    assert backend.delete("d2") is True
    assert backend.delete("d2") is False
    assert ids(backend, "审查意见书") == {"d1"}
    assert backend.stats().doc_count == 1


def test_other_instances_see_commits(tmp_path):
    writer, reader = get_backend(tmp_path / "ix"), get_backend(tmp_path / "ix")
    writer.index([make_doc(1)])
    assert reader.search(SearchQuery(text="审查"), ALL).total == 1
    writer.index([make_doc(2, body="新文件独有文字")])
    assert ids(reader, "新文件独有文字") == {"d2"}
    writer.delete("d1")
    assert reader.search(SearchQuery(text="审查"), ALL).total == 1


def test_corrupt_index_is_reported_and_rebuildable(backend, corpus, tmp_path):
    backend.index(corpus[:20])
    assert backend.check() == []
    for f in (tmp_path / "index").glob("*.seg"):
        f.write_bytes(b"garbage" * 10)
    fresh = get_backend(tmp_path / "index")
    assert fresh.check() != []
    with pytest.raises(SearchUnavailable):
        fresh.search(SearchQuery(text="审查"), ALL)
    assert fresh.rebuild(corpus[:20], procs=1) == 20
    assert fresh.check() == []
    assert fresh.search(SearchQuery(text="审查"), ALL).total == len(oracle(corpus[:20], "审查"))


def test_missing_toc_is_unavailable_not_a_crash(backend, tmp_path):
    backend.index([make_doc(1)])
    for f in (tmp_path / "index").glob("*.toc"):
        f.unlink()
    fresh = get_backend(tmp_path / "index")
    with pytest.raises(SearchUnavailable):
        fresh.search(SearchQuery(text="审查"), ALL)
    assert fresh.check()


def test_rebuild_in_parallel_matches_incremental(tmp_path, corpus):
    b = get_backend(tmp_path / "ix")
    assert b.rebuild(iter(corpus), procs=2) == len(corpus)
    assert b.stats().doc_count == len(corpus)
    for s in ("山大", "公职律师", "〔2020〕", "legal"):
        assert ids(b, s) == oracle(corpus, s)


def test_writer_lock_contention_raises_busy_and_searches_go_on(tmp_path):
    b = get_backend(tmp_path / "ix", writer_timeout=0.2)
    b.index([make_doc(1)])
    other = get_backend(tmp_path / "ix", writer_timeout=0.2)
    from whoosh.filedb.filestore import FileStorage

    lock = FileStorage(str(tmp_path / "ix")).lock("casefile_WRITELOCK")
    assert lock.acquire(False)
    try:
        with pytest.raises(IndexBusy):
            other.index([make_doc(2)])
        assert b.search(SearchQuery(text="审查"), ALL).total == 1
    finally:
        lock.release()
    other.index([make_doc(2)])
    assert b.search(SearchQuery(text="审查"), ALL).total == 2
    assert b.check() == []


def test_similar_documents(shared, corpus):
    hits = shared.similar("d3", ALL, limit=5)
    assert hits and "d3" not in {h.doc_id for h in hits}
    assert len(hits) <= 5


def test_similar_documents_follow_the_index_and_the_scope(backend):
    """More-like-this answers are remembered per commit of the index (a document page asks on
    every view): a document indexed or deleted since is seen at once, and a narrower scope
    never gets a wider scope's answer."""
    body = "国有土地上房屋征收补偿方案的合法性审查意见，征收补偿标准符合规定"
    backend.index([make_doc(1, doc_id="a", body=body), make_doc(2, doc_id="b", body=body)])
    backend.index([make_doc(i) for i in range(10, 40)])  # documents of other words
    assert "b" in {h.doc_id for h in backend.similar("a", ALL)}
    backend.index([make_doc(3, doc_id="c", body=body)])
    assert {"b", "c"} <= {h.doc_id for h in backend.similar("a", ALL)}
    backend.delete("b")
    assert "b" not in {h.doc_id for h in backend.similar("a", ALL)}
    unit_of_a = make_doc(1).unit_code
    narrow = SearchScope(units=frozenset({unit_of_a}), user_id=None)
    assert all(h.unit_code == unit_of_a for h in backend.similar("a", narrow))
    wide = backend.similar("a", ALL)
    assert "c" in {h.doc_id for h in wide}  # the wide answer still right
    assert any(h.unit_code != unit_of_a for h in wide)  # so the narrow one is not the same


# --------------------------------------------------------------------- engine internals


def test_utf16_match_straddling_two_characters_is_not_a_match(backend):
    # "法律" is D5 6C 8B 5F in UTF-16-LE; U+D541 U+8B6C U+4E5F are 41 D5 6C 8B 5F 4E:
    # the same bytes at an odd offset, which is not the string
    straddle = "\ud541\u8b6c\u4e5f"
    assert "法律".encode("utf-16-le") in straddle.encode("utf-16-le")
    backend.index(
        [
            make_doc(1, doc_id="straddle", body=straddle * 3, title="无关", number="无"),
            make_doc(2, doc_id="both", body=straddle + "，依据法律规定", title="无关", number="无"),
        ]
    )
    assert ids(backend, '"法律"') == {"both"}
    assert ids(backend, '"法律规"') == {"both"}
    assert ids(backend, '"法律规定"') == {"both"}


def test_long_posting_lists_span_many_blocks(tmp_path, monkeypatch):
    """Posting lists longer than one block (1,024) decode to exactly the right docnums,
    in every segment (a rebuild writes several per worker), with and without the
    decoded-postings cache."""
    from app.search import whoosh_writer

    monkeypatch.setattr(whoosh_writer, "SEGMENT_DOCS", 1100)
    docs = [
        make_doc(i, body=("甲乙丙丁" if i % 3 else "戊己庚") + f" 编号{i}", reviewers=())
        for i in range(3000)
    ]
    for cache_bytes in (0, 2**20):
        b = get_backend(tmp_path / f"big{cache_bytes}", cache_bytes=cache_bytes)
        b.rebuild(docs, procs=2)
        assert b.stats().segment_count >= 3
        final = [*docs[:6], replace(docs[6], body="甲乙丙丁 改写"), *docs[7:]]
        b.index([final[6]])  # a third segment, and a deletion in the first
        for _ in range(2):  # the second round reads through the cache, when there is one
            for text in ("甲乙", "甲乙丙", "甲乙丙丁", "戊己庚", "编号1", "编号29", "改写"):
                assert ids(b, f'"{text}"') == oracle(final, text), text
        assert b.search(SearchQuery(text='"甲乙丙"'), ALL).total == 2001
        b.close()


def test_posting_lists_decode_as_whoosh_reads_them(tmp_path):
    """Every gram's docnums and weights, read from the blocks' bytes (dense lists) or
    unpickled (sparse ones), are what Whoosh's own matcher reads posting by posting."""
    from app.search.whoosh_postings import read_postings

    docs = [make_doc(i, body=("甲乙丙丁" * (1 + i % 3) if i % 5 else "戊己") + f"编号{i * 7919}",
                     title="审查意见" if i % 2 else "另一标题", reviewers=()) for i in range(2500)]  # fmt: skip
    b = get_backend(tmp_path / "ix")
    b.rebuild(docs, procs=1)
    reader = b._current_leaves()[0].reader
    decoded = 0
    for term in reader.lexicon("g"):
        m = reader.postings("g", term)
        want_ids, want_ws = [], []
        while m.is_active():
            want_ids.append(m.id())
            want_ws.append(m.weight())
            m.next()
        ids, ws = read_postings(reader, term.decode("utf-8"), weights=True)
        assert ids.tolist() == want_ids and ws.tolist() == want_ws, term.decode("utf-8")
        assert read_postings(reader, term.decode("utf-8"), weights=False)[0].tolist() == want_ids
        decoded += len(want_ids)
    assert decoded > 100_000  # many blocks of 1,024, dense and sparse
    b.close()


def test_relevance_ties_are_broken_by_date_across_pages(shared, corpus):
    q = SearchQuery(text="审查", per_page=9)
    first = shared.search(q, ALL)
    seen = []
    for page in range(1, first.pages + 1):
        seen += shared.search(replace(q, page=page), ALL).hits
    assert len({h.doc_id for h in seen}) == first.total == len(oracle(corpus, "审查"))
    keys = [(h.score, h.issued_on) for h in seen]
    assert keys == sorted(keys, reverse=True)


def test_many_small_commits_merge_and_stay_exact(backend):
    """The outbox commits one document at a time; Whoosh then merges small segments by
    reading our blocks back through its own reader (constant-weight blocks included)."""
    docs = [
        make_doc(i, body=f"狮山大道{'改造' * (1 + i % 3)}项目 编号{i}", reviewers=())
        for i in range(40)
    ]
    for d in docs:
        backend.index([d])
    assert backend.stats().segment_count < 40  # merged
    for text in ("狮山大道", "改造改造", "编号1", "项目 编号", "大"):
        assert ids(backend, f'"{text}"') == oracle(docs, text), text
    assert backend.check(deep=True) == []


def test_segment_files_are_read_in_place_not_copied(shared):
    """Whoosh would copy every mmapped part of a segment into a BytesIO (the whole index
    in anonymous memory); app.search.whoosh_io reads the view in place."""
    from whoosh.filedb.structfile import BufferFile

    from app.search.whoosh_io import ViewFile

    f = BufferFile(memoryview(b"line one\nline two\n\x80\x03K\x05."), name="t")
    assert isinstance(f.file, ViewFile)
    assert f.readline() == b"line one\n" and f.tell() == 9
    f.seek(-5, 2)
    assert f.read_pickle() == 5
    f.seek(5)
    assert f.read(3) == b"one" and f.read(0) == b""
    f.close()
    leaf = shared._current_leaves()[0]
    assert isinstance(leaf.reader.column_reader("nt").raw_column()._dbfile.file, ViewFile)
