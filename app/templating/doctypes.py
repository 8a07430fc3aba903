"""The document-type registry (文书类型), computed from the templates themselves.

Each template's schema.yaml declares what its documents are (`document_type`, see
docs/templates.md); the registry is that declaration over the latest version of every template
in the catalog, shipped or uploaded, so a template uploaded at run time is searchable by its
name, counted by compliance and filed with its role like the built-in ones. Several templates
may share one type (an uploaded variant of a built-in one); the type then takes its label and
role from the template whose id is the type's name (else the first by id), is precedent only
if all of them are, and accepts the names of all of them. Each template's documents keep what
their own template declares (`DocTypes.of_template`).

`registry(catalog, session)` is called on every request, so it is cached per catalog and
recomputed only when the set of latest template versions changes (one small query to know).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy.orm import Session

from app.db.memo import session_memo
from app.templating.catalog import Catalog
from app.templating.schema import DocumentType, SchemaError

ATTACHMENT_TYPE = "attachment"  # the search type of uploaded case-file material (no template)


@dataclass(frozen=True)
class DocType:
    """One document type as search, case files and compliance see it."""

    search_type: str  # IndexDoc.doc_type
    label: str  # shown in facets, lists and compliance
    aliases: tuple[str, ...] = ()  # further names accepted by 类型:…
    template_ids: tuple[str, ...] = ()  # the templates making documents of this type
    casefile_role: str = "other"
    precedent: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


ATTACHMENT = DocType(ATTACHMENT_TYPE, "附件材料", ("附件", "案卷材料"))


@dataclass(frozen=True)
class DocTypes:
    """A snapshot of the registry (shared between requests, so read-only)."""

    types: Mapping[str, DocType]  # search type -> DocType (the attachment type included)
    templates: Mapping[str, DocumentType]  # template id -> what its own schema declares
    names: Mapping[str, str]  # every name a type filter accepts -> search type

    def label(self, search_type: str) -> str:
        """The type's label; an unknown type (an index older than its template) as it is."""
        found = self.types.get(search_type)
        return found.label if found else search_type

    def labels(self) -> dict[str, str]:
        return {t.search_type: t.label for t in self.types.values()}

    def resolve(self, name: str) -> str | None:
        """The search type a name in the query syntax (类型:…) stands for, or None."""
        return self.names.get((name or "").strip())

    def of_template(self, template_id: str) -> DocumentType:
        """What a template's documents are; a template not in the catalog gets the defaults."""
        found = self.templates.get(template_id)
        return found or DocumentType(search_type=template_id, label=template_id)

    def template_ids(
        self, *, role: str | None = None, precedent: bool | None = None
    ) -> frozenset[str]:
        """Template ids whose documents have the case-file role and/or the precedent flag."""
        return frozenset(
            tid
            for tid, dt in self.templates.items()
            if (role is None or dt.casefile_role == role)
            and (precedent is None or dt.precedent == precedent)
        )

    @property
    def precedent_types(self) -> frozenset[str]:
        return frozenset(t.search_type for t in self.types.values() if t.precedent)


def build(declared: Iterable[tuple[str, DocumentType]]) -> DocTypes:
    """The registry of (template id, its document_type) pairs, plus the attachment type."""
    templates = dict(sorted(declared, key=lambda pair: pair[0]))
    by_type: dict[str, list[tuple[str, DocumentType]]] = {}
    for tid, dt in templates.items():
        by_type.setdefault(dt.search_type, []).append((tid, dt))
    types: dict[str, DocType] = {}
    for search_type, members in sorted(by_type.items()):
        primary = next((dt for tid, dt in members if tid == search_type), members[0][1])
        names = [n for _, dt in members for n in (dt.label, *dt.aliases)]
        types[search_type] = DocType(
            search_type=search_type,
            label=primary.label,
            aliases=tuple(n for n in dict.fromkeys(names) if n != primary.label),
            template_ids=tuple(tid for tid, _ in members),
            casefile_role=primary.casefile_role,
            # read more widely only if every template of the type says so
            precedent=all(dt.precedent for _, dt in members),
        )
    types.setdefault(ATTACHMENT_TYPE, ATTACHMENT)
    # A name two types claim goes to the first: type names, template ids, labels, aliases;
    # the mapping itself lists labels first (an error message offers the first of each type).
    ids = [(t, t) for t in types] + [(tid, dt.search_type) for tid, dt in templates.items()]
    labels = [(t.label, t.search_type) for t in types.values()]
    aliases = [(a, t.search_type) for t in types.values() for a in t.aliases]
    owner: dict[str, str] = {}
    for name, search_type in ids + labels + aliases:
        owner.setdefault(name, search_type)
    names = {name: owner[name] for name, _ in labels + aliases + ids}
    return DocTypes(MappingProxyType(types), MappingProxyType(templates), MappingProxyType(names))


_cache: weakref.WeakKeyDictionary[Catalog, tuple[tuple, DocTypes]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def registry(catalog: Catalog, session: Session) -> DocTypes:
    """The registry over the catalog's latest template versions (cached while they stay).

    Asked once per session until the session writes something (a page asks several times:
    the filters, the list, the search, the policy's precedent types)."""
    return session_memo(session, ("doctypes", id(catalog)), lambda: _registry(catalog, session))


def _registry(catalog: Catalog, session: Session) -> DocTypes:
    key = catalog.latest_version_ids(session)
    cached = _cache.get(catalog)
    if cached is not None and cached[0] == key:
        return cached[1]
    rows = catalog.latest_versions(session)  # changed since: read them (a template uploaded)
    key = tuple(row.id for row in rows)
    declared = []
    for row in rows:
        try:
            declared.append((row.template_id, catalog.load(row).schema.document_type))
        except SchemaError:  # a stored schema no longer parses: its documents keep the defaults
            declared.append((row.template_id, DocumentType(row.template_id, row.title)))
    result = build(declared)
    with _lock:
        _cache[catalog] = (key, result)
    return result


PRECEDENT_KEY = "precedent_reading"  # app.access.policy.principal reads it

# ---- the catalog of a session ----------------------------------------------------------------
# Domain functions that take only the caller's session (filing a document, compliance) find the
# registry through the catalog the container binds to its sessions.


def bind_catalog(sessions, catalog: Catalog) -> None:
    """Give every session of the sessionmaker `sessions` the catalog (`open_casefile` does),
    and the access policy the registry's answer to "which documents are precedent" (the policy
    imports no feature package, so it is handed the answer rather than the registry)."""
    sessions.configure(info={"catalog": catalog, PRECEDENT_KEY: precedent_reading})


def precedent_reading(session: Session) -> tuple[frozenset[str], frozenset[str]]:
    """(template ids, search types) of the documents a unit's advisers read: every template of
    a precedent type, so the SQL filter (by template) and the index scope (by type) agree."""
    reg = registry_for(session)
    types = reg.precedent_types
    return frozenset(tid for t in types for tid in reg.types[t].template_ids), types


def registry_for(session: Session) -> DocTypes:
    """The registry of the catalog bound to the session's database."""
    catalog = session.info.get("catalog")
    if catalog is None:
        raise RuntimeError("no template catalog is bound to this session (see bind_catalog)")
    return registry(catalog, session)


# ---- the registry's questions as functions --------------------------------------------------


def doc_types(catalog: Catalog, session: Session) -> Mapping[str, DocType]:
    """{search type: DocType} of every template's documents, and of attachments."""
    return registry(catalog, session).types


def type_label(catalog: Catalog, session: Session, search_type: str) -> str:
    return registry(catalog, session).label(search_type)


def type_labels(catalog: Catalog, session: Session) -> dict[str, str]:
    """{search type: label}, e.g. for the search page's facets and chips."""
    return registry(catalog, session).labels()


def search_types(catalog: Catalog, session: Session) -> frozenset[str]:
    """Every valid search type (to check a `type=` filter)."""
    return frozenset(registry(catalog, session).types)


def type_names(catalog: Catalog, session: Session) -> Mapping[str, str]:
    """{name: search type} of every name the query syntax accepts after 类型: / type:."""
    return registry(catalog, session).names


def resolve_type_name(catalog: Catalog, session: Session, name: str) -> str | None:
    return registry(catalog, session).resolve(name)


def precedent_template_ids(catalog: Catalog, session: Session) -> frozenset[str]:
    """Template ids whose issued documents the unit's advisers and public lawyers read."""
    return registry(catalog, session).template_ids(precedent=True)


def precedent_types(catalog: Catalog, session: Session) -> frozenset[str]:
    """Search types whose issued documents the unit's advisers and public lawyers read."""
    return registry(catalog, session).precedent_types
