"""Turn a schema into form rows and a submitted form back into data (the same schema drives
the API and the CLI validation).

Repeating rows (list fields) are numbered `name.0.sub`, `name.1.sub`, … in the order the page
shows them. Without JavaScript the row buttons submit the form (`add_row=name`,
`remove_row=name.i`, `move_row=name.i.up|down`) and the page comes back with the change and
nothing saved; static/form.js does the same in place."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from app.templating.schema import FieldSpec, TemplateSchema
from app.templating.validation import blank

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


def form_to_data(schema: TemplateSchema, form: MultiDict, keep_blank_rows: bool = False) -> dict:
    """The form's values by field; rows in page order, blank rows dropped (they never count
    as input) unless the page is coming back to be edited further (`keep_blank_rows`)."""
    data: dict[str, Any] = {}
    for spec in schema.fields:
        if spec.type == "list":
            rows = []
            for i in _row_indices(form, spec.name):
                if spec.fields:
                    row: Any = {
                        sub.name: _scalar(sub, form, f"{spec.name}.{i}.{sub.name}")
                        for sub in spec.fields
                    }
                else:
                    row = form.get(f"{spec.name}.{i}", "")
                if keep_blank_rows or not blank(row):
                    rows.append(row)
            data[spec.name] = rows
        else:
            data[spec.name] = _scalar(spec, form, spec.name)
    return data


def _list_row(schema: TemplateSchema, value: str | None) -> tuple[str, int] | None:
    """(list field, row index) from a button value `name.i`, if it names one."""
    name, _, index = (value or "").rpartition(".")
    spec = schema.field(name)
    if spec is None or spec.type != "list" or not (index.isascii() and index.isdigit()):
        return None
    return name, int(index)


def row_action(schema: TemplateSchema, form: MultiDict) -> dict | None:
    """The form's data after the row button that was pressed (no JavaScript), or None when
    the form was sent to be saved."""
    add = form.get("add_row")
    remove = _list_row(schema, form.get("remove_row"))
    move_value = form.get("move_row") or ""
    where, _, direction = move_value.rpartition(".")
    move = _list_row(schema, where) if direction in {"up", "down"} else None
    add_spec = schema.field(add) if add else None
    if not (remove or move or (add_spec is not None and add_spec.type == "list")):
        return None
    data = form_to_data(schema, form, keep_blank_rows=True)
    if add_spec is not None and add_spec.type == "list":
        rows = data[add_spec.name]
        if len(rows) < MAX_ROWS:
            rows.append({sub.name: "" for sub in add_spec.fields} if add_spec.fields else "")
    elif remove:
        rows = data[remove[0]]
        if remove[1] < len(rows):
            del rows[remove[1]]
    elif move:
        rows = data[move[0]]
        i = move[1]
        j = i - 1 if direction == "up" else i + 1
        if 0 <= i < len(rows) and 0 <= j < len(rows):
            rows[i], rows[j] = rows[j], rows[i]
    return data


def blank_row(spec: FieldSpec) -> Any:
    return {sub.name: "" for sub in spec.fields} if spec.fields else ""


def rows_for_form(spec: FieldSpec, value: Any) -> list:
    """The rows to show: those entered, or blank ones up to the field's minimum (at least one,
    so an empty list can be filled in without pressing 添加一项). Never a blank row on top of
    rows already entered: a failed save or a reopened draft shows what it holds."""
    rows = list(value or [])
    need = max(spec.min_items or 1, 1) - len(rows)
    return rows + [blank_row(spec) for _ in range(max(need, 0))]
