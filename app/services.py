"""The service container shared by the web app, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from app.archive.blobs import BlobStore
from app.config import Settings
from app.db import Database
from app.templating.catalog import Catalog


@dataclass
class Casefile:
    settings: Settings
    db: Database
    blobs: BlobStore
    catalog: Catalog

    def close(self) -> None:
        self.db.dispose()


def open_casefile(settings: Settings | None = None) -> Casefile:
    settings = settings or Settings.from_env()
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    blobs = BlobStore(settings.blobs_dir)
    return Casefile(
        settings=settings,
        db=Database(settings.database_url),
        blobs=blobs,
        catalog=Catalog(blobs, settings.templates_dir),
    )
