"""Posting lists of the Whoosh backend, as numpy arrays.

- ``read_postings``: a gram's posting list straight from Whoosh's block format into numpy,
  the dense blocks without unpickling them.
- ``PostingCache``: decoded posting arrays of (segment, gram), bounded in bytes.
"""

from __future__ import annotations

import pickle
import threading
import zlib
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

from app.search.whoosh_segments import EMPTY_IDS


class PostingCache:
    """LRU of decoded posting arrays keyed by (segment id, gram), bounded in bytes.

    Segments never change, so an entry is valid until its segment is merged away (it
    then simply ages out).  Common grams recur across queries, so a long-running server
    mostly skips Whoosh's block decoding for them."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._d: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, weights: bool):
        with self._lock:
            entry = self._d.get(key)
            if entry is None or (weights and entry[1] is None):
                return None
            self._d.move_to_end(key)
            return entry

    def put(self, key, ids: np.ndarray, ws: np.ndarray | None) -> None:
        size = ids.nbytes + (ws.nbytes if ws is not None else 0)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._d.pop(key, None)
            if old is not None:
                self.bytes -= old[0].nbytes + (old[1].nbytes if old[1] is not None else 0)
            self._d[key] = (ids, ws)
            self.bytes += size
            while self.bytes > self.max_bytes and self._d:
                _, (a, b) = self._d.popitem(last=False)
                self.bytes -= a.nbytes + (b.nbytes if b is not None else 0)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.bytes = 0


def read_postings(reader, gram: str, weights: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Every docnum (ascending, int32) of *gram* in one segment, with its weight
    (float64) when asked: Whoosh 3 blocks decoded in bulk, not posting by posting."""
    fieldobj = reader.schema["g"]
    try:
        m = reader._terms.matcher("g", gram.encode("utf-8"), fieldobj.format)
    except Exception:  # noqa: BLE001 - TermNotFound and friends
        return EMPTY_IDS, (np.zeros(0) if weights else None)
    if not isinstance(m, W3LeafMatcher):  # inlined (one posting) or another codec
        ids, ws = [], []
        while m.is_active():
            ids.append(m.id())
            if weights:
                ws.append(m.weight())
            m.next()
        return np.array(ids, dtype=np.int32), (np.array(ws, dtype=np.float64) if weights else None)
    id_chunks: list[np.ndarray] = []
    w_chunks: list = []
    lens: list[int] = []
    while True:
        n = m._blocklength
        raw = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
        if m._compression:
            raw = zlib.decompress(raw)
        ids, ws = _block_data(raw, n, weights)
        id_chunks.append(ids)
        w_chunks.append(ws)
        lens.append(n)
        if m._lastblock:
            break
        m._goto(m._nextoffset)
    flat = np.concatenate(id_chunks) if len(id_chunks) > 1 else id_chunks[0]
    if not m._byteids:  # each block is delta-encoded from zero
        flat = np.cumsum(flat)
        if len(lens) > 1:
            ends = np.cumsum(lens)
            flat -= np.repeat(np.concatenate(([0], flat[ends[:-1] - 1])), lens)
    ids = flat.astype(np.int32)
    if not weights:
        return ids, None
    ws = np.concatenate([
        np.asarray(w, dtype=np.float64) if isinstance(w, np.ndarray | tuple | list)
        else np.full(n, 1.0 if w is None else float(w))
        for w, n in zip(w_chunks, lens, strict=True)
    ])  # fmt: skip
    return ids, ws


# Pickle opcodes of a block's data, ``(ids, weights, values)`` pickled with protocol 2.
_MARK, _TUPLE, _BINPUT, _NONE, _BINFLOAT = 0x28, 0x74, 0x71, 0x4E, 0x47
_BININT1, _BININT2, _BININT = 0x4B, 0x4D, 0x4A


def _block_data(raw: bytes, n: int, weights: bool) -> tuple[np.ndarray, object]:
    """A block's ids (delta-encoded, int64) and its weights (None, one float, or per posting)
    read straight from the pickle's bytes with numpy when every number after the first is
    one byte (`K` opcodes: the dense lists that cost the most), else unpickled."""
    b = np.frombuffer(raw, dtype=np.uint8)
    if n >= 4 and len(b) > 3 and b[0] == 0x80 and b[2] == _MARK:
        got = _small_ints(b, 3, n)
        if (
            got is not None
            and got[1] + 3 <= len(b)
            and b[got[1]] == _TUPLE
            and b[got[1] + 1] == _BINPUT
        ):
            ids, at = got[0], got[1] + 3
            if not weights:
                return ids, None
            if b[at] == _NONE:
                return ids, None
            if b[at] == _BINFLOAT:
                return ids, float(np.frombuffer(raw, dtype=">f8", count=1, offset=int(at) + 1)[0])
            if b[at] == _MARK:
                ws = _small_ints(b, at + 1, n)
                if ws is not None and b[ws[1]] == _TUPLE:
                    return ids, ws[0].astype(np.float64)
    data = pickle.loads(raw)
    return np.array(data[0], dtype=np.int64), data[1]


def _small_ints(b: np.ndarray, at: int, n: int) -> tuple[np.ndarray, int] | None:
    """*n* pickled ints from offset *at* when all but the first are `K` (one byte each):
    the values and the offset after them; None otherwise."""
    op = b[at]
    if op == _BININT1:
        first, at = int(b[at + 1]), at + 2
    elif op == _BININT2:
        first, at = int(b[at + 1]) | int(b[at + 2]) << 8, at + 3
    elif op == _BININT:
        first, at = int.from_bytes(b[at + 1 : at + 5].tobytes(), "little", signed=True), at + 5
    else:
        return None
    rest = b[at : at + 2 * (n - 1)]
    if len(rest) != 2 * (n - 1) or at + 2 * (n - 1) >= len(b) or not (rest[0::2] == _BININT1).all():
        return None
    out = np.empty(n, dtype=np.int64)
    out[0] = first
    out[1:] = rest[1::2]
    return out, at + 2 * (n - 1)
