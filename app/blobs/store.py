"""Write-once, content-addressed blob store: archive/blobs/ab/cd/<sha256>.

A blob is written to a temporary file, fsynced, renamed into place and its directory fsynced
before the record that names it commits; a crash leaves at worst an orphan blob, never a
record without its file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.blobs.models import Blob
from app.common.hashing import sha256_hex
from app.db.base import utcnow

SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(LookupError):
    pass


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not SHA_RE.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha = sha256_hex(data)
        target = self.path(sha)
        if target.exists() and target.stat().st_size == len(data):
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=sha[:8] + ".")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return sha

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the blob is present and hashes to its name; otherwise the problem."""
        path = self.path(sha256)
        if not path.exists():
            return "文件缺失 (blob missing)"
        data = path.read_bytes()
        if size is not None and len(data) != size:
            return f"大小不符 (size {len(data)} != recorded {size})"
        actual = sha256_hex(data)
        if actual != sha256:
            return f"内容被改动 (sha256 {actual} != recorded {sha256})"
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_blob(session: Session, store: BlobStore, data: bytes, media_type: str) -> str:
    """Write the bytes durably, then record them in the session's transaction."""
    sha = store.put(data)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Blob)
        .values(sha256=sha, size=len(data), media_type=media_type, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha
