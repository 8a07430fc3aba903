"""Templates (their fields and review chain) as JSON."""

from __future__ import annotations


def template_payload(tpl) -> dict:
    def field(f):
        d = {"name": f.name, "label": f.label, "type": f.type, "required": f.required,
             "max_length": f.effective_max_length if f.type in {"text", "textarea"} else None}  # fmt: skip
        for key in (
            "options",
            "format",
            "pattern",
            "help",
            "min",
            "max",
            "min_items",
            "max_items",
            "after",
            "role",
        ):
            value = getattr(f, key)
            if value not in (None, "", ()):
                d[key] = list(value) if isinstance(value, tuple) else value
        if f.same_unit:
            d["same_unit"] = True
        if f.show_if:
            d["show_if"] = {
                "field": f.show_if.field,
                "equals": f.show_if.equals,
                "in": list(f.show_if.in_),
            }
        if f.fields:
            d["fields"] = [field(sub) for sub in f.fields]
        return d

    return {
        "id": tpl.template_id, "version": tpl.version, "title": tpl.title, "sha256": tpl.docx_sha256,
        "description": tpl.schema.description,
        "review_chain": [{"name": s.name, "label": s.label, "role": s.role, "approvals": s.approvals}
                         for s in tpl.schema.review_chain],
        "fields": [field(f) for f in tpl.schema.fields],
    }  # fmt: skip
