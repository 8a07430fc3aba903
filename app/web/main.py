"""Home page: the work queue."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, url_for

from app.drafting import documents, drafts
from app.registers.contracts import contract_reminder
from app.web.common import cf, login_required
from app.web.documents import list_filters
from app.web.matters import deadline_rows
from app.web.supervision import supervision_notes

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    # everything the page shows is read here, in one session; the partials only lay it out
    with cf().db.read() as s:
        p = g.principal
        q = drafts.queue(s, p, cf())
        filters, context = list_filters(s, url_for("main.home") + "#recent-documents")
        recent = documents.list_documents(s, p, per_page=10, filters=filters, count=False)
        recent = recent.documents
        for items in q.values():
            for d in items:
                _ = d.unit.name, d.creator.name
        contracts = contract_reminder(s, p)
        return render_template("home.html", q=q, recent=recent, contracts=contracts,
                               deadlines=deadline_rows(s, p),
                               sn=supervision_notes(s, register=contracts), **context)  # fmt: skip


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer it (no login, cached).
    Sent from memory: a few hundred bytes, and no file handle left to the client to close."""
    data = (Path(current_app.static_folder or "") / "favicon.ico").read_bytes()
    return Response(data, mimetype="image/vnd.microsoft.icon",
                    headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip
