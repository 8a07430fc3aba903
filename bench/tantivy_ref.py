"""Tantivy as a second reference for bench/search.py: the same folded text, the same queries,
exact answers (issue 17).

Built as the issue describes it: three pre-tokenised fields, single characters (`g1`), bigrams
(`g2`) and trigrams with positions (`g3`), made in Python from the folded fields; a term query
for a string of 1–2 characters and a phrase of its overlapping trigrams for a longer one; the
filters and the scope as boolean clauses; the four facets as terms aggregations. Grams never
span two fields (nor a space): in `g3` a filler token, longer than any trigram, stands where a
trigram would, so positions stay exact and no phrase can run across it.

Bench-only: `pip install tantivy` (the `bench` extra in pyproject.toml); the suite never needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from app.search import IndexDoc, SearchQuery
from app.search.normalize import FIELD_SEP
from app.search.query import parse_query

FILLER = "\x1e\x1e\x1e\x1e"  # four characters: never equal to a query's trigram


def available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


def grams(folded: str) -> tuple[str, str, str]:
    """The three pre-tokenised fields of a document's folded text (fields joined by
    FIELD_SEP), as whitespace-separated tokens."""
    g1: list[str] = []
    g2: list[str] = []
    g3: list[str] = []
    for part in folded.split(FIELD_SEP):
        g1.extend(c for c in part if c != " ")
        g2.extend(b for b in map(str.__add__, part, part[1:]) if " " not in b)
        tri = [part[i : i + 3] for i in range(len(part) - 2)]
        g3.extend(t if " " not in t else FILLER for t in tri)
        g3.append(FILLER)  # no phrase runs from one field into the next
    return " ".join(g1), " ".join(g2), " ".join(g3)


class TantivyRef:
    def __init__(self, path: Path, threads: int = 2):
        import tantivy

        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("num", fast=True)  # the document's number in the corpus
        sb.add_text_field("g1", tokenizer_name="whitespace", index_option="basic")
        sb.add_text_field("g2", tokenizer_name="whitespace", index_option="basic")
        sb.add_text_field("g3", tokenizer_name="whitespace", index_option="position")
        for name in ("doc_type", "unit", "reviewer"):
            sb.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
        sb.add_integer_field("year", indexed=True, fast=True)
        sb.add_integer_field("date", fast=True)
        sb.add_integer_field("restricted", indexed=True)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.threads = threads
        self.writer = None

    def add(self, nums: Iterable[int], docs: Iterable[IndexDoc], texts: Iterable[str]) -> None:
        """Add documents (their corpus numbers, IndexDocs and folded texts); commit() after."""
        t = self.t
        if self.writer is None:
            self.writer = self.index.writer(heap_size=256_000_000 * self.threads,
                                            num_threads=self.threads)  # fmt: skip
        for num, d, text in zip(nums, docs, texts, strict=True):
            g1, g2, g3 = grams(text)
            doc = t.Document(num=num, g1=g1, g2=g2, g3=g3, doc_type=d.doc_type, unit=d.unit_code,
                             year=d.issued_on.year, date=d.issued_on.toordinal(),
                             restricted=int(bool(d.restricted_to)))  # fmt: skip
            for r in d.reviewers:
                doc.add_text("reviewer", r)
            self.writer.add_document(doc)

    def commit(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = None
        self.index.reload()
        self.searcher = self.index.searcher()

    def _term(self, s: str):
        Q, schema = self.t.Query, self.schema
        if " " in s:
            raise ValueError(f"the bench's queries have no spaces: {s!r}")
        if len(s) == 1:
            return Q.term_query(schema, "g1", s)
        if len(s) == 2:
            return Q.term_query(schema, "g2", s)
        tri = [s[i : i + 3] for i in range(len(s) - 2)]
        if len(tri) == 1:
            return Q.term_query(schema, "g3", tri[0])
        return Q.phrase_query(schema, "g3", tri)

    def query(self, q: SearchQuery):
        """The query as one boolean query: each group a MUST (its terms SHOULD), exclusions
        MUST_NOT, filters and the inspector's scope (no restricted document) MUST."""
        t, Q, schema = self.t, self.t.Query, self.schema
        pq = parse_query(q.text)
        must, Occ = t.Occur.Must, t.Occur
        clauses = [(must, Q.term_query(schema, "restricted", 0))]
        for group in pq.must:
            terms = [self._term(term.folded) for term in group]
            clauses.append((must, terms[0] if len(terms) == 1 else
                            Q.boolean_query([(Occ.Should, x) for x in terms])))  # fmt: skip
        clauses += [(Occ.MustNot, self._term(term.folded)) for term in pq.must_not]
        if pq.doc_types:
            clauses.append((must, Q.term_set_query(schema, "doc_type", sorted(pq.doc_types))))
        if pq.units:
            clauses.append((must, Q.term_set_query(schema, "unit", sorted(pq.units))))
        if pq.year_from:
            clauses.append((must, Q.range_query(schema, "year", t.FieldType.Integer,
                                                pq.year_from, pq.year_to)))  # fmt: skip
        return Q.boolean_query(clauses)

    AGGS = {
        "doc_type": {"terms": {"field": "doc_type", "size": 1000}},
        "unit": {"terms": {"field": "unit", "size": 1000}},
        "year": {"terms": {"field": "year", "size": 1000}},
        "reviewer": {"terms": {"field": "reviewer", "size": 100_000}},
    }

    def search(self, q: SearchQuery) -> tuple[int, list[int], dict]:
        """First page by date (newest first), the total and the four facets."""
        query = self.query(q)
        res = self.searcher.search(query, limit=q.per_page, order_by_field="date")
        aggs = self.searcher.aggregate(query, self.AGGS)
        facets = {k: {b["key"]: b["doc_count"] for b in v["buckets"]} for k, v in aggs.items()}
        page = self.searcher.fast_field_values("num", [a for _, a in res.hits])
        return res.count, page, facets

    def nums(self, q: SearchQuery) -> np.ndarray:
        """Corpus numbers of every matching document (for the exactness check)."""
        query = self.query(q)
        total = self.searcher.search(query, limit=1, count=True).count
        if not total:
            return np.zeros(0, dtype=np.int32)
        res = self.searcher.search(query, limit=total, order_by_field="num")
        return np.fromiter((key for key, _ in res.hits), dtype=np.int32, count=len(res.hits))
