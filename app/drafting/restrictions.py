"""知悉范围: restricting a draft, and the document issued from it, to named users.

The restriction applies on top of the unit rule: a reader must pass the unit rule AND be named
(or have acted on the document: its drafter, reviewers and issuer). It is set before issuance
and can only grow; rows are write-once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.access.policy import can
from app.common.text import check_text
from app.drafting.models import Draft, DraftRestriction
from app.errors import Forbidden, NotFound, WorkflowError
from app.identity.models import User


def restrict(
    session: Session, p, draft_id: int, usernames: list[str], remote_addr: str = ""
) -> list[str]:
    """Name the users who may read this draft. Only its drafter or an office head of its unit,
    and only before issuance."""
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(f"草稿 {draft_id} 不存在")
    if not can(session, p, "draft.restrict", draft):
        raise Forbidden("只有起草人或本单位法律顾问室负责人可以限定知悉范围")
    if draft.status == "issued":
        raise WorkflowError("文书已发文，知悉范围不能再修改")
    added = []
    existing = set(
        session.scalars(
            select(DraftRestriction.user_id).where(DraftRestriction.draft_id == draft_id)
        )
    )
    names = [check_text(u, "user", "用户名").lower() for u in usernames]
    for username in dict.fromkeys(u for u in names if u):
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(f"用户“{username}”不存在或已停用")
        if user.id not in existing:
            session.add(DraftRestriction(draft_id=draft_id, user_id=user.id, created_by=p.user.id))
            existing.add(user.id)
            added.append(username)
    if draft.created_by not in existing:  # the drafter always keeps access
        session.add(
            DraftRestriction(draft_id=draft_id, user_id=draft.created_by, created_by=p.user.id)
        )
    audit.record(session, "draft.restrict", actor=p.user, object_type="draft", object_id=draft_id,
                 detail={"added": added}, remote_addr=remote_addr)  # fmt: skip
    return added
