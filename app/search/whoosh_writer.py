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
from array import array
from collections import Counter

import numpy as np
from whoosh import writing
from whoosh.codec.whoosh3 import W3Codec

from app.search.normalize import _SPLIT, _add

GRAM_FIELD = "g"
TITLE_BOOST = 20  # a gram of the number or title counts this many extra times
BLOCK_LIMIT = 1024  # postings per block: fewer, larger blocks read faster in bulk
MAX_WEIGHT = 65535  # weights are small integers (array "H"), pickled in 2-3 bytes each
MERGE_CAP = 20_000  # the indexer never merges segments bigger than this (no long spikes)


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
    """Posting pool: gram postings inverted in memory, anything else to Whoosh's pool."""

    def __init__(self, inner):
        self.inner = inner
        self.grams: dict[str, tuple[array, array]] = {}
        self.fieldnames = inner.fieldnames

    def add(self, item):  # generic path (merging segments)
        fieldname, tbytes, docnum, weight, _v = item
        if fieldname == GRAM_FIELD:
            self.fieldnames.add(fieldname)
            gram = tbytes.decode("utf-8")
            entry = self.grams.get(gram)
            if entry is None:
                entry = self.grams[gram] = (array("I"), array("H"))
            entry[0].append(docnum)
            entry[1].append(min(int(weight), MAX_WEIGHT))
        else:
            self.inner.add(item)

    def add_grams(self, docnum: int, weights: Counter[str]) -> None:
        grams = self.grams
        for gram, w in weights.items():
            if w > MAX_WEIGHT:
                w = MAX_WEIGHT
            entry = grams.get(gram)
            if entry is None:
                grams[gram] = (array("I", (docnum,)), array("H", (w,)))
            else:
                entry[0].append(docnum)
                entry[1].append(w)
        if weights:
            self.fieldnames.add(GRAM_FIELD)

    def iter_postings(self):
        return self.inner.iter_postings()

    def cleanup(self):
        self.grams = {}
        self.inner.cleanup()

    def __getattr__(self, name):
        return getattr(self.inner, name)


class CasefileWriter(writing.SegmentWriter):
    """SegmentWriter whose gram field is inverted in memory and written in bulk."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("codec", make_codec())
        super().__init__(ix, **kwargs)
        self.pool = _GramPool(self.pool)

    def add_document(self, **fields):
        grams = fields.pop(GRAM_FIELD, None)
        docnum = self.docnum
        super().add_document(**fields)
        if grams:
            self.pool.add_grams(docnum, gram_weights(grams))

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        # other fields (doc_id) first: their field ids, and so their keys, sort lower
        fw.add_postings(self.schema, None, self.pool.iter_postings())
        grams = self.pool.grams
        if grams:
            fieldobj = self.schema[GRAM_FIELD]
            fw.start_field(GRAM_FIELD, fieldobj)
            pw = fw._postwriter
            limit = pw._blocklimit
            # Whoosh's _mini_ids delta-encodes posting by posting in Python; same bytes
            pw._mini_ids = lambda: tuple(
                np.diff(
                    np.frombuffer(pw._ids, dtype=np.uint32).astype(np.int64), prepend=0
                ).tolist()
            )
            for gram in sorted(grams):  # code point order == UTF-8 byte order
                ids, ws = grams[gram]
                if (
                    len(ids) > 1
                    and (np.diff(np.frombuffer(ids, dtype=np.uint32).astype(np.int64)) < 0).any()
                ):
                    order = sorted(range(len(ids)), key=ids.__getitem__)
                    ids = array("I", (ids[i] for i in order))
                    ws = array("H", (ws[i] for i in order))
                fw.start_term(gram.encode("utf-8"))
                n = len(ids)
                for start in range(0, n, limit):
                    pw._ids = ids[start : start + limit]
                    pw._weights = ws[start : start + limit]
                    pw._values = []
                    pw._maxweight = max(pw._weights)
                    pw._minlength = None
                    pw._maxlength = 0
                    if start + limit < n:
                        pw._write_block()
                fw.finish_term()
            fw.finish_field()
        fw.close()


def merge_capped(writer, segments):
    """Whoosh's MERGE_SMALL over the segments below MERGE_CAP docs; big ones stay put
    (merge them off-peak with optimize())."""
    big = [s for s in segments if s.doc_count_all() >= MERGE_CAP]
    small = [s for s in segments if s.doc_count_all() < MERGE_CAP]
    return big + writing.MERGE_SMALL(writer, small)


# ----------------------------------------------------------------- parallel rebuild


def _worker(index_dir: str, indexname: str, jobs, results) -> None:
    from whoosh import index

    ix = index.open_dir(index_dir, indexname=indexname)
    writer = CasefileWriter(ix, _lk=False)
    try:
        while True:
            batch = jobs.get()
            if batch is None:
                break
            for fields in batch:
                writer.add_document(**fields)
        segment = writer._finalize_segment() if writer.docnum else None
        results.put(("ok", segment))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        writer.cancel()
        results.put(("error", repr(exc)))


def build_segments(ix, field_batches, procs: int) -> int:
    """Write the documents of *field_batches* (lists of add_document kwargs) into the
    empty index *ix* with *procs* processes, one segment each, and commit."""
    if procs <= 1:
        writer = CasefileWriter(ix)
        n = 0
        try:
            for batch in field_batches:
                for fields in batch:
                    writer.add_document(**fields)
                    n += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        return n

    # fork: no re-import of __main__ (scripts, the CLI); spawn where fork is missing
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    jobs = ctx.Queue(maxsize=procs * 4)
    results = ctx.Queue()
    storage_dir = ix.storage.folder
    workers = [
        ctx.Process(target=_worker, args=(storage_dir, ix.indexname, jobs, results), daemon=True)
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
            if value is not None:
                segments.append(value)
    finally:
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.kill()
    writer = CasefileWriter(ix)
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
    return n


def default_procs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))
