"""A draft's or document's history: the timeline of versions and steps, and text diffs."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.policy import Principal
from app.common import media_types
from app.common.docx_text import docx_text
from app.common.download import Download
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion
from app.drafting.slip import SlipEntry, cst, step_entries
from app.errors import NotFound
from app.identity.models import User


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str  # "version" | "step"
    version: DraftVersion | None = None
    author: str = ""
    step: SlipEntry | None = None


def versions_of(session: Session, draft: Draft) -> list[DraftVersion]:
    return list(
        session.scalars(
            select(DraftVersion)
            .where(DraftVersion.draft_id == draft.id)
            .order_by(DraftVersion.number)
        )
    )


def timeline(cf: Casefile, session: Session, draft: Draft) -> list[TimelineItem]:
    """Versions saved and review steps taken, oldest first."""
    tpl = drafts.template_of(cf, session, draft)
    labels = {s.name: s.label for s in tpl.schema.review_chain}
    steps = drafts.steps_of(session, draft)
    items = [
        TimelineItem(
            v.created_at, "version", version=v, author=session.get(User, v.created_by).name
        )
        for v in versions_of(session, draft)
    ]
    items += [
        TimelineItem(s.created_at, "step", step=e)
        for s, e in zip(steps, step_entries(session, draft, steps, labels), strict=True)
    ]
    # a version is saved before the submission of it, even within the same instant
    return sorted(items, key=lambda i: (i.at, 0 if i.kind == "version" else 1))


def _chars(a: str, b: str) -> Markup:
    """One changed line: character-level marks (Chinese has no spaces to split words on)."""
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(a[i1:i2]))
            continue
        if i2 > i1:
            out.append(Markup("<del>%s</del>") % a[i1:i2])
        if j2 > j1:
            out.append(Markup("<ins>%s</ins>") % b[j1:j2])
    return Markup("").join(out)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same" | "changed" | "added" | "removed"
    html: Markup


def text_diff(old: str, new: str, context: int | None = 2) -> list[DiffLine]:
    """Line diff of two texts, changed lines marked inside, all text HTML-escaped; runs of
    unchanged lines longer than 2×context collapse into one "skip" line (None: keep all)."""
    lines = _diff_lines(old, new)
    if context is None:
        return lines
    changed = [i for i, line in enumerate(lines) if line.kind != "same"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[DiffLine] = []
    skipped = 0
    for i, line in enumerate(lines):
        if i in keep or line.kind != "same":
            if skipped:
                out.append(DiffLine("skip", Markup("……（%d行未改动）……") % skipped))
                skipped = 0
            out.append(line)
        else:
            skipped += 1
    if skipped:
        out.append(DiffLine("skip", Markup("……（%d行未改动）……") % skipped))
    return out


def _diff_lines(old: str, new: str) -> list[DiffLine]:
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [DiffLine("same", escape(x)) for x in a[i1:i2]]
        elif op == "delete":
            lines += [DiffLine("removed", Markup("<del>%s</del>") % x) for x in a[i1:i2]]
        elif op == "insert":
            lines += [DiffLine("added", Markup("<ins>%s</ins>") % x) for x in b[j1:j2]]
        else:
            old_part, new_part = a[i1:i2], b[j1:j2]
            for k in range(max(len(old_part), len(new_part))):
                if k < len(old_part) and k < len(new_part):
                    lines.append(DiffLine("changed", _chars(old_part[k], new_part[k])))
                elif k < len(old_part):
                    lines.append(DiffLine("removed", Markup("<del>%s</del>") % old_part[k]))
                else:
                    lines.append(DiffLine("added", Markup("<ins>%s</ins>") % new_part[k]))
    return lines


def blob_text(cf: Casefile, sha256: str) -> str:
    return docx_text(cf.blobs.get(sha256))


__all__ = ["DiffLine", "TimelineItem", "cst", "text_diff", "timeline", "versions_of"]


def version_file(
    cf: Casefile, session: Session, p: Principal | None, draft_id: int, number: int
) -> Download:
    """The DOCX of one version of a draft, if `p` may read the draft; NotFound otherwise."""
    draft = drafts.open_draft(session, p, draft_id)
    version = session.scalars(
        select(DraftVersion).where(DraftVersion.draft_id == draft.id, DraftVersion.number == number)
    ).first()
    if version is None:
        raise NotFound(f"草稿 {draft_id} 没有第{number}版")
    return Download(
        cf.blobs.get(version.docx_sha256), media_types.DOCX, f"草稿{draft.id}-第{number}版.docx"
    )
