"""Trigram positions of a segment's text: an exact phrase match without reading the text.

Every run of three UTF-16 code units of a segment's verification text (the folded fields
joined by U+001F, the ``nt`` column) is recorded with where it occurs.  A string of four or
more code units occurs at offset *p* exactly when each trigram of a set covering it occurs at
*p* plus its own offset; so a phrase is found by starting from the occurrences of its rarest
trigram and keeping those where the covering trigrams occur at the shifted offsets (a merge
of two ascending lists, or a binary search per start, for each trigram, in C), and the
documents come from the offsets.  No candidate document's text is read, and the count of
occurrences per document is exact.

Code units rather than characters: the folded text is UTF-16 in the column, a trigram of code
units is one 48-bit integer computed with numpy, and UTF-16 is self-synchronising, so a match
of a well-formed pattern's code units is a match of its characters.  Trigrams containing the
field separator are not recorded: a pattern never contains it, so a match never crosses a
field or a document.

File ``<indexname>_<segment id>.tpos`` beside the segment's files (its name follows Whoosh's
segment pattern, so Whoosh deletes it with the segment).  Little-endian, 8-byte aligned::

    magic b"CFTPOS1\\n"
    n_docs, n_parts                             2 × uint64
    doc_starts   uint64[n_docs + 1]             offset of each document in the concatenation
    title_ends   uint64[n_docs]                 offset past each document's number and title
    then n_parts parts, each covering a run of documents (bounds the memory of writing):
      n_keys, n_pos, pos_itemsize, doc_lo, doc_hi, 0    6 × uint64 (documents lo .. hi - 1)
      keys    uint64[n_keys]                    sorted trigram keys (u0 << 32 | u1 << 16 | u2)
      bounds  uint64[n_keys + 1]                occurrences of keys[i]: pos[bounds[i]:bounds[i+1]]
      pos     uint32 or uint64 [n_pos]          ascending offsets per key, padded to 8 bytes

Documents are concatenated each followed by one separator, so offsets are global to the file.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Sequence

import numpy as np

from app.search.normalize import FIELD_SEP

EXT = ".tpos"
MAGIC = b"CFTPOS1\n"
SEP = ord(FIELD_SEP)  # between fields and, here, between documents
POS32_LIMIT = 2**32  # offsets below this are stored in 32 bits
PART_UNITS = 24_000_000  # code units per part: ~0.8 GB peak while writing one
MERGE_RATIO = 32  # below this length ratio two sorted lists are merged, not searched
TITLE_BOOST = 20  # a match in the number or title weighs this much more (as a gram does)

_U64 = np.dtype("<u8")


def trigram_keys(units: np.ndarray) -> np.ndarray:
    """The 48-bit key of every run of three code units of *units* (uint16)."""
    u = units.astype(np.uint64)
    return (u[:-2] << np.uint64(32)) | (u[1:-1] << np.uint64(16)) | u[2:]


def write_positions(path: str, texts: Sequence[bytes]) -> None:
    """Write the positions file of a segment whose documents' texts (UTF-16-LE, in docnum
    order) are *texts*."""
    n = len(texts)
    lens = np.fromiter((len(t) // 2 for t in texts), dtype=np.int64, count=n)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens + 1, out=starts[1:])
    title_ends = np.empty(n, dtype=np.int64)
    seen = np.zeros(65536, dtype=bool)
    for i, t in enumerate(texts):  # past the second separator's position: number, title
        a = np.frombuffer(t, dtype="<u2")
        seen[a] = True
        seps = np.flatnonzero(a == SEP)
        title_ends[i] = starts[i] + (int(seps[1]) if len(seps) > 1 else len(a))
    total = int(starts[-1])
    pos_dtype = np.dtype("<u4") if total < POS32_LIMIT else _U64
    packing = _Packing(np.flatnonzero(seen))
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(MAGIC)
        parts = list(_part_ranges(lens, min(PART_UNITS, packing.max_units)))
        np.array([n, len(parts)], dtype=_U64).tofile(fh)
        starts.astype(_U64).tofile(fh)
        title_ends.astype(_U64).tofile(fh)
        for lo, hi in parts:
            _write_part(fh, texts[lo:hi], int(starts[lo]), pos_dtype, packing, (lo, hi))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _Packing:
    """Trigram and offset in one uint64, so that one np.sort (SIMD, ~15x faster than a
    stable argsort) groups the occurrences by trigram with their offsets ascending: the
    segment's distinct code units are numbered densely (in code unit order, so the
    trigrams keep their order) in *bits* bits each; the offset in the part takes the
    rest."""

    def __init__(self, units: np.ndarray):
        self.units = units.astype(np.uint64)
        self.bits = max(1, int(len(units) - 1).bit_length())
        self.pos_bits = 64 - 3 * self.bits  # ≥ 16
        self.max_units = 1 << self.pos_bits
        self.rank = np.zeros(65536, dtype=np.uint64)
        self.rank[units] = np.arange(len(units), dtype=np.uint64)

    def sorted_keys(self, a: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(trigram keys, offsets in *a*) of the trigrams starting at *at*, in key order."""
        b = np.uint64(self.bits)
        if len(a) > self.max_units:  # one document longer than a part: the slow way
            keys = trigram_keys(a)[at]
            order = np.argsort(keys, kind="stable")
            return keys[order], at[order].astype(np.uint64)
        r = self.rank[a]
        packed = (r[:-2] << (b + b)) | (r[1:-1] << b) | r[2:]
        del r
        packed = packed[at]
        packed <<= np.uint64(self.pos_bits)
        packed |= at.astype(np.uint64)
        packed.sort()
        offsets = packed & np.uint64((1 << self.pos_bits) - 1)
        packed >>= np.uint64(self.pos_bits)
        return packed, offsets

    def real_keys(self, dense: np.ndarray) -> np.ndarray:
        """The 48-bit keys of densely numbered trigrams (sorted_keys' keys on its fast way)."""
        b = np.uint64(self.bits)
        mask = np.uint64((1 << self.bits) - 1)
        u = self.units
        return (
            (u[dense >> (b + b)] << np.uint64(32))
            | (u[(dense >> b) & mask] << np.uint64(16))
            | u[dense & mask]
        )


def _part_ranges(lens: np.ndarray, limit: int):
    lo, acc = 0, 0
    for i, n in enumerate(lens.tolist()):
        if acc and acc + n + 1 > limit:
            yield lo, i
            lo, acc = i, 0
        acc += n + 1
    if lo < len(lens) or not len(lens):
        yield lo, len(lens)


def _write_part(
    fh,
    texts: Sequence[bytes],
    base: int,
    pos_dtype: np.dtype,
    packing: _Packing,
    docs: tuple[int, int],
) -> None:
    sep = np.array([SEP], dtype="<u2").tobytes()
    a = np.frombuffer(sep.join(texts) + sep, dtype="<u2") if texts else np.zeros(0, "<u2")
    if len(a) >= 3:
        ok = a != SEP
        valid = ok[:-2] & ok[1:-1] & ok[2:]
        at = np.flatnonzero(valid)
        del ok, valid
        fast = len(a) <= packing.max_units
        keys, offsets = packing.sorted_keys(a, at)
        del at
        pos = (offsets + np.uint64(base)).astype(pos_dtype)
        del offsets
        first = np.empty(len(keys), dtype=bool)
        if len(keys):
            first[0] = True
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
        heads = np.flatnonzero(first)
        ukeys = keys[heads]
        if fast:
            ukeys = packing.real_keys(ukeys)
        bounds = np.append(heads, len(keys)).astype(_U64)
        del keys, first
    else:
        ukeys = np.zeros(0, dtype=_U64)
        bounds = np.zeros(1, dtype=_U64)
        pos = np.zeros(0, dtype=pos_dtype)
    header = [len(ukeys), len(pos), pos_dtype.itemsize, docs[0], docs[1], 0]
    np.array(header, dtype=_U64).tofile(fh)
    ukeys.astype(_U64).tofile(fh)
    bounds.tofile(fh)
    pos.tofile(fh)
    pad = (-pos.nbytes) % 8
    if pad:
        fh.write(b"\0" * pad)


class _Part:
    __slots__ = ("keys", "bounds", "pos", "lo", "hi")

    def __init__(self, keys: np.ndarray, bounds: np.ndarray, pos: np.ndarray, lo: int, hi: int):
        self.keys = keys
        self.bounds = bounds
        self.pos = pos
        self.lo = lo  # the part holds documents lo .. hi - 1
        self.hi = hi

    def counts(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of each of *keys* in the part, its occurrences: 0 when absent), in one
        binary search for all of them."""
        if not len(self.keys):
            return np.zeros(len(keys), dtype=np.intp), np.zeros(len(keys), dtype=np.int64)
        i = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        n = (self.bounds[i + 1] - self.bounds[i]).astype(np.int64)
        n[self.keys[i] != keys] = 0
        return i, n

    def lookup_all(self, keys: np.ndarray) -> list[np.ndarray] | None:
        """The occurrences of each of *keys*, or None when one of them is absent."""
        i, n = self.counts(keys)
        if not n.all():
            return None
        starts = self.bounds[i].tolist()
        return [self.pos[a : a + c] for a, c in zip(starts, n.tolist(), strict=True)]


class Positions:
    """A segment's positions file, mapped read-only."""

    def __init__(self, path: str, n_docs: int):
        try:
            with open(path, "rb") as fh:
                self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise FileNotFoundError(f"{os.path.basename(path)} is missing") from None
        buf = self._mm
        if buf[:8] != MAGIC:
            raise ValueError(f"{os.path.basename(path)} is not a positions file")
        n, n_parts = np.frombuffer(buf, dtype=_U64, count=2, offset=8).tolist()
        if n != n_docs:
            raise ValueError(f"positions of {n} documents, segment has {n_docs}")
        at = 24
        self.doc_starts = np.frombuffer(buf, dtype=_U64, count=n + 1, offset=at)
        at += 8 * (n + 1)
        self.title_ends = np.frombuffer(buf, dtype=_U64, count=n, offset=at)
        at += 8 * n
        self.parts: list[_Part] = []
        self._starts: np.ndarray | None = None
        self._title_ends: np.ndarray | None = None
        for _ in range(n_parts):
            head = np.frombuffer(buf, dtype=_U64, count=6, offset=at).tolist()
            n_keys, n_pos, size, lo, hi, _z = head
            at += 48
            keys = np.frombuffer(buf, dtype=_U64, count=n_keys, offset=at)
            at += 8 * n_keys
            bounds = np.frombuffer(buf, dtype=_U64, count=n_keys + 1, offset=at)
            at += 8 * (n_keys + 1)
            dt = np.dtype("<u4") if size == 4 else _U64
            pos = np.frombuffer(buf, dtype=dt, count=n_pos, offset=at)
            at += size * n_pos + (-(size * n_pos)) % 8
            self.parts.append(_Part(keys, bounds, pos, lo, hi))
        if at != len(buf):
            raise ValueError("positions file has a wrong length")

    def match(
        self, pattern: str, base: np.ndarray, want_scores: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Docnums (ascending, int32) in the mask *base* whose text contains *pattern*
        (at least three code units), with a score each when wanted: its occurrences,
        plus TITLE_BOOST when one is in the number or title."""
        keys = trigram_keys(_units(pattern))
        found_docs, found_scores = [], []
        for part in self.parts:
            lists = part.lookup_all(keys)
            if lists is None:
                continue
            docs, scores = self._match_part(part, lists, base, want_scores)
            if len(docs):
                found_docs.append(docs)
                found_scores.append(scores)
        if not found_docs:
            return np.zeros(0, dtype=np.int32), (np.zeros(0) if want_scores else None)
        docs = np.concatenate(found_docs) if len(found_docs) > 1 else found_docs[0]
        if not want_scores:
            return docs, None
        return docs, np.concatenate(found_scores) if len(found_scores) > 1 else found_scores[0]

    def rarest_count(self, pattern: str) -> int:
        """Occurrences in the segment of the rarest trigram of *pattern* (0: no match)."""
        keys = trigram_keys(_units(pattern))
        counts = np.zeros(len(keys), dtype=np.int64)
        for part in self.parts:
            counts += part.counts(keys)[1]
        return int(counts.min()) if len(counts) else 0

    def _match_part(
        self, part: _Part, lists: list[np.ndarray], base: np.ndarray, want_scores: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        nk = len(lists)
        rarest = min(range(nk), key=lambda i: len(lists[i]))
        p = lists[rarest]
        if rarest:
            p = p[p >= rarest] - p.dtype.type(rarest)  # where the string would start
        lo, hi = part.lo, part.hi
        starts = self._starts_as(p.dtype)[lo : hi + 1]
        # the documents first: the scope and the filters cut before any other list is read
        if len(p) <= hi - lo:  # few occurrences: the document of each
            keep = base[np.searchsorted(starts, p, side="right") + (lo - 1)]
            if not keep.all():
                p = p[keep]
        else:  # many: how many in each document of the part
            per_doc = np.diff(np.searchsorted(p, starts))
            allowed = base[lo:hi]
            if not allowed[per_doc > 0].all():
                p = p[np.repeat(allowed, per_doc)]
        # a covering set of trigrams, each at its offset, rarest first
        cover = set(range(0, nk, 3)) | {nk - 1}
        cover.discard(rarest)
        for i in sorted(cover, key=lambda i: len(lists[i])):
            if not len(p):
                break
            hay = lists[i]
            shift = p.dtype.type(i)
            want = p + shift
            if len(hay) > MERGE_RATIO * len(want):  # few against many: look each one up
                j = np.searchsorted(hay, want)
                np.minimum(j, len(hay) - 1, out=j)
                p = p[hay[j] == want]
            else:  # both long: merge them; each is ascending, so a stable sort (timsort)
                # of the two runs is one linear merge, ~10x a quicksort of the same array
                both = np.concatenate((want, hay))
                both.sort(kind="stable")
                p = both[:-1][both[1:] == both[:-1]] - shift
        if not len(p):
            return np.zeros(0, dtype=np.int32), None
        title_ends = self._title_ends_as(p.dtype)
        if len(p) <= hi - lo:
            docs = (np.searchsorted(starts, p, side="right") + (lo - 1)).astype(np.int32)
            first = np.empty(len(docs), dtype=bool)
            first[0] = True
            np.not_equal(docs[1:], docs[:-1], out=first[1:])
            heads = np.flatnonzero(first)
            hits = docs[heads]
            if not want_scores:
                return hits, None
            counts = np.diff(np.append(heads, len(docs)))
            titled = np.logical_or.reduceat(p < title_ends[docs], heads)
        else:
            at = np.searchsorted(p, starts)  # where each document's occurrences begin in p
            counts = np.diff(at)
            nz = np.flatnonzero(counts)
            hits = (nz + lo).astype(np.int32)
            if not want_scores:
                return hits, None
            counts = counts[nz]
            # an occurrence in the number or title: one before the end of the title
            titled = np.searchsorted(p, title_ends[hits]) > at[nz]
        return hits, counts.astype(np.float64) + titled * float(TITLE_BOOST)

    def _starts_as(self, dtype: np.dtype) -> np.ndarray:
        """doc_starts in the offsets' own type (a search across types converts the array)."""
        if self._starts is None or self._starts.dtype != dtype:
            self._starts = self.doc_starts.astype(dtype)
            self._title_ends = self.title_ends.astype(dtype)
        return self._starts

    def _title_ends_as(self, dtype: np.dtype) -> np.ndarray:
        self._starts_as(dtype)
        return self._title_ends

    def close(self) -> None:
        try:
            self._mm.close()
        except BufferError:  # arrays still refer to it: the mapping goes with them
            pass


def _units(pattern: str) -> np.ndarray:
    return np.frombuffer(pattern.encode("utf-16-le", "surrogatepass"), dtype="<u2")


def positions_path(folder: str, segment) -> str:
    return os.path.join(folder, segment.make_filename(EXT))
