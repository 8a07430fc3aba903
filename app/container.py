"""The service container shared by the web app, the API and the CLI."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.blobs.store import BlobStore
from app.config import Settings
from app.db import Database
from app.renditions import OfficeSettings, configure_office
from app.search import get_backend
from app.templating import doctypes
from app.templating.catalog import Catalog


@dataclass
class Casefile:
    settings: Settings
    db: Database
    blobs: BlobStore
    catalog: Catalog
    _search: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def search(self):
        """The process's search backend (kept open: it caches the index and a searcher)."""
        with self._lock:
            if self._search is None:
                self._search = get_backend(
                    self.settings.index_dir,
                    cache_bytes=self.settings.search_cache_mb * 2**20,
                    type_names=self.type_names,
                )
            return self._search

    def type_names(self) -> Mapping[str, str]:
        """{name: search type} the query syntax accepts (类型:…), from the template registry."""
        with self.db.read() as session:
            return doctypes.type_names(self.catalog, session)

    def reset_search(self) -> None:
        with self._lock:
            if self._search is not None:
                self._search.close()
            self._search = None

    def close(self) -> None:
        if self._search is not None:
            self._search.close()
        self.db.dispose()


def open_casefile(settings: Settings | None = None) -> Casefile:
    settings = settings or Settings.from_env()
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    configure_office(
        OfficeSettings(
            soffice=settings.soffice,
            uno_python=settings.uno_python,
            font_aliases=settings.font_aliases,
            convert_timeout=settings.rendition_timeout,
        )
    )
    blobs = BlobStore(settings.blobs_dir)
    db = Database(settings.database_url)
    catalog = Catalog(blobs, settings.templates_dir)
    doctypes.bind_catalog(db.sessions, catalog)
    return Casefile(settings=settings, db=db, blobs=blobs, catalog=catalog)
