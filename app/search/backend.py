"""The search seam: data contract, the SearchBackend protocol and its errors.

Everything outside app/search talks to search only through these types, so the Whoosh
backend (embedded default) and a PostgreSQL backend (multi-node) are interchangeable.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from app.access.scope import SearchScope


class SearchError(Exception):
    """Base class of every error raised by a search backend."""


class SearchUnavailable(SearchError):
    """The index cannot answer (missing, corrupt, being rebuilt).

    The message is safe to show to a user; ``problems`` lists what ``check()`` found.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


class IndexBusy(SearchUnavailable):
    """Another process holds the index write lock longer than we were willing to wait."""


class QuerySyntaxError(SearchError, ValueError):
    """The query text or filters cannot be understood; the message says why."""


@dataclass(frozen=True)
class IndexDoc:
    """One issued document (or attachment) as the search engine sees it."""

    doc_id: str  # issued document id (string)
    number: str  # 发文字号, e.g. 武政法审〔2026〕12号
    title: str
    doc_type: str  # search type: the template's document_type.search_type, or "attachment"
    unit_code: str
    unit_name: str
    issued_on: datetime.date
    body: str  # full text of the document
    case_files: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    addressee: str = ""
    reviewers: tuple[str, ...] = ()  # display names
    signatory: str = ""
    conclusion: str = ""  # for opinions: 合法 / 修改后合法 / 不合法 or ""
    status: str = "issued"  # issued (有效) | superseded (已被替代) | revoked (已撤销); filed
    restricted_to: tuple[int, ...] = ()  # 知悉范围: only these user ids, when not empty
    actors: tuple[int, ...] = ()  # user ids of its drafter, reviewers, co-signers and issuer
    content_hash: str = ""  # sha256 of the issued DOCX; for staleness checks


Sort = Literal["relevance", "date"]


@dataclass(frozen=True)
class SearchQuery:
    """A search request.  ``text`` uses the syntax in app/search/query.py."""

    text: str = ""
    doc_types: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()  # filter (not permission): unit codes
    year_from: int | None = None
    year_to: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    reviewer: str = ""
    conclusion: str = ""
    status: str = ""
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    facets: bool = True
    snippets: bool = True


@dataclass(frozen=True)
class Hit:
    doc_id: str
    number: str
    title: str
    doc_type: str
    unit_code: str
    unit_name: str
    issued_on: datetime.date
    score: float
    snippet_html: str  # HTML-escaped text with <mark>…</mark> around each match
    status: str = "issued"  # issued | superseded | revoked (documents); filed (attachments)


@dataclass
class SearchResults:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    page: int = 1
    per_page: int = 20

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1


@dataclass
class IndexStats:
    backend: str
    doc_count: int
    deleted_count: int
    segment_count: int
    size_bytes: int
    location: str
    last_modified: datetime.datetime | None
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class SearchBackend(Protocol):
    """What the indexer, the CLI, the web page and the API use."""

    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace documents (by doc_id) in one commit; returns how many."""

    def delete(self, doc_id: str) -> bool:
        """Remove one document; True if it was there."""

    def search(self, query: SearchQuery, scope: SearchScope) -> SearchResults:
        """Run *query* seeing only what *scope* allows.  Raises SearchUnavailable,
        QuerySyntaxError."""

    def facets(self, query: SearchQuery, scope: SearchScope) -> dict[str, dict[str, int]]:
        """Exact facet counts (doc_type, unit, year, reviewer, status) for *query* in
        *scope*."""

    def similar(self, doc_id: str, scope: SearchScope, limit: int = 10) -> list[Hit]:
        """Documents most like *doc_id* (more-like-this), within *scope*."""

    def rebuild(self, docs: Iterable[IndexDoc]) -> int:
        """Build a fresh index from *docs* and swap it in; returns the count."""

    def check(self) -> list[str]:
        """Problems found (empty list = healthy).  Never raises."""

    def stats(self) -> IndexStats:
        """Document count, size on disk and the like."""

    def stored_hashes(self) -> Mapping[str, str]:
        """{doc_id: content_hash} of everything in the index (for `casefile verify`)."""

    def refresh(self) -> None:
        """Make commits by other processes visible to this reader now."""

    def close(self) -> None:
        """Release files and locks."""
