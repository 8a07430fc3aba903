"""Home page: the work queue."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from sqlalchemy import select

from app.drafting import drafts
from app.drafting.models import IssuedDocument
from app.drafting.restrictions import documents_visible_to
from app.web import cf, login_required
from app.web.contracts import reminder

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    with cf().db.read() as s:
        q = drafts.queue(s, g.principal, cf())
        units = g.principal.readable_units()
        recent = list(
            s.scalars(
                select(IssuedDocument)
                .where(
                    IssuedDocument.unit_id.in_(units or {-1}),
                    documents_visible_to(g.principal.user.id),
                )
                .order_by(IssuedDocument.issued_at.desc())
                .limit(10)
            )
        )
        for doc in recent:
            _ = doc.unit.name
        for items in q.values():
            for d in items:
                _ = d.unit.name, d.creator.name
        contracts = reminder(s, g.principal)
        return render_template("home.html", q=q, recent=recent, contracts=contracts)
