"""Full-text search over issued documents (检索): Ctrl-F semantics, permissions inside.

The rest of casefile uses only what is exported here; see docs/search.md.
"""

from __future__ import annotations

import os

from app.search.backend import (
    Hit,
    IndexBusy,
    IndexDoc,
    IndexStats,
    QuerySyntaxError,
    SearchBackend,
    SearchError,
    SearchQuery,
    SearchResults,
    SearchScope,
    SearchUnavailable,
)

__all__ = [
    "Hit",
    "IndexBusy",
    "IndexDoc",
    "IndexStats",
    "QuerySyntaxError",
    "SearchBackend",
    "SearchError",
    "SearchQuery",
    "SearchResults",
    "SearchScope",
    "SearchUnavailable",
    "get_backend",
]


def get_backend(index_dir: str | os.PathLike, **options) -> SearchBackend:
    """The search backend for *index_dir* (the Whoosh index; created empty if missing).

    Keep the returned object for the life of the process: it caches the open index,
    a refreshed searcher and per-segment metadata.
    """
    from app.search.whoosh_backend import WhooshBackend  # lazy: Whoosh and numpy load on first use

    return WhooshBackend(index_dir, **options)
