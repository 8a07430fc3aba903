"""Per-segment structures of the Whoosh backend, as numpy arrays.

Segments are immutable, so everything here is decoded once per segment and reused by
every search until the segment is merged away:

- ``SegmentMeta``: per-document metadata as integer-coded arrays (type, unit, year,
  status, conclusion, reviewers, date), so filters are vectorised comparisons and facet
  counts are one ``np.bincount`` each.
- ``Leaf``: one segment as the current commit sees it: its reader, the live-document mask
  (deletions come from the latest table of contents) and the verification text column.
(Posting lists — reading and caching them — are in whoosh_postings.py.)
- ``verify``: which candidates' folded text really contains a string (exact precision).
"""

from __future__ import annotations

import datetime
import json
import mmap
import zlib
from collections.abc import Iterable, Sequence
from itertools import repeat

import numpy as np

from app.search.normalize import FIELD_SEP

EMPTY_IDS = np.zeros(0, dtype=np.int32)


class Coded:
    """A column of string labels stored as int32 codes into ``labels``."""

    __slots__ = ("labels", "codes", "index")

    def __init__(self, values: Sequence[str]):
        index: dict[str, int] = {}
        codes = np.fromiter(
            (index.setdefault(v, len(index)) for v in values), dtype=np.int32, count=len(values)
        )
        self.index = index
        self.labels = list(index)
        self.codes = codes

    def mask(self, values: Iterable[str]) -> np.ndarray:
        wanted = [self.index[v] for v in values if v in self.index]
        if not wanted:
            return np.zeros(len(self.codes), dtype=bool)
        if len(wanted) == 1:
            return self.codes == wanted[0]
        return np.isin(self.codes, wanted)

    def counts(self, rows: np.ndarray) -> dict[str, int]:
        """Label → number of *rows* (indexes into codes) having it."""
        if not len(rows):
            return {}
        c = np.bincount(self.codes[rows], minlength=len(self.labels))
        nz = np.flatnonzero(c)
        return dict(zip(map(self.labels.__getitem__, nz.tolist()), c[nz].tolist(), strict=True))


def _flatten(metas: list[dict], key: str) -> tuple[np.ndarray, list]:
    """A list-valued metadata field as (document number per value, the values)."""
    docs: list[int] = []
    values: list = []
    for i, m in enumerate(metas):
        for value in m.get(key, ()):
            docs.append(i)
            values.append(value)
    return np.array(docs, dtype=np.int32), values


class SegmentMeta:
    """Decoded per-document metadata of one immutable segment."""

    def __init__(self, metas: list[dict]):
        n = self.n = len(metas)
        self.doc_id = [m.get("id", "") for m in metas]
        self.hash = [m.get("h", "") for m in metas]
        self.date = np.fromiter((m.get("d", 0) for m in metas), dtype=np.int32, count=n)
        self.year = np.fromiter(
            (datetime.date.fromordinal(d).year if d else 0 for d in self.date.tolist()),
            dtype=np.int32,
            count=n,
        )
        self.coded = {
            "t": Coded([m.get("t", "") for m in metas]),
            "u": Coded([m.get("u", "") for m in metas]),
            "s": Coded([m.get("s", "") for m in metas]),
            "c": Coded([m.get("c", "") for m in metas]),
        }
        self.rev_doc, rev_names = _flatten(metas, "r")
        self.rev = Coded(rev_names)
        self.restricted = {i: frozenset(m["x"]) for i, m in enumerate(metas) if m.get("x")}
        self.actor_doc, actor_ids = _flatten(metas, "a")
        self.actor_ids = np.array(actor_ids, dtype=np.int64)
        self.scope_cache: dict[tuple, np.ndarray] = {}
        self.df_cache: dict[str, int] = {}  # gram → documents holding it (more-like-this)
        self.positions = None  # whoosh_positions.Positions of the segment, set by the opener
        self.columns = None  # (nt column, its raw buffer and offsets, body column), by Leaf
        self._by_doc_id: dict[str, list[int]] | None = None
        self._rev_ptr: np.ndarray | None = None

    def docnums_of(self, doc_id: str) -> list[int]:
        if self._by_doc_id is None:
            inv: dict[str, list[int]] = {}
            for i, d in enumerate(self.doc_id):
                inv.setdefault(d, []).append(i)
            self._by_doc_id = inv
        return self._by_doc_id.get(doc_id, [])

    def actor_mask(self, user_id: int) -> np.ndarray:
        """Documents this user drafted, reviewed, co-signed or issued."""
        out = np.zeros(self.n, dtype=bool)
        out[self.actor_doc[self.actor_ids == user_id]] = True
        return out

    def reviewer_mask(self, name: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        code = self.rev.index.get(name)
        if code is not None:
            out[self.rev_doc[self.rev.codes == code]] = True
        return out

    def reviewer_counts(self, hits: np.ndarray) -> dict[str, int]:
        """Reviewer → number of *hits* (ascending docnums) they reviewed."""
        if not len(self.rev_doc) or not len(hits):
            return {}
        if len(hits) * 8 > self.n:  # many hits: one pass over every (document, reviewer)
            mask = np.zeros(self.n, dtype=bool)
            mask[hits] = True
            return self.rev.counts(np.flatnonzero(mask[self.rev_doc]))
        if self._rev_ptr is None:  # where each document's reviewers start (rev_doc is sorted)
            self._rev_ptr = np.searchsorted(self.rev_doc, np.arange(self.n + 1))
        starts, ends = self._rev_ptr[hits], self._rev_ptr[hits + 1]
        lens = ends - starts
        rows = np.arange(int(lens.sum())) + np.repeat(starts - np.cumsum(lens) + lens, lens)
        return self.rev.counts(rows)

    def year_counts(self, rows: np.ndarray) -> dict[str, int]:
        if not len(rows):
            return {}
        years = self.year[rows]
        low = int(years.min())
        counts = np.bincount(years - low)  # linear, where np.unique would sort the hits
        found = np.flatnonzero(counts)
        return dict(zip(map(str, (found + low).tolist()), counts[found].tolist(), strict=True))


class Leaf:
    """One segment as seen by the current searcher."""

    __slots__ = ("reader", "meta", "nt", "raw", "live", "live_count", "seg_id", "key", "n", "body")

    def __init__(self, reader, meta: SegmentMeta, deleted: Iterable[int], seg_id: str):
        self.reader = reader
        self.meta = meta
        self.n = meta.n
        if meta.columns is None:  # once per segment: reading the offsets costs ~20 ms at 25k
            nt = reader.column_reader("nt")
            meta.columns = (nt, raw_column(nt), reader.column_reader("body"))
        self.nt, self.raw, self.body = meta.columns
        live = np.ones(meta.n, dtype=bool)
        deleted = list(deleted)
        if deleted:
            live[deleted] = False
        self.live = live
        self.live_count = meta.n - len(deleted)
        self.seg_id = seg_id
        self.key = (seg_id, len(deleted))  # changes when documents are deleted

    def payload(self, docnum: int, body: bool) -> dict:
        """The display fields of a document; its body only when asked (snippets)."""
        payload = self.reader.stored_fields(docnum)["payload"]
        if body:
            raw = self.body[docnum]
            payload["body"] = zlib.decompress(raw).decode("utf-8") if raw else ""
        return payload

    def text(self, docnum: int) -> str:
        return self.nt[docnum].decode("utf-16-le")

    def field_text(self, docnum: int, part: int) -> str:
        parts = self.text(docnum).split(FIELD_SEP)
        return parts[part] if part < len(parts) else ""


def raw_column(col):
    """(searchable buffer, start offsets, end offsets) of a VarBytes column, for
    searching each document's bytes in place; None when Whoosh's internals are not as
    expected (then documents are read one by one).

    The buffer is the segment file's mmap itself when Whoosh mmapped it (its ``find``
    takes start and end, so a document is searched without a copy), else a bytes-like
    object; the offsets are translated to it."""
    try:
        raw = col.raw_column() if hasattr(col, "raw_column") else col
        buf = raw._dbfile._buf
        view = memoryview(buf)
        offs = np.frombuffer(raw._offsets, dtype=np.dtype(raw._offsets.typecode))
        lens = np.frombuffer(raw._lengths, dtype=np.dtype(raw._lengths.typecode))
        starts = offs.astype(np.int64) + raw._basepos
        if isinstance(view.obj, mmap.mmap) and view.contiguous:
            # where the memoryview starts inside the mmap
            shift = (
                np.frombuffer(view, dtype=np.uint8).ctypes.data
                - np.frombuffer(view.obj, dtype=np.uint8).ctypes.data
            )
            if 0 <= shift and shift + view.nbytes <= len(view.obj):
                buf = view.obj
                starts = starts + shift
        if not hasattr(buf, "find"):
            buf = bytes(view)
        return buf, starts, starts + lens.astype(np.int64)
    except (AttributeError, TypeError, ValueError):
        return None


def verify(leaf: Leaf, folded: str, cands: np.ndarray, part: int | None = None) -> np.ndarray:
    """Boolean mask over *cands*: does the document's folded text contain *folded*
    (in field *part* only, when given)?  The exact check behind every multi-gram term."""
    if not len(cands):
        return np.zeros(0, dtype=bool)
    if part is not None:
        return np.fromiter(
            (folded in leaf.field_text(d, part) for d in cands.tolist()),
            dtype=bool,
            count=len(cands),
        )
    pat = folded.encode("utf-16-le")
    raw = leaf.raw
    if raw is None:
        out = []
        for d in cands.tolist():
            b = leaf.nt[d]
            i = b.find(pat)
            while i > 0 and i & 1:
                i = b.find(pat, i + 1)
            out.append(i >= 0)
        return np.array(out, dtype=bool)
    buf, starts, ends = raw
    s, e = starts[cands], ends[cands]
    # one C-level find per candidate (map: no Python loop body)
    at = np.fromiter(
        map(buf.find, repeat(pat, len(cands)), s.tolist(), e.tolist()),
        dtype=np.int64,
        count=len(cands),
    )
    out = at >= 0
    # UTF-16: a match at an odd byte offset straddles two characters; look further on
    for j in np.flatnonzero(out & ((at - s) & 1 == 1)).tolist():
        i, start, end = int(at[j]), int(s[j]), int(e[j])
        while i >= 0 and (i - start) & 1:
            i = buf.find(pat, i + 1, end)
        out[j] = i >= 0
    return out


def meta_of(reader) -> SegmentMeta:
    # one json.loads over the whole column: ~4x faster than one call per document
    values = [b or b"{}" for b in reader.column_reader("meta")]
    return SegmentMeta(json.loads(b"[" + b",".join(values) + b"]") if values else [])
