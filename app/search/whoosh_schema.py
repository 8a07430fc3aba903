"""Whoosh schema of the casefile index and the mapping of an IndexDoc onto it."""

from __future__ import annotations

import json
import zlib
from collections import Counter

from whoosh import columns, fields, formats

from app.search.backend import IndexDoc
from app.search.normalize import _SPLIT, FIELD_SEP, _add, fold
from app.search.whoosh_writer import (
    TITLE_BOOST,  # noqa: F401  (re-exported)
    gram_weights,
)

INDEX_NAME = "casefile"
FORMAT_VERSION = 4  # 2: trigram terms, integer weights; 3: actors for the reading scope;
# 4: trigram positions (whoosh_positions.py), the body in a column of its own
MARKER = "casefile-index.json"
# Order of the folded fields in the verification text; "number" and "title" first so a
# field-scoped term (title:…) can find its part.
_TEXT_FIELDS = (
    "number",
    "title",
    "unit_name",
    "addressee",
    "signatory",
    "conclusion",
    "reviewers",
    "case_files",
    "parties",
    "body",
)
_FIELD_INDEX = {name: i for i, name in enumerate(_TEXT_FIELDS)}


# --------------------------------------------------------------------------- schema


class GramField(fields.FieldType):
    """Non-positional field of character unigrams and bigrams; the value passed at
    indexing time is a list of already folded field texts, title/number first."""

    def __init__(self):
        super().__init__(formats.Existence(), analyzer=None, scorable=False, stored=False)

    def index(self, value, **kwargs):
        # generic Whoosh path; CasefileWriter bypasses it with bulk writing

        for gram, w in gram_weights(value).items():
            yield gram.encode("utf-8"), int(w), float(w), b""

    def to_bytes(self, value):
        return value.encode("utf-8") if isinstance(value, str) else value


class BytesColumnField(fields.FieldType):
    """Column-only field (not indexed, not stored): raw bytes per document."""

    indexed = False

    def __init__(self):
        super().__init__(format=None, analyzer=None, sortable=columns.VarBytesColumn())

    def to_column_value(self, value):
        return value

    def from_column_value(self, value):
        return value


def _gram_counts(text: str) -> Counter[str]:
    c: Counter[str] = Counter()
    for chunk in _SPLIT(text):
        if chunk:
            c.update(chunk)
            c.update(map(_add, chunk, chunk[1:]))
    return c


def make_schema() -> fields.Schema:
    return fields.Schema(
        doc_id=fields.ID(stored=False, unique=True),
        g=GramField(),
        payload=fields.STORED(),
        nt=BytesColumnField(),
        meta=BytesColumnField(),
        body=BytesColumnField(),  # zlib of the body's UTF-8: read for snippets only
    )


def _doc_fields(doc: IndexDoc) -> dict:
    """Whoosh add_document kwargs for one document (pure function: runs in workers)."""
    texts = {
        "number": doc.number,
        "title": doc.title,
        "unit_name": doc.unit_name,
        "addressee": doc.addressee,
        "signatory": doc.signatory,
        "conclusion": doc.conclusion,
        "reviewers": "、".join(doc.reviewers),
        "case_files": "、".join(doc.case_files),
        "parties": "、".join(doc.parties),
        "body": doc.body,
    }
    folded = [fold(texts[name]) for name in _TEXT_FIELDS]
    meta = {
        "id": doc.doc_id,
        "t": doc.doc_type,
        "u": doc.unit_code,
        "d": doc.issued_on.toordinal(),
        "s": doc.status,
        "c": doc.conclusion,
        "r": list(doc.reviewers),
        "x": list(doc.restricted_to),
        "a": list(doc.actors),
        "h": doc.content_hash,
        "tn": folded[0] + FIELD_SEP + folded[1],
    }
    payload = {
        "doc_id": doc.doc_id,
        "number": doc.number,
        "title": doc.title,
        "doc_type": doc.doc_type,
        "unit_code": doc.unit_code,
        "unit_name": doc.unit_name,
        "issued_on": doc.issued_on.isoformat(),
        "case_files": list(doc.case_files),
        "parties": list(doc.parties),
        "addressee": doc.addressee,
        "reviewers": list(doc.reviewers),
        "signatory": doc.signatory,
        "conclusion": doc.conclusion,
        "status": doc.status,
    }
    return {
        "doc_id": doc.doc_id,
        "g": folded,
        "payload": payload,
        "nt": FIELD_SEP.join(folded).encode("utf-16-le"),
        "meta": json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        "body": zlib.compress(doc.body.encode("utf-8"), 3),
    }
