"""SQLite FTS5 (trigram tokenizer) as a reference for bench/search.py: the same folded text,
the same queries; an instr() scan for strings of 1–2 characters, which trigrams cannot
answer. Built in chunks, so a large corpus never sits in memory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from app.search import IndexDoc, SearchQuery
from app.search.query import parse_query


class Fts5:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS docs(id INTEGER PRIMARY KEY, doc_id TEXT, doc_type TEXT,
                unit TEXT, year INTEGER, date TEXT, restricted INTEGER, t TEXT);
            CREATE TABLE IF NOT EXISTS reviewers(id INTEGER, name TEXT);
            CREATE VIRTUAL TABLE IF NOT EXISTS f USING fts5(t, content='docs', content_rowid='id',
                tokenize='trigram');
            """
        )

    def add(self, nums: Iterable[int], docs: Iterable[IndexDoc], texts: Iterable[str]) -> None:
        rows = list(zip(nums, docs, texts, strict=True))
        with self.db:
            self.db.executemany(
                "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?)",
                ((i, d.doc_id, d.doc_type, d.unit_code, d.issued_on.year, d.issued_on.isoformat(),
                  int(bool(d.restricted_to)), t) for i, d, t in rows),
            )  # fmt: skip
            self.db.executemany(
                "INSERT INTO reviewers VALUES (?,?)",
                ((i, r) for i, d, _ in rows for r in d.reviewers),
            )

    def finish(self) -> None:
        """Index the text added (one statement: FTS5 builds fastest that way)."""
        with self.db:
            self.db.execute("INSERT INTO f(rowid, t) SELECT id, t FROM docs")
            self.db.execute("CREATE INDEX IF NOT EXISTS rv ON reviewers(id)")

    def _where(self, pq) -> tuple[str, list]:
        clauses, params = ["restricted = 0"], []
        for group in pq.must:
            ors = []
            for term in group:
                s = term.folded
                if len(s) >= 3:
                    ors.append("id IN (SELECT rowid FROM f WHERE f MATCH ?)")
                    params.append('"' + s.replace('"', '""') + '"')
                else:
                    ors.append("instr(t, ?) > 0")
                    params.append(s)
            clauses.append("(" + " OR ".join(ors) + ")")
        for term in pq.must_not:
            clauses.append("instr(t, ?) = 0")
            params.append(term.folded)
        if pq.doc_types:
            clauses.append(f"doc_type IN ({','.join('?' * len(pq.doc_types))})")
            params += sorted(pq.doc_types)
        if pq.units:
            clauses.append(f"unit IN ({','.join('?' * len(pq.units))})")
            params += sorted(pq.units)
        if pq.year_from:
            clauses.append("year BETWEEN ? AND ?")
            params += [pq.year_from, pq.year_to]
        return " AND ".join(clauses), params

    def search(self, q: SearchQuery) -> tuple[int, list, dict]:
        """First page by date, total and the four facets (like the web page)."""
        where, params = self._where(parse_query(q.text))
        db = self.db
        db.execute("DROP TABLE IF EXISTS temp.hits")
        db.execute(
            "CREATE TEMP TABLE hits AS SELECT id, doc_id, doc_type, unit, year, date FROM docs "
            f"WHERE {where}",
            params,
        )
        total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
        facets = {
            "doc_type": dict(db.execute("SELECT doc_type, count(*) FROM hits GROUP BY 1")),
            "unit": dict(db.execute("SELECT unit, count(*) FROM hits GROUP BY 1")),
            "year": dict(db.execute("SELECT year, count(*) FROM hits GROUP BY 1")),
            "reviewer": dict(
                db.execute("SELECT name, count(*) FROM reviewers JOIN hits USING (id) GROUP BY 1")
            ),
        }
        page = db.execute(
            "SELECT doc_id FROM hits ORDER BY date DESC LIMIT ?", (q.per_page,)
        ).fetchall()
        return total, page, facets

    def nums(self, q: SearchQuery) -> np.ndarray:
        """Corpus numbers of every matching document (for the exactness check)."""
        where, params = self._where(parse_query(q.text))
        rows = self.db.execute(f"SELECT id FROM docs WHERE {where}", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int32)
