"""Whoosh implementation of SearchBackend (embedded default).

Long module: the engine's query path (scope, candidates, verification, facets, page, snippets) is one class whose steps share per-segment state.

How a query runs (see docs/search.md for the why):

1. Every searchable field is folded (app/search/normalize.py) and indexed as overlapping
   character unigrams + bigrams in one non-positional field ``g``; the folded fields,
   joined by FIELD_SEP, are also kept per document in a column ``nt`` (UTF-16-LE).
2. A query string becomes the AND of its bigrams.  Posting lists are read block by
   block straight into Python sets, rarest first, and intersected with the permission
   set and the filters *before* anything else; a long posting list is not read at all
   once the candidate set is small (verification covers it).
3. Unless the string is a single gram (then the posting list is the answer), every
   candidate is verified by a substring search on its ``nt`` bytes: precision is exact.
4. Counts and facets are computed over the verified set, so they are exact and only
   ever include documents the scope allows.

Per-segment metadata (unit, type, date, reviewers, restrictions) is decoded once per
segment and cached: segments are immutable, so a refreshed searcher reuses it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gc
import heapq
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
import warnings
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat
from pathlib import Path

import numpy as np
from whoosh import index
from whoosh.writing import NO_MERGE

from app.search.backend import (
    Hit,
    IndexBusy,
    IndexDoc,
    IndexStats,
    QuerySyntaxError,
    SearchQuery,
    SearchResults,
    SearchScope,
    SearchUnavailable,
)
from app.search.indexing import attachment_doc_id
from app.search.normalize import FIELD_SEP, is_exact_gram, query_grams
from app.search.query import ParsedQuery, Term, TypeNames, once, parse_query, resolve_doc_types
from app.search.snippets import build_snippet
from app.search.whoosh_io import install as _install_view_files
from app.search.whoosh_lock import WriteLock
from app.search.whoosh_positions import Positions, positions_path
from app.search.whoosh_postings import PostingCache, read_postings
from app.search.whoosh_schema import (
    _FIELD_INDEX,
    FORMAT_VERSION,
    INDEX_NAME,
    MARKER,
    _doc_fields,
    _gram_counts,
    make_schema,
)
from app.search.whoosh_segments import EMPTY_IDS, Leaf, SegmentMeta, meta_of, verify
from app.search.whoosh_writer import (
    CasefileWriter,
    build_segments,
    default_procs,
    merge_capped,
    small_segments,
)

_install_view_files()  # segment files are read in place, not copied into memory

log = logging.getLogger(__name__)
SIMILAR_CACHE = 2048  # more-like-this answers kept per process (a few KB each)
SMALL_SEGMENTS = 4  # Whoosh's MERGE_SMALL merges nothing until there are more small segments

# --------------------------------------------------------------------------- backend


class WhooshBackend:
    """SearchBackend on a Whoosh index directory.  One instance per process; thread-safe
    (searches are serialised by a lock: Whoosh readers are not re-entrant)."""

    name = "whoosh"

    def __init__(
        self,
        index_dir: str | os.PathLike,
        *,
        writer_timeout: float = 10.0,
        cache_bytes: int = 64 * 2**20,
        type_names: TypeNames = None,
    ):
        """`type_names`: the names a type filter (类型:…) accepts, usually a function asking
        the template registry (see app/search/query.py TypeNames)."""
        self.path = Path(index_dir)
        self.type_names = type_names
        self.writer_timeout = writer_timeout
        self._lock = threading.RLock()
        self._ix = None
        self._readers: dict = {}
        self._epoch = None
        self._segments: dict[str, SegmentMeta] = {}
        self._leaves: list[Leaf] = []
        self._leaves_gen = None
        self._postings_cache = PostingCache(cache_bytes)
        # more-like-this answers per (document, scope, limit) for one commit of the index: a
        # document page asks it on every view, and it changes only when the index does
        self._similar_cache: OrderedDict = OrderedDict()

    # ----------------------------------------------------------------- opening

    def _read_marker(self) -> dict | None:
        try:
            return json.loads((self.path / MARKER).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def _create(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        index.create_in(str(path), make_schema(), indexname=INDEX_NAME)
        (path / MARKER).write_text(
            json.dumps({"format": FORMAT_VERSION, "epoch": uuid.uuid4().hex}), "utf-8"
        )

    def _open(self, create: bool = True):
        """The long-lived Index object; created empty if the directory has none."""
        marker = self._read_marker()
        if self._ix is not None and marker and marker.get("epoch") == self._epoch:
            return self._ix
        self._close_searcher()
        self._ix = None
        self._segments.clear()
        if not index.exists_in(str(self.path), indexname=INDEX_NAME):
            if not create:
                raise SearchUnavailable("检索索引尚未建立。", ["index missing"])
            if self.path.exists() and any(
                p.name.startswith(f"{INDEX_NAME}_") and p.suffix == ".seg"
                for p in self.path.iterdir()
            ):
                raise SearchUnavailable("检索索引已损坏，需要重建。", ["table of contents missing"])
            self._create(self.path)
            marker = self._read_marker()
        if not marker or marker.get("format") != FORMAT_VERSION:
            raise SearchUnavailable(
                "检索索引格式不符，需要重建。",
                [f"index format {marker and marker.get('format')!r}, expected {FORMAT_VERSION}"],
            )
        try:
            ix = index.open_dir(str(self.path), indexname=INDEX_NAME)
        except Exception as exc:  # noqa: BLE001 - whoosh raises many kinds on a broken dir
            raise SearchUnavailable("检索索引已损坏，需要重建。", [f"open: {exc!r}"]) from exc
        if set(ix.schema.names()) != set(make_schema().names()):
            raise SearchUnavailable("检索索引格式不符，需要重建。", ["schema mismatch"])
        self._ix = ix
        self._epoch = marker.get("epoch")
        return ix

    def _close_searcher(self) -> None:
        for reader in self._readers.values():
            try:
                reader.close()
            except Exception:  # noqa: BLE001
                pass
        self._readers = {}
        self._leaves = []
        self._leaves_gen = None

    def _current_leaves(self) -> list[Leaf]:
        """Leaves for the latest commit.

        Whoosh's own Searcher.refresh() reuses segment readers but keeps their old
        deletion sets, so we manage readers ourselves: an unchanged segment keeps its
        open reader and decoded metadata; deletions always come from the latest TOC.
        Cost when nothing changed: one directory listing.
        """
        ix = self._open()
        gen = ix.latest_generation()
        if gen == self._leaves_gen:
            return self._leaves
        from whoosh.reading import SegmentReader

        toc = ix._read_toc()
        leaves = []
        readers = {}
        try:
            for seg in toc.segments:
                seg_id = seg.segment_id()
                n = seg.doc_count_all()
                if n == 0:
                    continue
                reader = self._readers.get(seg_id)
                if reader is None:
                    reader = SegmentReader(ix.storage, ix.schema, seg, generation=toc.generation)
                readers[seg_id] = reader
                meta = self._segments.get(seg_id)
                if meta is None:
                    meta = meta_of(reader)
                    meta.positions = Positions(positions_path(ix.storage.folder, seg), n)
                    self._segments[seg_id] = meta
                leaves.append(Leaf(reader, meta, seg.deleted_docs(), seg_id))
        except BaseException:
            # a corrupt segment: close the readers opened here, so no file handle is leaked
            for seg_id, reader in readers.items():
                if self._readers.get(seg_id) is not reader:
                    try:
                        reader.close()
                    except Exception:  # noqa: BLE001
                        pass
            raise
        for seg_id, reader in self._readers.items():
            if seg_id not in readers:
                try:
                    reader.close()
                except Exception:  # noqa: BLE001
                    pass
        for stale in set(self._segments) - set(readers):
            del self._segments[stale]
        self._readers = readers
        self._leaves = leaves
        self._leaves_gen = toc.generation
        return leaves

    def refresh(self) -> None:
        with self._lock:
            self._guard(self._current_leaves)

    def warm(self) -> None:
        """Open the index and decode segment metadata now (call at start-up)."""
        self.refresh()

    def close(self) -> None:
        with self._lock:
            self._close_searcher()
            if self._ix is not None:
                self._ix.close()
            self._ix = None
            self._segments.clear()

    def _guard(self, fn, *args):
        """Run fn; any failure of the index itself becomes SearchUnavailable."""
        try:
            return fn(*args)
        except SearchUnavailable:
            self._reset()
            raise
        except QuerySyntaxError:
            raise
        except Exception as exc:  # noqa: BLE001 - whoosh fails in many ways on bad files
            problem = repr(exc)
            log.error("search index failure in %s: %s", self.path, problem)
            _drop_traceback(exc)
            self._reset()
        raise SearchUnavailable("检索索引不可用，请联系管理员重建索引。", [problem])

    def _reset(self) -> None:
        with _quiet_resources():
            self._close_searcher()
            self._ix = None
            self._segments.clear()
            self._postings_cache.clear()
            gc.collect()

    # ----------------------------------------------------------------- writing

    def _writer(self, ix) -> CasefileWriter:
        from whoosh.index import LockError

        try:
            return CasefileWriter(ix, timeout=self.writer_timeout, delay=0.05)
        except LockError as exc:
            raise IndexBusy("检索索引正被其他进程写入，请稍后再试。", ["write lock held"]) from exc

    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace documents (by doc_id) in one commit.

        Called by the outbox drain after the issuing transaction committed.  Raises
        IndexBusy if another writer (e.g. a rebuild) holds the lock for longer than
        ``writer_timeout``."""
        latest = {doc.doc_id: doc for doc in docs}  # the last version of a doc_id wins
        if not latest:
            return 0
        with self._lock:
            ix = self._open()
        writer = self._writer(ix)
        try:
            self._delete_in_writer(writer, latest)
            for doc in latest.values():
                writer.add_document(**_doc_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=NO_MERGE)  # searchable now; merging small segments comes after
        self._merge_small()
        return len(latest)

    def _merge_small(self) -> None:
        """Merge the small segments in a commit of its own, after the one that made the new
        documents searchable (a merge goes through Whoosh's per-posting path: seconds, which
        a freshly issued document should not wait for). Skipped while another writer holds
        the lock; the next commit merges."""
        with self._lock:
            ix = self._open()
        try:
            writer = self._writer(ix)
        except IndexBusy:
            return
        if len(small_segments(writer.segments)) <= SMALL_SEGMENTS:
            writer.cancel()
            return
        writer.commit(mergetype=merge_capped)

    def _delete_in_writer(self, writer: CasefileWriter, doc_ids: Iterable[str]) -> int:
        """Mark every live copy of *doc_ids* deleted in the writer's segments.

        Whoosh's update_document/delete_by_term open a fresh searcher over the whole
        index inside the writer (0.5-2 s at 100k documents); our readers are already
        open and their doc_id lists decoded, so this is a dictionary look-up."""
        with self._lock:
            leaves = self._current_leaves()
            if self._leaves_gen != writer.generation - 1:  # cannot happen under the lock
                return sum(writer.delete_by_term("doc_id", d) for d in doc_ids)
            by_id = {seg.segment_id(): seg for seg in writer.segments}
            n = 0
            for doc_id in doc_ids:
                for leaf in leaves:
                    for docnum in leaf.meta.docnums_of(doc_id):
                        if leaf.live[docnum]:
                            by_id[leaf.seg_id].delete_document(docnum)
                            n += 1
            return n

    def delete(self, doc_id: str) -> bool:
        return self.delete_many([doc_id]) > 0

    def delete_many(self, doc_ids: Iterable[str]) -> int:
        doc_ids = list(doc_ids)
        with self._lock:
            ix = self._open()
        writer = self._writer(ix)
        try:
            n = self._delete_in_writer(writer, doc_ids)
        except BaseException:
            writer.cancel()
            raise
        if n:
            writer.commit(mergetype=NO_MERGE)
            self._merge_small()
        else:
            writer.cancel()
        return n

    def optimize(self) -> None:
        """Merge every segment into one (slow: Whoosh's generic merge; prefer rebuild)."""
        with self._lock:
            ix = self._open()
        writer = self._writer(ix)
        writer.commit(optimize=True)

    def rebuild(
        self, docs: Iterable[IndexDoc], *, procs: int | None = None, batch: int = 200
    ) -> int:
        """Build a new index from *docs* beside the live one and swap it in.

        Holds the live index's write lock for the whole build, so an indexer running
        meanwhile gets IndexBusy and keeps its outbox rows for after the swap; searches
        keep using the old index until the swap.  ``procs`` worker processes (default:
        every core, at most 4) each write one segment.
        """
        procs = procs or default_procs()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f".{self.path.name}.rebuild-{uuid.uuid4().hex[:8]}"
        live_lock = None
        if index.exists_in(str(self.path), indexname=INDEX_NAME):
            live_lock = WriteLock(self.path, f"{INDEX_NAME}_WRITELOCK")
            if not live_lock.acquire_within(self.writer_timeout):
                raise IndexBusy("检索索引正被其他进程写入，请稍后再试。", ["write lock held"])
        try:
            self._create(tmp)
            ix = index.open_dir(str(tmp), indexname=INDEX_NAME)
            n = build_segments(ix, _batches(docs, batch), procs)
            ix.close()
            # swap: rename is atomic per directory; readers holding old files keep them
            old = None
            if self.path.exists():
                old = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(self.path, old)
            os.rename(tmp, self.path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if live_lock is not None:
                try:
                    live_lock.release()
                except Exception:  # noqa: BLE001
                    pass
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        with self._lock:
            self._close_searcher()
            self._ix = None
            self._segments.clear()
        return n

    # ----------------------------------------------------------------- reading

    def _parse(self, query: SearchQuery) -> tuple[SearchQuery, ParsedQuery]:
        """The query with its type filters resolved (a label names its type), and its text
        parsed; QuerySyntaxError for an unknown type or a bad filter."""
        names = once(self.type_names)
        pq = parse_query(query.text, names)
        if query.doc_types:
            doc_types = resolve_doc_types(query.doc_types, names)
            if doc_types != query.doc_types:
                query = dataclasses.replace(query, doc_types=doc_types)
        return query, pq

    def search(self, query: SearchQuery, scope: SearchScope) -> SearchResults:
        t0 = time.perf_counter()
        query, pq = self._parse(query)
        with self._lock:
            res = self._guard(self._search, query, pq, scope)
        res.elapsed_ms = (time.perf_counter() - t0) * 1000
        return res

    def matching_ids(self, query: SearchQuery, scope: SearchScope) -> list[str]:
        """doc_id of every document matching *query* in *scope* (exports, benchmarks)."""
        query, pq = self._parse(query)

        def run() -> list[str]:
            out: list[str] = []
            for leaf in self._current_leaves():
                base = self._base_mask(leaf, query, pq, scope)
                if base.any():
                    hits, _ = self._match(leaf, pq, base, want_scores=False)
                    out.extend(map(leaf.meta.doc_id.__getitem__, hits.tolist()))
            return out

        with self._lock:
            return self._guard(run)

    def facets(self, query: SearchQuery, scope: SearchScope) -> dict[str, dict[str, int]]:
        from dataclasses import replace

        return self.search(replace(query, per_page=0, snippets=False, facets=True), scope).facets

    def clear_cache(self) -> None:
        """Forget decoded postings and remembered document frequencies (benchmarks measure
        cold queries with this)."""
        self._postings_cache.clear()
        with self._lock:
            for meta in self._segments.values():
                meta.df_cache.clear()
            self._similar_cache.clear()

    def _search(self, q: SearchQuery, pq: ParsedQuery, scope: SearchScope) -> SearchResults:
        leaves = self._current_leaves()
        per_page = max(0, min(q.per_page, 200))
        page = max(1, q.page)
        need = page * per_page
        total = 0
        fac = {"doc_type": Counter(), "unit": Counter(), "year": Counter(), "reviewer": Counter(),
               "status": Counter()}  # fmt: skip
        tops: list[tuple] = []  # (score, date, seg_index, docnum)
        for li, leaf in enumerate(leaves):
            base = self._base_mask(leaf, q, pq, scope)
            if not base.any():
                continue
            # by date, no score is needed: the weights are not even decoded
            hits, scores = self._match(leaf, pq, base, want_scores=q.sort != "date")
            if not len(hits):
                continue
            total += len(hits)
            m = leaf.meta
            if q.facets:
                fac["doc_type"].update(m.coded["t"].counts(hits))
                fac["unit"].update(m.coded["u"].counts(hits))
                fac["status"].update(m.coded["s"].counts(hits))
                fac["year"].update(m.year_counts(hits))
                fac["reviewer"].update(m.reviewer_counts(hits))
            if need:
                tops.extend(_top(leaf, li, hits, scores, need, q.sort))
        tops.sort(reverse=True)
        page_items = tops[(page - 1) * per_page : need]
        hits_out = []
        positive = pq.positive_terms
        for score, _date, li, docnum in page_items:
            leaf = leaves[li]
            payload = leaf.payload(docnum, body=q.snippets)
            snippet = build_snippet(payload, positive) if q.snippets else ""
            hits_out.append(_hit(payload, score if q.sort == "relevance" else 0.0, snippet))
        facets = (
            {k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for k, v in fac.items()}
            if q.facets
            else {}
        )
        return SearchResults(
            total=total, hits=hits_out, facets=facets, page=page, per_page=per_page
        )

    # -- candidate sets

    def _scope_mask(self, leaf: Leaf, scope: SearchScope) -> np.ndarray:
        """Live documents of the segment that *scope* may read (cached; do not modify)."""
        m = leaf.meta
        key = (leaf.key, scope.units, scope.user_id, scope.precedent, scope.documents,
               scope.attachments)  # fmt: skip
        cached = m.scope_cache.get(key)
        if cached is not None:
            return cached
        if scope.units is None:
            allowed = leaf.live.copy()
        else:
            readable = m.coded["u"].mask(scope.units)
            for unit_code, doc_type in scope.precedent:
                readable |= m.coded["u"].mask({unit_code}) & m.coded["t"].mask({doc_type})
            if scope.user_id is not None:
                readable |= m.actor_mask(scope.user_id)
            # the records of the matters the user holds (法律事务, 调配)
            held = [str(d) for d in scope.documents]
            held += [attachment_doc_id(a) for a in scope.attachments]
            for doc_id in held:
                readable[m.docnums_of(doc_id)] = True
            allowed = leaf.live & readable
        for docnum, users in m.restricted.items():
            if scope.user_id not in users:
                allowed[docnum] = False
        allowed.flags.writeable = False
        if len(m.scope_cache) > 64:
            m.scope_cache.clear()
        m.scope_cache[key] = allowed
        return allowed

    def _base_mask(
        self, leaf: Leaf, q: SearchQuery, pq: ParsedQuery, scope: SearchScope
    ) -> np.ndarray:
        """Scope ∩ every filter, as a boolean mask over the segment's documents."""
        m = leaf.meta
        base = self._scope_mask(leaf, scope)
        for key, a, b in (("t", q.doc_types, pq.doc_types), ("u", q.units, pq.units)):
            values = _combine(set(a), set(b))
            if values is not None:
                base = base & m.coded[key].mask(values)
        for key, a, b in (("s", q.status, pq.status), ("c", q.conclusion, pq.conclusion)):
            for v in {a, b} - {""}:
                base = base & m.coded[key].mask([v])
        for v in {q.reviewer, pq.reviewer} - {""}:
            base = base & m.reviewer_mask(v)
        lo = max([y for y in (q.year_from, pq.year_from) if y is not None], default=None)
        hi = min([y for y in (q.year_to, pq.year_to) if y is not None], default=None)
        if lo is not None:
            base = base & (m.year >= lo)
        if hi is not None:
            base = base & (m.year <= hi)
        d_lo = max([d for d in (q.date_from, pq.date_from) if d is not None], default=None)
        d_hi = min([d for d in (q.date_to, pq.date_to) if d is not None], default=None)
        if d_lo is not None:
            base = base & (m.date >= d_lo.toordinal())
        if d_hi is not None:
            base = base & (m.date <= d_hi.toordinal())
        return base

    def _postings(
        self, leaf: Leaf, gram: str, weights: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        key = (leaf.seg_id, gram)
        cached = self._postings_cache.get(key, weights)
        if cached is not None:
            return cached
        ids, ws = read_postings(leaf.reader, gram, weights)
        self._postings_cache.put(key, ids, ws)
        return ids, ws

    def _term_hits(
        self, leaf: Leaf, term: Term, base: np.ndarray, want_scores: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Docnums in the mask *base* containing *term* (exact), ascending, with a
        relevance score each."""
        cands, scores, exact = self._term_candidates(leaf, term, base, want_scores)
        if exact:
            return cands, scores
        ok = _verify(leaf, term, cands)
        return cands[ok], (scores[ok] if scores is not None else None)

    def _term_candidates(
        self, leaf: Leaf, term: Term, base: np.ndarray, want_scores: bool
    ) -> tuple[np.ndarray, np.ndarray | None, bool]:
        """Docnums in the mask *base* holding the grams of *term* (ascending), with a
        relevance score each, and whether they are the exact answer (a single index term)
        or candidates still to verify."""
        folded = term.folded
        gs = query_grams(folded)
        single = len(gs) == 1 and is_exact_gram(folded)
        if _positional(leaf, term, single):  # exact from the trigram positions
            hits, scores = leaf.meta.positions.match(folded, base, want_scores)
            return hits, scores, True
        dfs = []
        for g in gs:
            df = _doc_frequency(leaf, g)
            if df == 0:
                return EMPTY_IDS, (np.zeros(0) if want_scores else None), True
            dfs.append((df, g))
        dfs.sort()
        ids, ws = self._postings(leaf, dfs[0][1], weights=want_scores)
        keep = base[ids]
        cands = ids[keep]
        # The weight of the rarest gram (its count, +TITLE_BOOST if in number/title)
        # stands in for the count of the whole string: free, and close enough to rank.
        scores = ws[keep] if want_scores else None
        if term.field is None and single:
            return cands, scores, True  # the posting list is the answer
        removed = None
        for df, g in dfs[1:]:
            # Reading a list costs ~25 ns a posting, verifying ~0.5 us a candidate: read
            # on while the last list removed enough candidates to pay for the next one.
            if (
                not len(cands)
                or len(cands) * 16 < df
                or (removed is not None and removed * 20 < df)
            ):
                break
            other = np.zeros(leaf.n, dtype=bool)
            other[self._postings(leaf, g, weights=False)[0]] = True
            keep = other[cands]
            removed = len(cands) - int(keep.sum())
            cands = cands[keep]
            if scores is not None:
                scores = scores[keep]
        return cands, scores, False

    def _match(
        self, leaf: Leaf, pq: ParsedQuery, base: np.ndarray, want_scores: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Docnums (ascending) in the mask *base* matching the whole parsed query, with
        their scores aligned (None when the query has no positive term, or not wanted)."""
        n = leaf.n
        if not pq.must:
            hits, scores = np.flatnonzero(base).astype(np.int32), None
        else:
            # Every group's candidates first (posting lists only), rarest group first, each
            # inside the candidates so far; then each group verified inside what all of them
            # allow: a common string beside a rare one is checked in a few documents.
            order = list(range(len(pq.must)))
            if len(order) > 1:
                order.sort(key=lambda gi: _group_size(leaf, pq.must[gi]))
            mask = base
            candidates: dict[int, list] = {}
            for gi in order:
                per_term = [self._term_candidates(leaf, t, mask, want_scores)
                            for t in pq.must[gi]]  # fmt: skip
                mask = np.zeros(n, dtype=bool)
                for cands, _, _ in per_term:
                    mask[cands] = True
                if not mask.any():
                    return EMPTY_IDS, None
                candidates[gi] = per_term
            found: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
            hits = EMPTY_IDS
            for k, gi in enumerate(order):
                group = pq.must[gi]
                # OR: union of the terms' hits, best score of the terms
                dense = np.zeros(n) if want_scores and len(group) > 1 else None
                seen = np.zeros(n, dtype=bool) if len(group) > 1 else None
                for term, (cands, s, exact) in zip(group, candidates[gi], strict=True):
                    keep = mask[cands]
                    h, s = cands[keep], (s[keep] if s is not None else None)
                    if not exact:
                        ok = _verify(leaf, term, h)
                        h, s = h[ok], (s[ok] if s is not None else None)
                    if seen is None:
                        hits, group_score = h, s
                        break
                    seen[h] = True
                    if dense is not None:
                        dense[h] = np.maximum(dense[h], s)
                if seen is not None:
                    hits = np.flatnonzero(seen).astype(np.int32)
                    group_score = dense[hits] if dense is not None else None
                if not len(hits):
                    return EMPTY_IDS, None
                found[gi] = (hits, group_score)
                if k + 1 < len(order):
                    mask = np.zeros(n, dtype=bool)
                    mask[hits] = True
            scores = None
            if want_scores and len(pq.must) == 1:
                scores = found[0][1]
            elif want_scores:  # summed (log) over the groups in the query's order, as ever
                total = np.zeros(n)
                for gi in range(len(pq.must)):
                    h, s = found[gi]
                    total[h] += np.log1p(s)
                scores = total[hits]
        for term in pq.must_not:
            if not len(hits):
                break
            mask = np.zeros(n, dtype=bool)
            mask[hits] = True
            h, _ = self._term_hits(leaf, term, mask, want_scores=False)
            if len(h):
                keep = ~np.isin(hits, h, assume_unique=True)
                hits = hits[keep]
                if scores is not None:
                    scores = scores[keep]
        return hits, scores

    # ----------------------------------------------------------------- more-like-this

    def similar(self, doc_id: str, scope: SearchScope, limit: int = 10) -> list[Hit]:
        with self._lock:
            self._guard(self._current_leaves)  # the latest commit, whose answers are cached
            key = (doc_id, scope, limit, self._epoch, self._leaves_gen)
            hits = self._similar_cache.get(key)
            if hits is None:
                hits = self._guard(self._similar, doc_id, scope, limit)
                self._similar_cache[key] = hits
                if len(self._similar_cache) > SIMILAR_CACHE:
                    self._similar_cache.popitem(last=False)
            else:
                self._similar_cache.move_to_end(key)
            return list(hits)

    def _similar(self, doc_id: str, scope: SearchScope, limit: int) -> list[Hit]:
        leaves = self._current_leaves()
        src = None
        for li, leaf in enumerate(leaves):
            allowed = self._scope_mask(leaf, scope)
            for d in leaf.meta.docnums_of(doc_id):
                if allowed[d]:
                    src = (li, d)
        if src is None:
            return []
        body = leaves[src[0]].text(src[1]).split(FIELD_SEP)
        tf = _gram_counts(FIELD_SEP.join(body[:2] + body[-1:]))
        n_docs = sum(leaf.live_count for leaf in leaves) or 1
        weighted = []
        for g, f in tf.items():
            if len(g) != 2:
                continue
            df = sum(map(_doc_frequency, leaves, repeat(g)))
            if df <= 1 or (df > 0.2 * n_docs and n_docs > 50):
                continue
            weighted.append((math.log1p(f) * math.log(n_docs / df), g))
        top_grams = heapq.nlargest(30, weighted)
        acc: list[tuple] = []
        for li, leaf in enumerate(leaves):
            score = np.zeros(leaf.n)
            for w, g in top_grams:
                score[self._postings(leaf, g, weights=False)[0]] += w
            score[~self._scope_mask(leaf, scope)] = 0
            if li == src[0]:
                score[src[1]] = 0
            cand = np.flatnonzero(score)
            if len(cand) > limit:
                cand = cand[np.argpartition(-score[cand], limit - 1)[:limit]]
            date = leaf.meta.date
            acc.extend((float(score[d]), int(date[d]), li, int(d)) for d in cand.tolist())
        acc.sort(reverse=True)
        out = []
        for s, _date, li, d in acc[:limit]:
            payload = leaves[li].payload(d, body=True)
            out.append(_hit(payload, s, build_snippet(payload, [])))
        return out

    # ----------------------------------------------------------------- maintenance

    def stored_hashes(self) -> Mapping[str, str]:
        with self._lock:
            leaves = self._guard(self._current_leaves)
            out: dict[str, str] = {}
            for leaf in leaves:
                m = leaf.meta
                for d in np.flatnonzero(leaf.live).tolist():
                    out[m.doc_id[d]] = m.hash[d]
            return out

    def doc_ids(self) -> Iterator[str]:
        yield from self.stored_hashes()

    def stats(self) -> IndexStats:
        with self._lock:
            leaves = self._guard(self._current_leaves)
            size = sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
            tocs = sorted(self.path.glob(f"_{INDEX_NAME}_*.toc"))
            mtime = datetime.datetime.fromtimestamp(tocs[-1].stat().st_mtime) if tocs else None
            docs = sum(leaf.live_count for leaf in leaves)
            total = sum(leaf.reader.doc_count_all() for leaf in leaves)
            return IndexStats(
                backend=self.name,
                doc_count=docs,
                deleted_count=total - docs,
                segment_count=len(leaves),
                size_bytes=size,
                location=str(self.path),
                last_modified=mtime,
                extra={
                    "generation": self._leaves_gen,
                    "format": FORMAT_VERSION,
                    "epoch": self._epoch,
                },
            )

    def check(self, deep: bool = False) -> list[str]:
        """Problems with the index, as readable strings; [] when healthy.  Never raises.

        ``deep`` also reads every document's stored fields and columns."""
        with _quiet_resources():
            try:
                return self._check(deep)
            except Exception as exc:  # noqa: BLE001
                problem = f"cannot read index: {exc!r}"
                _drop_traceback(exc)
                return [problem]
            finally:
                gc.collect()

    def _check(self, deep: bool) -> list[str]:
        problems: list[str] = []
        if not self.path.exists():
            return [f"index directory {self.path} does not exist"]
        if not index.exists_in(str(self.path), indexname=INDEX_NAME):
            return [f"no index in {self.path} (table of contents missing)"]
        marker = self._read_marker()
        if not marker:
            problems.append(f"{MARKER} missing or unreadable")
        elif marker.get("format") != FORMAT_VERSION:
            problems.append(f"index format {marker.get('format')!r}, expected {FORMAT_VERSION}")
        try:
            ix = index.open_dir(str(self.path), indexname=INDEX_NAME)
        except Exception as exc:  # noqa: BLE001
            return problems + [f"cannot open index: {exc!r}"]
        try:
            if set(ix.schema.names()) != set(make_schema().names()):
                problems.append("schema differs from this version of casefile")
            with ix.reader() as reader:
                for leaf, _off in reader.leaf_readers():
                    seg = leaf.segment()
                    n = leaf.doc_count_all()
                    if n == 0:
                        continue
                    try:
                        nt, meta = leaf.column_reader("nt"), leaf.column_reader("meta")
                        body = leaf.column_reader("body")
                        positions = Positions(positions_path(str(self.path), seg), n)
                        lengths = np.diff(positions.doc_starts) - 1
                        docs = range(n) if deep else sorted({0, n - 1})
                        for d in docs:
                            json.loads(meta[d] or b"{}")
                            text = nt[d]
                            text.decode("utf-16-le")
                            if len(text) != 2 * int(lengths[d]):
                                raise ValueError(f"positions of document {d} do not fit its text")
                            leaf.stored_fields(d)
                            zlib.decompress(body[d]).decode("utf-8")
                        positions.close()
                        for _ in leaf.lexicon("g") if deep else ():
                            pass
                    except Exception as exc:  # noqa: BLE001
                        problems.append(f"segment {seg.segment_id()}: {exc!r}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"cannot read index: {exc!r}")
        finally:
            ix.close()
        lock = WriteLock(self.path, f"{INDEX_NAME}_WRITELOCK")
        if lock.acquire_within(2.0):
            lock.release()
        elif (gone := lock.holder_gone()) is not None:
            problems.append(
                f"write lock held for process {gone['pid']}, which is gone "
                "(the next write takes it over)"
            )
        else:
            problems.append("write lock held by another process for more than 2 s")
        return problems


@contextlib.contextmanager
def _quiet_resources():
    """Whoosh leaks file objects when it fails half-way through opening a damaged
    segment; their ResourceWarnings are noise once the failure is reported."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def _drop_traceback(exc: BaseException) -> None:
    # frames of a failed open hold Whoosh's unclosed files: free them now, quietly
    with _quiet_resources():
        while exc is not None:
            exc.__traceback__ = None
            exc = exc.__context__
        gc.collect()


def _verify(leaf: Leaf, term: Term, cands: np.ndarray) -> np.ndarray:
    """Which candidates really contain the term (in its field, when it names one)."""
    part = _FIELD_INDEX[term.field] if term.field is not None else None
    return verify(leaf, term.folded, cands, part)


def _positional(leaf: Leaf, term: Term, single: bool) -> bool:
    """Is *term* answered by the segment's trigram positions?  Every string of three or more
    characters in any field, except one that is a single index term (its posting list)."""
    return (
        term.field is None
        and not single
        and leaf.meta.positions is not None
        and len(term.folded) >= 3
    )


def _group_size(leaf: Leaf, group: list[Term]) -> int:
    """About how many documents of the segment an OR group of terms matches, to take the
    rarest group first: for each term, the documents holding its rarest gram (0 when one is
    absent), or for a string matched by positions, the occurrences of its rarest trigram."""
    size = 0
    for t in group:
        gs = query_grams(t.folded)
        if _positional(leaf, t, len(gs) == 1 and is_exact_gram(t.folded)):
            size += leaf.meta.positions.rarest_count(t.folded)
        else:
            size += min((_doc_frequency(leaf, g) for g in gs), default=0)
    return size


def _doc_frequency(leaf: Leaf, gram: str) -> int:
    """Documents of the segment holding *gram*, remembered per segment (segments never change;
    more-like-this asks for every bigram of a document, and most recur from one to the next)."""
    cache = leaf.meta.df_cache
    df = cache.get(gram)
    if df is None:
        if len(cache) > 200_000:
            cache.clear()
        df = cache[gram] = leaf.reader.doc_frequency("g", gram)
    return df


def _cut(values: np.ndarray, need: int) -> np.ndarray:
    """Indexes into *values* of the *need* largest, plus every value tied with the last
    (so the caller's exact sort decides among ties)."""
    if len(values) <= need:
        return np.arange(len(values))
    cut = np.partition(values, len(values) - need)[len(values) - need]
    return np.flatnonzero(values >= cut)


def _top(
    leaf: Leaf, li: int, hits: np.ndarray, scores: np.ndarray | None, need: int, sort: str
) -> list[tuple]:
    """Sort keys (score, date, leaf, docnum) of this segment's best *need* hits, and of
    any hit tied with them, so a global sort of every segment's keys is exact."""
    date = leaf.meta.date[hits]
    if sort == "date" or scores is None:
        sel = _cut(date, need)
        d_sel, h_sel = date[sel].tolist(), hits[sel].tolist()
        if sort == "date":
            return [(d, d, li, h) for d, h in zip(d_sel, h_sel, strict=True)]
        return [(0.0, d, li, h) for d, h in zip(d_sel, h_sel, strict=True)]
    sel = _cut(scores, need)
    if len(sel) > need:  # many tied at the cut: among the tied ones, the newest
        cut = scores[sel].min()
        above = sel[scores[sel] > cut]
        tied = sel[scores[sel] == cut]
        sel = np.concatenate((above, tied[_cut(date[tied], need - len(above))]))
    return [
        (_rel(s), d, li, h)
        for s, d, h in zip(
            scores[sel].tolist(), date[sel].tolist(), hits[sel].tolist(), strict=True
        )
    ]


def _batches(docs: Iterable[IndexDoc], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for doc in docs:
        batch.append(_doc_fields(doc))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _combine(a: set[str], b: set[str]) -> set[str] | None:
    """Filter values from the form and from the query text: both apply (intersection)."""
    if a and b:
        return a & b
    return a or b or None


def _rel(score: float) -> float:
    return round(float(score), 4)


def _hit(payload: dict, score: float, snippet: str) -> Hit:
    return Hit(
        doc_id=payload["doc_id"],
        number=payload["number"],
        title=payload["title"],
        doc_type=payload["doc_type"],
        unit_code=payload["unit_code"],
        unit_name=payload["unit_name"],
        issued_on=datetime.date.fromisoformat(payload["issued_on"]),
        score=score,
        snippet_html=snippet,
        status=payload.get("status", "issued"),
    )
