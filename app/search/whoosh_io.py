"""Read segment files in place instead of copying them into memory.

Whoosh opens each part of a compound segment file as a ``BufferFile`` over a memoryview
of the mmapped file, and ``BufferFile.__init__`` wraps that view in ``io.BytesIO(buf)``
for its seek/read interface.  BytesIO copies a memoryview whole, so every open segment
ends up in anonymous memory as well as in the page cache: ~1.2 GiB per process at
100,000 documents, for a file that was mmapped precisely to avoid that.

``ViewFile`` gives the same read-only file interface over the view without a copy;
``install()`` makes ``BufferFile`` use it.  Reads return the same bytes as before, so
nothing else in Whoosh changes.
"""

from __future__ import annotations

import io
import os

from whoosh.filedb import structfile

_CHUNK = 4096
_PEEK = 512


class ViewFile(io.RawIOBase):
    """Read-only, seekable file over a buffer (bytes, memoryview, mmap slice)."""

    def __init__(self, buf):
        super().__init__()
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        n = len(self._view)
        end = n if size is None or size < 0 else min(n, start + size)
        if end <= start:
            return b""
        self._pos = end
        return bytes(self._view[start:end])

    def peek(self, size: int = 0) -> bytes:
        """The next bytes without moving: pickle.load() reads ahead with it (one call per
        object, where it would otherwise call read() once per opcode)."""
        start = self._pos  # at most _PEEK: pickle asks for 8 KiB, the objects here are small
        return bytes(self._view[start : min(len(self._view), start + min(max(size, 1), _PEEK))])

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        start = self._pos
        n = len(self._view)
        limit = n if size is None or size < 0 else min(n, start + size)
        end = start
        while end < limit:
            chunk = bytes(self._view[end : min(limit, end + _CHUNK)])
            i = chunk.find(b"\n")
            if i >= 0:
                end += i + 1
                break
            end += len(chunk)
        self._pos = end
        return bytes(self._view[start:end])

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            pos = len(self._view) + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._view.release()
        super().close()


def _buffer_file_init(self, buf, name=None, onclose=None):
    # whoosh.filedb.structfile.BufferFile.__init__, minus the BytesIO copy
    self._buf = buf
    self._name = name
    self.file = ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def install() -> None:
    structfile.BufferFile.__init__ = _buffer_file_init
