"""Reference fields (`unit`, `user`, `adviser`): what they may name and how an error reads.

A reference is stored as the name it printed when the draft was saved (a snapshot), so
re-rendering an issued document never reads the registry. Whether a name is allowed is
asked at save and submit time from a `References` provider (app/drafting/registry.py builds
one from the database, scoped by the access policy); without a provider (template checks,
sample data) only the shape of the text is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.identity.models import ROLE_LABELS
from app.templating.schema import FieldSpec

MAX_LISTED = 20  # choices named in an error message


@dataclass(frozen=True)
class RefChoice:
    value: str  # what is stored and printed
    label: str  # what the form's <select> shows


class References(Protocol):
    def choices(self, spec: FieldSpec) -> list[RefChoice]:
        """The entries a reference field may name now, in display order."""
        ...


def reference_noun(spec: FieldSpec) -> str:
    """What a reference field names, in Chinese: 单位, 本单位的公职律师, 在聘的法律顾问."""
    if spec.type == "unit":
        return "单位"
    if spec.type == "adviser":
        return "本单位在聘的法律顾问"
    who = ROLE_LABELS.get(spec.role or "", "人员")
    return f"本单位的{who}" if spec.same_unit else who


def reference_error(spec: FieldSpec, value: str, allowed: list[RefChoice]) -> str:
    """The message for a name that is not (or no longer) in the registry."""
    noun = reference_noun(spec)
    if not allowed:
        hint = "（聘任合同须在履行中或即将到期，见聘任合同台账）" if spec.type == "adviser" else ""
        return f"目前没有可选的{noun}{hint}"
    names = [c.value for c in allowed[:MAX_LISTED]]
    more = f"等{len(allowed)}项" if len(allowed) > MAX_LISTED else ""
    return f"“{value}”不是可选的{noun}；请从以下选项中选择：{'、'.join(names)}{more}"
