"""Setting a draft's 知悉范围 (readers) from the draft page."""

from __future__ import annotations

import re

from flask import Blueprint, flash, g, redirect, request, url_for

from app.drafting.drafts import open_draft
from app.drafting.restrictions import restrict
from app.errors import Forbidden, WorkflowError
from app.web.common import cf, login_required, remote_addr

bp = Blueprint("restrictions", __name__)


@bp.post("/drafts/<int:draft_id>/restrict")
@login_required
def restrict_draft(draft_id: int):
    with cf().db.read() as s:
        open_draft(s, g.principal, draft_id)  # 404 before reading the form
    names = [n for n in re.split(r"[\s,，、;；]+", request.form.get("usernames", "")) if n]
    if not names:
        flash("请填写可以知悉的用户名，多个用空格或逗号分隔", "error")
        return redirect(url_for("drafts.show", draft_id=draft_id))
    try:
        with cf().db.write() as s:
            added = restrict(s, g.principal, draft_id, names, remote_addr())
        flash("已限定知悉范围" + (f"，新增：{'、'.join(added)}" if added else ""), "ok")
    except Forbidden:
        raise  # a refusal is the 403 page with its reason, not a flash (app/web/__init__.py)
    except WorkflowError as exc:
        flash(exc.message, "error")
    return redirect(url_for("drafts.show", draft_id=draft_id))
