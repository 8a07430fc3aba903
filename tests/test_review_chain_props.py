"""Random sequences of submit / edit / approve / return / issue / withdraw / delete by different
users (hypothesis).

A three-step chain (adviser → two office heads → signatory) and users with overlapping roles.
A small model of the rules predicts whether each action must succeed; after every step the
records must agree with it and keep the invariants: every approval of an issued document is of
its final version, re-rendering that version with the number and date reproduces the issued
bytes, no self-approval, no step skipped, one person fills one step; a withdrawal (撤回) is the
drafter's and comes before any approval of its round; only a never-submitted draft is deleted.
Runs on both engines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from conftest import as_user, populated_store, write_template
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from app.common.hashing import sha256_hex
from app.drafting import drafts
from app.drafting.models import Draft, DraftVersion, IssuedDocument, ReviewStep
from app.drafting.slip import build_slip_docx, slip_data, slip_for_document
from app.errors import WorkflowError
from app.identity.models import Unit, User
from app.identity.users import add_user
from app.templating import render_document
from app.templating.models import TemplateVersion

CHAIN = [
    {"name": "adviser-review", "label": "法律顾问审核", "role": "adviser"},
    {"name": "office-check", "label": "法律顾问室把关", "role": "office-head", "approvals": 2},
    {"name": "sign-off", "label": "领导签发", "role": "signatory"},
]
STEP_ROLES = [{"adviser", "public-lawyer"}, {"office-head"}, {"signatory"}]
NEEDED = [1, 2, 1]
# roles held in the drafting unit FZB (populate() plus three users with overlapping roles)
FZB_ROLES = {
    "clerk": {"clerk"},
    "clerk2": {"clerk"},
    "adviser": {"adviser"},
    "lawyer": {"public-lawyer"},
    "head": {"office-head"},
    "head2": {"office-head"},
    "signatory": {"signatory"},
    "multi-ah": {"adviser", "office-head"},
    "multi-hs": {"office-head", "signatory"},
    "clerk-adv": {"clerk", "adviser"},
    "inspector": set(),
    "zr-head": set(),
}
USERS = sorted(FZB_ROLES)
DRAFTERS = ["clerk", "clerk2", "clerk-adv"]
REVIEWER_ROLES = {"adviser", "public-lawyer", "office-head", "signatory"}


@pytest.fixture
def chain_cf(tmp_path, db_url):
    folder = write_template(
        tmp_path / "templates", "quick", ["{{ doc_number }}", "{{ subject }}", "{{ issue_date }}"],
        [{"name": "subject", "label": "事由", "type": "text", "required": True}], chain=CHAIN,
    )  # fmt: skip
    store = populated_store(tmp_path, db_url, templates_dir=folder)
    with store.db.write() as s:
        for username, roles in [
            ("multi-ah", ["adviser", "office-head"]),
            ("multi-hs", ["office-head", "signatory"]),
            ("clerk-adv", ["clerk", "adviser"]),
        ]:
            add_user(s, username, username, "FZB", roles, password="x" * 12, must_change=False)
    yield store
    store.close()


@dataclass
class Model:
    """What the rules say about one draft."""

    id: int
    creator: str
    status: str = "draft"
    counted: list[list[str]] = field(default_factory=lambda: [[] for _ in NEEDED])
    acted: dict[str, set[int]] = field(default_factory=dict)  # approve/return by step index
    submitted: bool = False  # ever: a draft once submitted is never deleted

    def pending(self) -> int | None:
        return next((i for i, n in enumerate(NEEDED) if len(self.counted[i]) < n), None)

    def may_review(self, user: str) -> bool:
        i = self.pending()
        roles = FZB_ROLES[user]
        return (
            self.status == "in_review"
            and i is not None
            and bool(roles & REVIEWER_ROLES)
            and bool(roles & STEP_ROLES[i])
            and user != self.creator
            and not (self.acted.get(user, set()) - {i})
            and user not in self.counted[i]
        )

    def may_issue(self, user: str) -> bool:
        return self.status == "approved" and (
            user == self.creator or bool(FZB_ROLES[user] & {"clerk", "office-head"})
        )

    def reset(self) -> None:
        self.counted = [[] for _ in NEEDED]


def _machine(cf):
    class ReviewChain(RuleBasedStateMachine):
        drafts_ = Bundle("drafts")

        def __init__(self):
            super().__init__()
            self.models: dict[int, Model] = {}
            self.edits = 0
            self.checked_docs: set[int] = set()

        def _run(self, username: str, fn, *args, expect: bool):
            try:
                with cf.db.write() as s:
                    result = fn(cf, s, as_user(s, username), *args)
            except WorkflowError as exc:
                assert not expect, f"{fn.__name__} by {username} refused: {exc.message}"
                return None
            assert expect, f"{fn.__name__} by {username} was allowed but the rules forbid it"
            return result

        @initialize(target=drafts_, drafter=st.sampled_from(DRAFTERS))
        def first(self, drafter):
            return self.create(drafter)

        @precondition(lambda self: len(self.models) < 3)
        @rule(target=drafts_, drafter=st.sampled_from(DRAFTERS))
        def create(self, drafter):
            with cf.db.write() as s:
                d = drafts.create_draft(
                    cf, s, as_user(s, drafter), "quick", {"subject": "甲"}, "FZB"
                )
                self.models[d.id] = Model(d.id, drafter)
            return d.id

        @rule(draft=drafts_, user=st.sampled_from(DRAFTERS + ["head"]))
        def edit(self, draft, user):
            m = self.models[draft]
            self.edits += 1
            ok = user == m.creator and m.status not in {"issued", "deleted"}
            data = {"subject": f"乙{self.edits}"}
            if self._run(user, drafts.edit_draft, draft, data, expect=ok) is not None:
                m.status = "draft"
                m.reset()

        @rule(draft=drafts_, user=st.sampled_from(DRAFTERS))
        def submit(self, draft, user):
            m = self.models[draft]
            ok = user == m.creator and m.status in {"draft", "returned"}
            if self._run(user, drafts.submit, draft, expect=ok) is not None:
                m.status = "in_review"
                m.submitted = True
                m.reset()

        @rule(draft=drafts_, user=st.sampled_from(DRAFTERS + ["head"]), own=st.booleans())
        def withdraw(self, draft, user, own):
            m = self.models[draft]
            user = m.creator if own else user  # mostly the drafter: others are refused anyway
            ok = user == m.creator and m.status == "in_review" and not any(m.counted)
            if self._run(user, drafts.withdraw, draft, expect=ok) is not None:
                m.status = "draft"
                m.reset()

        @rule(draft=drafts_, user=st.sampled_from(DRAFTERS + ["head"]), own=st.booleans())
        def delete(self, draft, user, own):
            m = self.models[draft]
            user = m.creator if own else user  # mostly the drafter: others are refused anyway
            ok = user == m.creator and m.status == "draft" and not m.submitted

            def delete_draft(cf_, s, p, draft_id):
                return drafts.delete_draft(s, p, draft_id)

            if self._run(user, delete_draft, draft, expect=ok) is not None:
                m.status = "deleted"

        def _approve(self, m: Model, user: str):
            ok = m.may_review(user)
            i = m.pending()
            if self._run(user, drafts.approve, m.id, "同意", expect=ok) is not None:
                m.counted[i].append(user)
                m.acted.setdefault(user, set()).add(i)
                if m.pending() is None:
                    m.status = "approved"

        @rule(draft=drafts_, user=st.sampled_from(USERS))
        def approve(self, draft, user):
            self._approve(self.models[draft], user)

        @rule(draft=drafts_, pick=st.integers(0, 50))
        def return_by_an_eligible_reviewer(self, draft, pick):
            m = self.models[draft]
            eligible = [u for u in USERS if m.may_review(u)]
            if eligible:
                self.return_(draft, eligible[pick % len(eligible)])

        @rule(draft=drafts_, user=st.sampled_from(USERS))
        def return_(self, draft, user):
            m = self.models[draft]
            ok = m.may_review(user)
            i = m.pending()
            if self._run(user, drafts.return_draft, draft, "请修改", expect=ok) is not None:
                m.acted.setdefault(user, set()).add(i)
                m.status = "returned"
                m.reset()

        @rule(draft=drafts_, user=st.sampled_from(USERS))
        def issue(self, draft, user):
            m = self.models[draft]
            if self._run(user, drafts.issue, draft, expect=m.may_issue(user)) is not None:
                m.status = "issued"

        def _advance(self, draft, pick):
            """Random users rarely fit the step; this moves a chain on with someone who does."""
            m = self.models[draft]
            if m.status in {"draft", "returned"}:
                self.submit(draft, m.creator)
            elif m.status == "in_review":
                eligible = [u for u in USERS if m.may_review(u)]
                if not any(m.counted) and pick % 7 == 0:  # now and then the drafter takes it back
                    self.withdraw(draft, m.creator, True)
                elif eligible:
                    self._approve(m, eligible[pick % len(eligible)])
            elif m.status == "approved":
                self.issue(draft, m.creator)

        # three copies: hypothesis has no rule weights, and a chain needs six moves to issue
        @rule(draft=drafts_, pick=st.integers(0, 50))
        def advance(self, draft, pick):
            self._advance(draft, pick)

        @rule(draft=drafts_, pick=st.integers(0, 50))
        def advance_again(self, draft, pick):
            self._advance(draft, pick)

        @rule(draft=drafts_, pick=st.integers(0, 50))
        def advance_once_more(self, draft, pick):
            self._advance(draft, pick)

        @invariant()
        def records_keep_the_rules(self):
            if not self.models:
                return
            with cf.db.read() as s:
                users = {u.id: u.username for u in s.scalars(select(User))}
                for draft_id, m in self.models.items():
                    draft = s.get(Draft, draft_id)
                    assert draft.status == m.status
                    self._check_draft(s, draft, users)

        def _check_draft(self, s, draft, users):
            authors = set(
                s.scalars(select(DraftVersion.created_by).where(DraftVersion.draft_id == draft.id))
            )
            steps = drafts.steps_of(s, draft)
            if draft.status == "deleted":
                assert not steps, "a draft once submitted was deleted"
            for n, step in enumerate(steps):
                if step.decision != "withdraw":
                    continue
                assert step.user_id == draft.created_by, "withdrawn by someone else"
                since = steps[:n][::-1]
                round_ = since[: next(i for i, x in enumerate(since) if x.decision == "submit")]
                assert not [x for x in round_ if x.decision == "approve"], (
                    "withdrawn after approval"
                )
            per_user: dict[int, set[int]] = {}
            for step in steps:
                if step.decision not in {"approve", "return"}:
                    continue
                assert step.user_id not in authors | {draft.created_by}, "self-approval"
                held = FZB_ROLES[users[step.user_id]]
                assert held & STEP_ROLES[step.step_index], "approver lacks the step's role"
                assert step.role in held
                per_user.setdefault(step.user_id, set()).add(step.step_index)
            assert all(len(ix) == 1 for ix in per_user.values()), "one person, two steps"
            if draft.status != "issued":
                return
            doc = s.scalars(select(IssuedDocument).where(IssuedDocument.draft_id == draft.id)).one()
            final = drafts.current_version(s, draft)
            assert doc.approved_version_id == final.id
            assert doc.approved_sha256 == final.docx_sha256
            last_submit = max(
                st_.id for st_ in steps if st_.decision == "submit" and st_.version_id == final.id
            )
            counted = [st_ for st_ in steps if st_.id > last_submit and st_.decision == "approve"]
            assert all(a.version_sha256 == doc.approved_sha256 for a in counted)
            assert not [st_ for st_ in steps if st_.id > last_submit and st_.decision == "return"]
            # no step skipped: approvals come in chain order and each step has its quota
            assert [a.step_index for a in counted] == sorted(a.step_index for a in counted)
            assert [sum(a.step_index == i for a in counted) for i in range(3)] == NEEDED
            if doc.id in self.checked_docs:
                return
            tv = s.get(TemplateVersion, doc.template_version_id)
            tpl = cf.catalog.load(tv)
            unit = drafts.unit_context(s.get(Unit, doc.unit_id))
            approved = render_document(tpl.schema, tpl.docx, final.data, unit)
            issued = render_document(
                tpl.schema, tpl.docx, final.data, unit, doc.number, doc.issue_date
            )
            assert sha256_hex(approved) == doc.approved_sha256
            assert (
                sha256_hex(issued) == doc.docx_sha256 == sha256_hex(cf.blobs.get(doc.docx_sha256))
            )
            # the archived slip is reproducible from the records
            assert build_slip_docx(slip_data(cf, s, doc)) == slip_for_document(cf, s, doc)
            self.checked_docs.add(doc.id)

    return ReviewChain


def test_random_review_sequences_keep_the_invariants(chain_cf):
    run_state_machine_as_test(
        _machine(chain_cf),
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            # the same walks every run (a suite must not pass or fail by chance); set
            # CASEFILE_EXPLORE=1 to draw new ones
            derandomize=not os.environ.get("CASEFILE_EXPLORE"),
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    with chain_cf.db.read() as s:
        issued = s.scalar(select(func.count()).select_from(IssuedDocument))
        returned = s.scalar(
            select(func.count()).select_from(ReviewStep).where(ReviewStep.decision == "return")
        )
        withdrawn = s.scalar(
            select(func.count()).select_from(ReviewStep).where(ReviewStep.decision == "withdraw")
        )
        deleted = s.scalar(select(func.count()).select_from(Draft).where(Draft.status == "deleted"))
    print(f"issued {issued}, returned {returned}, withdrawn {withdrawn}, deleted {deleted}")
    assert issued > 0 and returned > 0  # the random walks do reach issuance and returns
    assert withdrawn > 0 and deleted > 0  # and withdrawals and deletions
