"""Template catalog (doc_templates/), field schemas, validation and docxtpl rendering."""

from app.templating.render import RenderError, document_title, render_document
from app.templating.schema import SchemaError, TemplateSchema, parse_schema
from app.templating.validation import describe_errors, validate

__all__ = [
    "RenderError",
    "SchemaError",
    "TemplateSchema",
    "describe_errors",
    "document_title",
    "parse_schema",
    "render_document",
    "validate",
]
