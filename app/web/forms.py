"""Turn a schema into form rows and a submitted form back into data (the same schema drives
the API and the CLI validation)."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from app.templating.schema import FieldSpec, TemplateSchema

EXTRA_ROWS = 1
MAX_ROWS = 100


def _row_indices(form: MultiDict, prefix: str) -> list[int]:
    found = set()
    for key in form.keys():
        if key.startswith(prefix + "."):
            head = key[len(prefix) + 1 :].split(".", 1)[0]
            if head.isdigit() and int(head) < MAX_ROWS:
                found.add(int(head))
    return sorted(found)


def _scalar(spec: FieldSpec, form: MultiDict, key: str) -> Any:
    if spec.type == "multichoice":
        return form.getlist(key)
    if spec.type == "boolean":
        return key in form
    if spec.type == "daterange":
        return {"start": form.get(key + ".start", ""), "end": form.get(key + ".end", "")}
    return form.get(key, "")


def form_to_data(schema: TemplateSchema, form: MultiDict) -> dict:
    data: dict[str, Any] = {}
    for spec in schema.fields:
        if spec.type == "list":
            rows = []
            for i in _row_indices(form, spec.name):
                if spec.fields:
                    rows.append(
                        {
                            sub.name: _scalar(sub, form, f"{spec.name}.{i}.{sub.name}")
                            for sub in spec.fields
                        }
                    )
                else:
                    rows.append(form.get(f"{spec.name}.{i}", ""))
            data[spec.name] = rows
        else:
            data[spec.name] = _scalar(spec, form, spec.name)
    return data


def rows_for_form(spec: FieldSpec, value: Any, extra: int = EXTRA_ROWS) -> list:
    """Existing rows plus blank ones to fill in."""
    rows = list(value or [])
    blank = {sub.name: "" for sub in spec.fields} if spec.fields else ""
    need = max(extra, (spec.min_items or 0) - len(rows))
    return rows + [blank] * need
