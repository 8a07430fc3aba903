"""The matter's commission letter (委托公函): a draft of the shipped `commission-letter`
template, prefilled from the matter (case, court, party role, lawyer, licence, unit) and linked
back (Matter.letter_draft_id; the issued letter is then one of the matter's documents).

It goes through drafting.drafts.create_draft like any draft, with the review chain untouched.
The letter is drafted in the unit that uses the lawyer: the matter's unit for its own lawyer;
for a deployed lawyer (调配) the unit where the lawyer holds the public-lawyer role, which the
policy lets "负责调配和使用的单位" issue the letter from.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.access.policy import Principal
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft
from app.errors import WorkflowError
from app.identity.models import Unit, User
from app.matters import service
from app.matters.models import REPRESENTED, Matter

TEMPLATE = "commission-letter"
PROCEEDINGS = {
    "admin-litigation": "行政诉讼",
    "civil-litigation": "民事诉讼",
    "arbitration": "仲裁",
    "reconsideration": "行政复议",
}


def letter_unit(session: Session, matter: Matter) -> Unit:
    deployment = service.deployed_lawyer(session, matter)
    if deployment is not None and deployment.lawyer_unit_id:
        return session.get(Unit, deployment.lawyer_unit_id)
    return session.get(Unit, matter.unit_id)


def letter_data(session: Session, matter: Matter) -> dict:
    """The letter's fields as the matter knows them; the drafter completes the rest."""
    lawyer = session.get(User, matter.lawyer_id) if matter.lawyer_id else None
    profile = service.profile_of(session, lawyer.id) if lawyer else None
    proceeding = PROCEEDINGS[matter.kind]
    data = {
        "addressee": matter.body,
        "proceeding_type": proceeding,
        "case_name": matter.title,
        "party_role": matter.party_role,
        "lawyer_name": lawyer.name if lawyer else "",
        "lawyer_licence": profile.licence if profile else "",
        "lawyer_unit": letter_unit(session, matter).name,
        "lawyer_phone": profile.phone if profile else "",
        "authority": "一般代理",
    }
    if proceeding in ("行政诉讼", "民事诉讼"):
        data["case_number"] = matter.case_number
        data["stage"] = "第一审"
    elif matter.case_number:
        data["tribunal_number"] = matter.case_number
    return {k: v for k, v in data.items() if v not in ("", None)}


def draft_letter(cf: Casefile, session: Session, p: Principal, matter_id: int,
                 changes: dict | None = None, remote_addr: str = "", via: str = "") -> Draft:  # fmt: skip
    """起草委托公函: a draft prefilled from the matter (plus `changes`), linked both ways.
    Only for representation (复议、诉讼、仲裁) once a lawyer holds the matter; refused if the
    matter already has a letter draft; the template's own checks apply (ValidationFailed)."""
    matter = service.get_matter(session, p, matter_id)
    if matter.kind not in REPRESENTED:
        raise WorkflowError("只有行政复议、行政诉讼、民事诉讼和仲裁事务需要出具委托公函")
    if matter.lawyer_id is None or matter.status not in ("handling", "reported"):
        raise WorkflowError("承办人接受指派后才能起草委托公函")
    if matter.letter_draft_id is not None:
        raise WorkflowError(f"本事务已起草委托公函（草稿 {matter.letter_draft_id}）")
    data = letter_data(session, matter) | dict(changes or {})
    unit = letter_unit(session, matter)
    draft = drafts.create_draft(cf, session, p, TEMPLATE, data, unit.code, remote_addr=remote_addr)
    matter.letter_draft_id = draft.id
    service._event(session, p, matter, "letter", comment=draft.title, remote_addr=remote_addr,
                   via=via, detail={"draft": draft.id, "unit": unit.code})  # fmt: skip
    return draft
