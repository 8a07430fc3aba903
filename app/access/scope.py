"""The search engine's view of "which documents may this user see".

Built by app.access.policy.search_scope from the same principal and rules as the SQL filters;
the engine applies it inside the index, so results, counts, facets and snippets agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SearchScope:
    """What the asking user may read; applied inside the engine before anything is counted.

    A document is visible when (its unit is in ``units`` — None meaning every unit — or
    (its unit code, its type) is in ``precedent``, or ``user_id`` is among its ``actors``: the
    drafter, reviewers, co-signers and issuer, or its id is in ``documents`` / ``attachments``:
    the records of the matters the user holds, 法律事务) and, when it is restricted (知悉范围),
    ``user_id`` is among its ``restricted_to``.
    """

    units: frozenset[str] | None
    user_id: int | None = None
    precedent: frozenset[tuple[str, str]] = frozenset()
    documents: frozenset[int] = frozenset()  # issued documents' ids
    attachments: frozenset[int] = frozenset()  # case-file attachments' ids

    @classmethod
    def everything(cls) -> SearchScope:
        """Unrestricted scope for maintenance jobs (verify, reindex); never for a user."""
        return cls(units=None, user_id=None)

    def allows(
        self,
        unit_code: str,
        restricted_to: Iterable[int],
        doc_type: str = "",
        actors: Iterable[int] = (),
        document_id: int | None = None,
        attachment_id: int | None = None,
    ) -> bool:
        restricted = tuple(restricted_to)
        if restricted and self.user_id not in restricted:
            return False
        if self.units is None or unit_code in self.units:
            return True
        if (unit_code, doc_type) in self.precedent:
            return True
        if document_id in self.documents or attachment_id in self.attachments:
            return True
        return self.user_id is not None and self.user_id in tuple(actors)
