"""The template catalog: doc_templates/<id>/template.docx + schema.yaml, kept as versions.

Every version's DOCX and schema are stored as blobs, so a document made from version 3 can be
re-rendered byte for byte years later, whatever doc_templates/ holds by then.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.blobs.store import BlobStore, store_blob
from app.common import media_types
from app.common.hashing import sha256_hex
from app.identity.models import User
from app.templating.models import TemplateVersion
from app.templating.schema import TemplateSchema, parse_schema


@dataclass(frozen=True)
class LoadedTemplate:
    version_id: int
    template_id: str
    version: int
    title: str
    schema: TemplateSchema
    docx: bytes
    docx_sha256: str
    schema_sha256: str


class Catalog:
    def __init__(self, blobs: BlobStore, templates_dir: Path):
        self.blobs = blobs
        self.templates_dir = Path(templates_dir)
        self._cache: dict[int, LoadedTemplate] = {}
        self._lock = threading.Lock()

    def shipped(self) -> list[Path]:
        if not self.templates_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.templates_dir.iterdir()
            if (p / "template.docx").is_file() and (p / "schema.yaml").is_file()
        )

    def sample(self, template_id: str) -> dict | None:
        path = self.templates_dir / template_id / "sample.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        return None

    def sync(self, session: Session) -> list[tuple[str, int]]:
        """Record a new version for every shipped template whose files changed."""
        created = []
        for folder in self.shipped():
            docx = (folder / "template.docx").read_bytes()
            schema_bytes = (folder / "schema.yaml").read_bytes()
            parse_schema(schema_bytes, folder.name)  # refuse a broken shipped schema loudly
            latest = self.latest_row(session, folder.name, active_only=False)
            if (
                latest is not None
                and latest.docx_sha256 == sha256_hex(docx)
                and latest.schema_sha256 == sha256_hex(schema_bytes)
            ):
                continue
            row = self.add_version(session, folder.name, docx, schema_bytes, actor=None)
            created.append((row.template_id, row.version))
        return created

    def add_version(
        self,
        session: Session,
        template_id: str,
        docx: bytes,
        schema_bytes: bytes,
        actor: User | None,
    ) -> TemplateVersion:
        schema = parse_schema(schema_bytes, template_id)
        docx_sha = store_blob(session, self.blobs, docx, media_types.DOCX)
        schema_sha = store_blob(session, self.blobs, schema_bytes, "application/yaml")
        current = session.scalar(
            select(func.max(TemplateVersion.version)).where(
                TemplateVersion.template_id == template_id
            )
        )
        row = TemplateVersion(
            template_id=template_id,
            version=(current or 0) + 1,
            title=schema.title,
            docx_sha256=docx_sha,
            schema_sha256=schema_sha,
            created_by=actor.id if actor else None,
        )
        session.add(row)
        session.flush()
        return row

    def latest_row(
        self, session: Session, template_id: str, active_only: bool = True
    ) -> TemplateVersion | None:
        query = select(TemplateVersion).where(TemplateVersion.template_id == template_id)
        if active_only:
            query = query.where(TemplateVersion.active.is_(True))
        return session.scalars(query.order_by(TemplateVersion.version.desc()).limit(1)).first()

    def latest_versions(self, session: Session) -> list[TemplateVersion]:
        return list(session.scalars(_latest(TemplateVersion)))

    def latest_version_ids(self, session: Session) -> tuple[int, ...]:
        """The ids of `latest_versions`, in the same order, as plain values (no ORM objects:
        what a cache checks its answer against on every page)."""
        return tuple(session.scalars(_latest(TemplateVersion.id)))

    def load(self, row: TemplateVersion) -> LoadedTemplate:
        """The template version exactly as recorded (from the blob store), cached: versions never change."""
        cached = self._cache.get(row.id)
        if cached is not None:
            return cached
        docx = self.blobs.get(row.docx_sha256)
        schema_bytes = self.blobs.get(row.schema_sha256)
        loaded = LoadedTemplate(
            version_id=row.id,
            template_id=row.template_id,
            version=row.version,
            title=row.title,
            schema=parse_schema(schema_bytes, row.template_id),
            docx=docx,
            docx_sha256=row.docx_sha256,
            schema_sha256=row.schema_sha256,
        )
        with self._lock:
            self._cache[row.id] = loaded
        return loaded


def _latest(what):
    """SELECT `what` of each template's newest version, by template id."""
    newest = (
        select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
        .group_by(TemplateVersion.template_id)
        .subquery()
    )
    return (
        select(what)
        .join(
            newest,
            (TemplateVersion.template_id == newest.c.template_id)
            & (TemplateVersion.version == newest.c.v),
        )
        .order_by(TemplateVersion.template_id)
    )
