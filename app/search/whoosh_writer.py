"""Fast writing of the gram postings into ordinary Whoosh segments.

Whoosh's generic path pushes every posting through a sorting pool (spilled to disk as
pickles) and then through ``add_posting`` one call at a time: ~20 ms per document for
the ~1,200 grams of a typical document.  Here the grams of a segment are inverted in
memory (gram → array of docnums, array of weights) and written block by block with the
codec's own block writer, so the files are standard Whoosh 3 segments that any Whoosh
reader (and Whoosh's own merging) understands.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_mod
import secrets
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import repeat

import numpy as np
from whoosh import writing
from whoosh.codec import base as whoosh_codec_base
from whoosh.codec.whoosh3 import W3Codec
from whoosh.index import LockError

from app.common.procs import die_with_parent
from app.search.normalize import _SPLIT, _add
from app.search.whoosh_lock import WriteLock
from app.search.whoosh_positions import EXT as POSITIONS_EXT
from app.search.whoosh_positions import TITLE_BOOST, write_positions

GRAM_FIELD = "g"
TEXT_COLUMN = "nt"  # the folded fields joined by FIELD_SEP, UTF-16-LE
BLOCK_LIMIT = 1024  # postings per block: fewer, larger blocks read faster in bulk
MAX_WEIGHT = 65535  # weights are small integers (array "H"), pickled in 2-3 bytes each
SEGMENT_DOCS = 25_000  # a rebuild writes segments of at most this many documents
MERGE_CAP = 20_000  # the indexer never merges segments bigger than this (no long spikes)


def _segment_id(cls, size: int = 16) -> str:
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))


# Whoosh names new segments with the global `random` module: anything in the process that seeds
# it (a library, a test framework) makes two commits pick the same name and the second one fail.
whoosh_codec_base.Segment._random_id = classmethod(_segment_id)


def make_codec() -> W3Codec:
    # compression=0: blocks are read in bulk and zlib would cost more than it saves
    return W3Codec(blocklimit=BLOCK_LIMIT, compression=0, inlinelimit=1)


def gram_weights(folded_fields: list[str]) -> Counter[str]:
    """Weight of every gram of one document: occurrences, + TITLE_BOOST if the gram
    is in the number or the title (the first two fields)."""
    counts: Counter[str] = Counter()
    for i, text in enumerate(folded_fields):
        for chunk in _SPLIT(text):
            if chunk:  # chunk_grams, with C-level maps only (the hot loop of a rebuild)
                counts.update(chunk)
                pairs = list(map(_add, chunk, chunk[1:]))
                counts.update(pairs)
                counts.update(map(_add, pairs, chunk[2:]))
        if i == 1:
            for gram in list(counts):
                counts[gram] += TITLE_BOOST
    return counts


class _GramPool:
    """Posting pool: gram postings kept as three flat arrays (gram id, docnum, weight),
    appended per document by C-level extends and inverted at flush by one stable numpy
    sort; anything else goes to Whoosh's own pool."""

    def __init__(self, inner):
        self.inner = inner
        self.fieldnames = inner.fieldnames
        self._new()

    def _new(self) -> None:
        self.gmap: dict[str, int] = {}
        self.keys = array("i")
        self.docs = array("I")
        self.weights = array("H")

    def add(self, item):  # generic path (merging segments)
        fieldname, tbytes, docnum, weight, _v = item
        if fieldname == GRAM_FIELD:
            self.fieldnames.add(fieldname)
            gram = tbytes.decode("utf-8")
            gid = self.gmap.setdefault(gram, len(self.gmap))
            self.keys.append(gid)
            self.docs.append(docnum)
            self.weights.append(min(int(weight), MAX_WEIGHT))
        else:
            self.inner.add(item)

    def add_grams(self, docnum: int, weights: Counter[str]) -> None:
        if not weights:
            return
        gmap = self.gmap
        new = set(weights).difference(gmap)  # (keys() - keys() would walk all of gmap)
        if new:
            gmap.update(zip(new, range(len(gmap), len(gmap) + len(new)), strict=True))
        self.keys.extend(map(gmap.__getitem__, weights.keys()))
        values = weights.values()
        if max(values) > MAX_WEIGHT:
            values = [min(v, MAX_WEIGHT) for v in values]
        self.weights.extend(values)
        self.docs.extend(repeat(docnum, len(weights)))
        self.fieldnames.add(GRAM_FIELD)

    def gram_postings(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """(gram, docnums ascending, weights) for every gram, in term (code point) order."""
        if not self.gmap:
            return
        keys = np.frombuffer(self.keys, dtype=np.int32)
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        if len(keys) < 2**32:
            # gram id and insertion index in one uint64: one np.sort (~2x a stable argsort
            # of the ids) orders by gram with each gram's postings in insertion order
            packed = keys.astype(np.uint64)
            packed <<= np.uint64(32)
            packed |= np.arange(len(keys), dtype=np.uint64)
            packed.sort()
            keys = (packed >> np.uint64(32)).astype(np.int32)
            packed &= np.uint64(0xFFFFFFFF)
            order = packed
        else:
            order = np.argsort(keys, kind="stable")  # per gram, insertion order kept
            keys = keys[order]
        docs = docs[order]
        ws = np.frombuffer(self.weights, dtype=np.uint16)[order]
        del order
        if ((keys[1:] == keys[:-1]) & (docs[1:] < docs[:-1])).any():  # a merge out of order
            order = np.lexsort((docs, keys))
            keys, docs, ws = keys[order], docs[order], ws[order]
        bounds = np.searchsorted(keys, np.arange(len(self.gmap) + 1)).tolist()
        gmap = self.gmap
        for gram in sorted(gmap):  # code point order == UTF-8 byte order
            gid = gmap[gram]
            s, e = bounds[gid], bounds[gid + 1]
            yield gram, docs[s:e], ws[s:e]

    def iter_postings(self):
        return self.inner.iter_postings()

    def cleanup(self):
        self._new()
        self.inner.cleanup()

    def __getattr__(self, name):
        return getattr(self.inner, name)


class CasefileWriter(writing.SegmentWriter):
    """SegmentWriter whose gram field is inverted in memory and written in bulk."""

    def __init__(self, ix, timeout: float = 0.0, delay: float = 0.1, _lk: bool = True, **kwargs):
        kwargs.setdefault("codec", make_codec())
        # our lock instead of Whoosh's: same file, plus a holder record and stale take-over
        lock = None
        if _lk:
            lock = WriteLock(ix.storage.folder, f"{ix.indexname}_WRITELOCK")
            if not lock.acquire_within(timeout, delay):
                raise LockError
        try:
            super().__init__(ix, _lk=False, **kwargs)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self.writelock = lock
        self.pool = _GramPool(self.pool)
        # every document's text, new or copied by a merge, for the positions file
        self._texts: dict[int, bytes] = {}
        pdw = self.perdocwriter
        add_column_value = pdw.add_column_value

        def capture(fieldname, columnobj, value):
            if fieldname == TEXT_COLUMN:
                self._texts[self.docnum] = value
            add_column_value(fieldname, columnobj, value)

        pdw.add_column_value = capture

    def add_document(self, **fields):
        grams = fields.pop(GRAM_FIELD, None)
        docnum = self.docnum
        super().add_document(**fields)
        if grams:
            self.pool.add_grams(docnum, gram_weights(grams))

    def _finalize_segment(self):
        # after Whoosh has assembled the compound file (which would swallow this one)
        segment = super()._finalize_segment()
        texts, self._texts = self._texts, {}
        write_positions(
            os.path.join(self.storage.folder, segment.make_filename(POSITIONS_EXT)),
            [texts.get(d, b"") for d in range(self.docnum)],
        )
        return segment

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        # other fields (doc_id) first: their field ids, and so their keys, sort lower
        fw.add_postings(self.schema, None, self.pool.iter_postings())
        started = False
        block: dict = {}
        for gram, ids, ws in self.pool.gram_postings():
            if not started:
                fw.start_field(GRAM_FIELD, self.schema[GRAM_FIELD])
                started = True
                pw = fw._postwriter
                limit = pw._blocklimit
                # Whoosh's block writer minifies ids and weights posting by posting in
                # Python; here they come precomputed with numpy (same bytes on disk)
                pw._mini_ids = lambda: block["ids"]
                pw._mini_weights = lambda: block["weights"]
            fw.start_term(gram.encode("utf-8"))
            n = len(ids)
            for start in range(0, n, limit):
                b_ids = ids[start : start + limit]
                b_ws = ws[start : start + limit]
                pw._ids = b_ids.tolist()
                pw._weights = b_ws.tolist()
                pw._values = []
                top = int(b_ws.max())
                pw._maxweight = top
                pw._minlength = None
                pw._maxlength = 0
                block["ids"] = tuple(np.diff(b_ids.astype(np.int64), prepend=0).tolist())
                block["weights"] = _mini_weights(top, int(b_ws.min()), pw._weights)
                if start + limit < n:
                    pw._write_block()
            fw.finish_term()
        if started:
            fw.finish_field()
        fw.close()


def _mini_weights(top: int, low: int, weights: list[int]):
    """A block's weights as Whoosh 3 stores them: None when all are 1, one *float* when
    all are equal (its reader tests for float), else the tuple (small ints pickle short)."""
    if top == low:
        return None if top == 1 else float(top)
    return tuple(weights)


def small_segments(segments) -> list:
    """The segments below MERGE_CAP documents: the ones the indexer merges."""
    return [s for s in segments if s.doc_count_all() < MERGE_CAP]


def merge_capped(writer, segments):
    """Whoosh's MERGE_SMALL over the segments below MERGE_CAP docs; big ones stay put
    (merge them off-peak with optimize())."""
    small = small_segments(segments)
    big = [s for s in segments if s not in small]
    return big + writing.MERGE_SMALL(writer, small)


# ----------------------------------------------------------------- parallel rebuild


def _write_batches(ix, batches: Iterable[list[dict]]) -> tuple[list, int]:
    """Write the documents of *batches* into new segments of at most SEGMENT_DOCS
    documents each (bounds the memory of the in-memory inversion); returns the
    finished segments, not yet committed, and the number of documents."""
    segments = []
    n = 0
    writer = CasefileWriter(ix, _lk=False)
    try:
        for batch in batches:
            for fields in batch:
                writer.add_document(**fields)
                n += 1
                if writer.docnum >= SEGMENT_DOCS:
                    segments.append(writer._finalize_segment())
                    writer = CasefileWriter(ix, _lk=False)
        if writer.docnum:
            segments.append(writer._finalize_segment())
    except BaseException:
        writer.cancel()
        raise
    return segments, n


def _jobs(jobs) -> Iterator[list[dict]]:
    while (batch := jobs.get()) is not None:
        yield batch


def _worker(index_dir: str, indexname: str, jobs, results, parent: int) -> None:
    from whoosh import index

    # killed with the rebuild: a child left waiting on the queue helps nobody (and, before
    # locks were dropped at fork, kept the live index locked; see whoosh_lock.py)
    die_with_parent(parent)
    ix = index.open_dir(index_dir, indexname=indexname)
    try:
        segments, _n = _write_batches(ix, _jobs(jobs))
        results.put(("ok", segments))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put(("error", repr(exc)))


def build_segments(ix, field_batches, procs: int) -> int:
    """Write the documents of *field_batches* (lists of add_document kwargs) into the
    empty index *ix* with *procs* processes, one segment each, and commit."""
    if procs <= 1:
        segments, n = _write_batches(ix, field_batches)
        _commit_segments(ix, segments)
        return n

    # fork: no re-import of __main__ (scripts, the CLI); spawn where fork is missing
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    jobs = ctx.Queue(maxsize=procs * 4)
    results = ctx.Queue()
    storage_dir = ix.storage.folder
    workers = [
        ctx.Process(
            target=_worker,
            args=(storage_dir, ix.indexname, jobs, results, os.getpid()),
            daemon=True,
        )
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    n = 0
    try:
        for batch in field_batches:
            jobs.put(batch)
            n += len(batch)
        for _ in workers:
            jobs.put(None)
        segments = []
        for _ in workers:
            while True:
                try:
                    status, value = results.get(timeout=5)
                    break
                except queue_mod.Empty:
                    if not any(w.is_alive() for w in workers):
                        raise RuntimeError("index build worker died") from None
            if status != "ok":
                raise RuntimeError(f"index build worker failed: {value}")
            segments.extend(value)
    finally:
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.kill()
    _commit_segments(ix, segments)
    return n


def _commit_segments(ix, segments) -> None:
    """Commit finished segments as the index's new table of contents."""
    writer = CasefileWriter(ix)
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()


def default_procs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))
