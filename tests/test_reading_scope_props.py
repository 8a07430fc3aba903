"""Who may read what, decided once: for random units, users, roles, restrictions and
documents, on both engines, the document list, its count, a single read, search (results,
counts and facets), "similar documents", the contracts register and the compliance view all
agree with one statement of the reading rights (docs/security.md):

- readers of the unit: its clerks and signatories, office heads of it or a unit above it,
  inspectors of it or a unit above it;
- whoever drafted, reviewed (or co-signed) or issued the document;
- advisers and public lawyers of the unit, for its legality-review opinions and risk notices;
- and, when the document is restricted (知悉范围), only the named users and those who acted on
  it, whatever else holds; a disabled user reads nothing.

The oracle below is written from that statement, not from the code under test.
"""

from __future__ import annotations

import datetime as dt
import itertools

from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.access.policy import can, principal, search_scope
from app.blobs.store import store_blob
from app.drafting import documents
from app.drafting.models import Draft, DraftRestriction, DraftVersion, IssuedDocument, ReviewStep
from app.identity.models import RoleGrant, Unit, User
from app.identity.users import add_unit
from app.registers.compliance import compliance_findings
from app.registers.contracts import contract_register
from app.search import SearchQuery
from app.search.indexing import index_doc_for
from app.templating.models import TemplateVersion

TEMPLATES = ("legality-review-opinion", "risk-notice", "engagement-contract", "commission-letter")
PRECEDENT = {"legality-review-opinion", "risk-notice"}
ROLES = ("clerk", "adviser", "public-lawyer", "office-head", "signatory", "inspector", "admin")
_counter = itertools.count(1)


@st.composite
def worlds(draw):
    n_units = draw(st.integers(2, 4))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n_units)]
    n_users = draw(st.integers(2, 6))
    users = []
    for _ in range(n_users):
        grants = draw(
            st.lists(
                st.tuples(st.integers(0, n_units - 1), st.sampled_from(ROLES)),
                min_size=0,
                max_size=3,
                unique=True,
            )
        )
        users.append({"grants": grants, "active": draw(st.booleans() | st.just(True))})
    docs = []
    for _ in range(draw(st.integers(1, 6))):
        people = st.integers(0, n_users - 1)
        docs.append(
            {
                "unit": draw(st.integers(0, n_units - 1)),
                "template": draw(st.sampled_from(TEMPLATES)),
                "drafter": draw(people),
                "reviewers": draw(st.lists(people, max_size=3, unique=True)),
                "issuer": draw(people),
                "restricted": draw(st.none() | st.lists(people, max_size=2, unique=True)),
            }
        )
    return {"parents": parents, "users": users, "docs": docs}


def oracle(world, units_parent, user_idx: int, doc) -> bool:
    user = world["users"][user_idx]
    if not user["active"]:
        return False
    actors = {doc["drafter"], doc["issuer"], *doc["reviewers"]}
    if doc["restricted"] is not None and user_idx not in set(doc["restricted"]) | actors:
        return False

    def at_or_above(unit: int, top: int) -> bool:
        while unit is not None:
            if unit == top:
                return True
            unit = units_parent[unit]
        return False

    for unit, role in user["grants"]:
        if role in ("clerk", "signatory") and unit == doc["unit"]:
            return True
        if role in ("office-head", "inspector") and at_or_above(doc["unit"], unit):
            return True
        if role in ("adviser", "public-lawyer") and unit == doc["unit"]:
            if doc["template"] in PRECEDENT:
                return True
    return user_idx in actors


def _build(cf, world, docx_sha: str, tag: str):
    """Write the world's records directly: the rule is under test here, not the workflow."""
    with cf.db.write() as s:
        codes = []
        for i, parent in enumerate(world["parents"]):
            code = f"P{tag}U{i}"
            add_unit(s, code, f"单位{tag}-{i}", None if parent is None else codes[parent], None)
            codes.append(code)
        root = s.scalars(select(Unit).where(Unit.code == codes[0])).one()
        unit_ids = {u.code: u.id for u in s.scalars(select(Unit).where(Unit.code.in_(codes)))}
        names = []
        for i, spec in enumerate(world["users"]):
            user = User(username=f"p{tag}u{i}", name=f"用户{tag}{i}", unit_id=root.id,
                        password_hash="-", active=spec["active"], must_change_password=False)  # fmt: skip
            s.add(user)
            s.flush()
            for unit, role in spec["grants"]:
                s.add(RoleGrant(user_id=user.id, unit_id=unit_ids[codes[unit]], role=role))
            names.append(user.id)
        tvs = {
            t: s.scalars(select(TemplateVersion.id).where(TemplateVersion.template_id == t)).first()
            for t in TEMPLATES
        }
        doc_ids = []
        for j, spec in enumerate(world["docs"]):
            unit_id = unit_ids[codes[spec["unit"]]]
            draft = Draft(
                template_version_id=tvs[spec["template"]],
                unit_id=unit_id,
                created_by=names[spec["drafter"]],
                title=f"属性测试{tag}文书{j}",
                status="issued",
            )
            s.add(draft)
            s.flush()
            data = {"reply_by": "2020-01-01", "addressee": "某局"}
            version = DraftVersion(
                draft_id=draft.id, number=1, data=data, docx_sha256=docx_sha,
                created_by=names[spec["drafter"]],
            )  # fmt: skip
            s.add(version)
            s.flush()
            for r in spec["reviewers"]:
                s.add(ReviewStep(draft_id=draft.id, version_id=version.id, version_sha256=docx_sha,
                                 step_index=0, step_name="adviser-review", role="adviser",
                                 unit_id=unit_id, user_id=names[r], decision="approve"))  # fmt: skip
            if spec["restricted"] is not None:
                for r in {*spec["restricted"], spec["drafter"]}:
                    s.add(DraftRestriction(draft_id=draft.id, user_id=names[r],
                                           created_by=names[spec["drafter"]]))  # fmt: skip
            seq = next(_counter)
            doc = IssuedDocument(
                draft_id=draft.id, unit_id=unit_id, template_version_id=tvs[spec["template"]],
                title=draft.title, number=f"测{tag}〔2026〕{seq}号", number_code=f"测{tag}",
                number_year=2026, number_seq=seq, issue_date=dt.date(2026, 3, 1),
                issued_by=names[spec["issuer"]], approved_version_id=version.id,
                approved_sha256=docx_sha, docx_sha256=docx_sha,
            )  # fmt: skip
            s.add(doc)
            s.flush()
            doc_ids.append(doc.id)
        index_docs = [index_doc_for(cf, s, s.get(IssuedDocument, d)) for d in doc_ids]
    cf.search.index(index_docs)
    cf.search.refresh()
    return names, doc_ids


def _check(cf, world, names, doc_ids, tag: str) -> None:
    parents = world["parents"]
    query = SearchQuery(text=f"属性测试{tag}", per_page=100, facets=True)
    with cf.db.read() as s:
        for ui, uid in enumerate(names):
            user = s.get(User, uid)
            p = principal(s, user)
            expected = {d for d, spec in zip(doc_ids, world["docs"], strict=True)
                        if oracle(world, parents, ui, spec)}  # fmt: skip
            listed = set()
            page = 1
            while True:
                listing = documents.list_documents(s, p, page=page, per_page=100)
                listed |= {d.id for d in listing.documents}
                if page * 100 >= listing.total:
                    break
                page += 1
            assert listing.total == len(listed) == documents.count_documents(s, p)
            read = {d for d in doc_ids if can(s, p, "document.read", s.get(IssuedDocument, d))}
            scope = search_scope(s, p)
            results = cf.search.search(query, scope)
            found = {int(h.doc_id) for h in results.hits}
            why = f"user {ui} {world['users'][ui]} in {world}"
            assert listed & set(doc_ids) == expected, why
            assert read == expected, why
            assert found == expected, why
            assert results.total == len(expected), why
            assert sum(results.facets.get("doc_type", {}).values()) == len(expected), why
            for d in doc_ids:
                similar = cf.search.similar(str(d), scope, limit=50)
                assert {int(h.doc_id) for h in similar if h.doc_id.isdigit()} & set(
                    doc_ids
                ) <= expected
            # registers: unit views, so a subset of what the user reads, never more
            readable_units = p.readable_units()
            in_units = {d for d in expected if s.get(IssuedDocument, d).unit_id in readable_units}
            if user.active:
                register = contract_register(s, p)
                shown = {e.document_id for e in register.entries} & set(doc_ids)
                contracts = {d for d, spec in zip(doc_ids, world["docs"], strict=True)
                             if spec["template"] == "engagement-contract"}  # fmt: skip
                assert shown == contracts & in_units, why
                numbers = {f.document_number for f in compliance_findings(s, p, today="2026-06-01")}
                by_number = {s.get(IssuedDocument, d).number: d for d in doc_ids}
                shown = {by_number[n] for n in numbers if n in by_number}
                flagged = {d for d, spec in zip(doc_ids, world["docs"], strict=True)
                           if spec["template"] in ("risk-notice", "engagement-contract")}  # fmt: skip
                assert shown == flagged & in_units, why


def test_list_read_and_search_agree_with_the_reading_rights(cf):
    tpl = cf.catalog.latest_row
    with cf.db.write() as s:
        row = tpl(s, "commission-letter")
        docx = cf.blobs.get(row.docx_sha256)
        sha = store_blob(s, cf.blobs, docx, "application/octet-stream")

    @settings(
        max_examples=examples(cf, 25, 12),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(world=worlds())
    def check(world):
        tag = str(next(_counter))
        names, doc_ids = _build(cf, world, sha, tag)
        _check(cf, world, names, doc_ids, tag)

    check()


def test_restricted_notice_and_contract_stay_hidden_from_an_inspector(app, cf):
    """The case the issue found: a restricted risk notice (overdue) and a restricted contract
    (unreviewed) were named to an inspector on the compliance page and in its XLSX."""
    import io

    from casefile_factories import issue_template
    from conftest import sample
    from openpyxl import load_workbook
    from webutil import api_client, logged_in

    notice = issue_template(cf, "risk-notice", sample("risk-notice") | {"reply_by": "2020-01-01"},
                            restricted_to=["head"])  # fmt: skip
    contract = issue_template(cf, "engagement-contract", sample("engagement-contract"),
                              restricted_to=["head"])  # fmt: skip
    open_notice = issue_template(cf, "risk-notice", sample("risk-notice") | {
        "reply_by": "2020-01-01", "subject": "农村集体经营性建设用地入市"})  # fmt: skip
    secret = (notice.number, notice.title, contract.number, contract.title)
    inspector = logged_in(app, "inspector")
    page = inspector.get("/compliance").get_data(as_text=True)
    assert open_notice.number in page  # the page works and shows what the inspector may read
    assert not [s for s in secret if s in page]
    xlsx = inspector.get("/compliance?format=xlsx")
    assert xlsx.status_code == 200
    cells = " ".join(str(c.value) for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows()
                     for c in row)  # fmt: skip
    assert open_notice.number in cells and not [s for s in secret if s in cells]
    register = inspector.get("/contracts").get_data(as_text=True)
    assert contract.number not in register
    client, token = api_client(cf)
    auth = token("inspector")
    listed = client.get("/api/v1/documents?per_page=100", headers=auth).json["documents"]
    assert open_notice.number in {d["number"] for d in listed}
    assert not {notice.number, contract.number} & {d["number"] for d in listed}
    assert client.get(f"/api/v1/documents/{notice.id}", headers=auth).status_code == 404
    contracts = client.get("/api/v1/contracts", headers=auth).json["contracts"]
    assert contract.number not in {c["number"] for c in contracts}
    # the named reader sees both
    head = logged_in(app, "head").get("/compliance").get_data(as_text=True)
    assert notice.number in head and contract.number in head
