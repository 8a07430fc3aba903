"""The search index covers case files: a filed document carries its case files' titles and
档号, uploaded material is a search document of its own, and both follow the read rules."""

import json
import re

import pytest
from casefile_factories import close, file_document, make_docx, new_case, upload
from conftest import as_user, issue_quick
from sqlalchemy import update
from webutil import logged_in as _client

from app import create_app
from app.access.policy import search_scope
from app.casefiles import service as casefiles
from app.casefiles.models import CaseFileItem
from app.cli import build_parser
from app.cli.documents import cmd_search
from app.db.base import utcnow
from app.identity.users import add_user
from app.integrity.verify import index_problems, verify_store
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain, pending
from app.search import SearchQuery, SearchScope
from app.search.indexing import rebuild_index

CASE_TITLE = "关于狮山片区旧城改造的重大行政决策"
PHRASE = "东侧地块征收补偿标准偏低"  # only in the uploaded expert opinion


def _search(cf, text, username=None, **query):
    scope = SearchScope.everything()
    if username:
        with cf.db.read() as s:
            scope = search_scope(s, as_user(s, username))
    return cf.search.search(SearchQuery(text=text, **query), scope)


def _ids(results):
    return [h.doc_id for h in results.hits]


def _expert_opinion(cf, case_id):
    item_id = upload(
        cf, case_id, make_docx("专家论证意见", f"经论证，{PHRASE}，建议重新测算。"),
        "专家意见.docx", title="狮山片区专家论证意见", role="expert-opinion",
    )  # fmt: skip
    with cf.db.read() as s:
        return item_id, s.get(CaseFileItem, item_id).attachment_id


def _skip_outbox(cf):
    """As if the index had missed the pending events (an index restored from a backup, or
    filings made before case files were indexed)."""
    with cf.db.write() as s:
        s.execute(update(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
                  .values(processed_at=utcnow()))  # fmt: skip


def test_a_filed_document_is_found_by_its_case_file_title_and_reference(quick_cf):
    cf = quick_cf
    doc = issue_quick(cf, "停车收费调整")
    drain(cf, ("index",))
    assert _search(cf, "狮山片区旧城").total == 0
    case = new_case(cf, CASE_TITLE)
    file_document(cf, case, doc.id, role="decision")
    assert {"document_id": doc.id} in [e.payload for e in pending(cf) if e.kind == "index"]
    drain(cf, ("index",))
    assert _ids(_search(cf, "狮山片区旧城")) == [str(doc.id)]
    hit = _search(cf, "狮山片区旧城", "clerk").hits[0]
    assert "案卷" in hit.snippet_html and "<mark>狮山片区旧城</mark>" in hit.snippet_html
    assert _search(cf, "狮山片区旧城", "zr-clerk").total == 0

    # renaming the open case file re-indexes what is filed in it
    with cf.db.write() as s:
        casefiles.update_case_file(s, as_user(s, "clerk"), case, title="城区停车收费调整决策")
    drain(cf, ("index",))
    assert _search(cf, "狮山片区旧城").total == 0
    assert _ids(_search(cf, "城区停车收费调整决策")) == [str(doc.id)]

    # closing gives the item its 档号, which then finds the document too
    (reference,) = close(cf, case)
    drain(cf, ("index",))
    assert _ids(_search(cf, reference)) == [str(doc.id)]
    assert not verify_store(cf).warnings


def test_an_uploaded_attachment_is_found_by_its_text_only_by_readers_of_its_unit(quick_cf):
    cf = quick_cf
    issue_quick(cf, "狮山片区征收公告")
    case = new_case(cf, CASE_TITLE)
    item_id, att_id = _expert_opinion(cf, case)
    assert {"attachment_id": att_id} in [e.payload for e in pending(cf) if e.kind == "index"]
    drain(cf, ("index",))

    for user in ("clerk", "head", "signatory", "inspector"):
        res = _search(cf, PHRASE, user)
        assert _ids(res) == [f"att-{att_id}"], user
    hit = _search(cf, PHRASE, "clerk").hits[0]
    assert (hit.doc_type, hit.title, hit.number, hit.unit_code) == (
        "attachment", "狮山片区专家论证意见", "", "FZB")  # fmt: skip
    assert f"<mark>{PHRASE}</mark>" in hit.snippet_html
    # found by its case file's title too, beside the document issued in that unit
    both = _search(cf, "狮山片区", "clerk")
    assert both.total == 2 and both.facets["doc_type"] == {"attachment": 1, "quick": 1}
    assert _ids(_search(cf, "狮山片区", "clerk", doc_types=frozenset({"attachment"}))) == [
        f"att-{att_id}"
    ]

    # another unit's clerk: nothing, not in the hits, not in the count, not in the facets
    for text in (PHRASE, "狮山片区", "专家论证", ""):
        other = _search(cf, text, "zr-clerk")
        assert other.total == 0 and not other.hits, text
        assert not any(other.facets.values()), text
    # an adviser of the unit does not read its case files, so does not find the material
    assert _search(cf, PHRASE, "adviser").total == 0

    # closing numbers the item: the attachment's number is its 档号 from then on
    (reference,) = close(cf, case)
    drain(cf, ("index",))
    hit = _search(cf, PHRASE, "clerk").hits[0]
    assert hit.number == reference
    assert _ids(_search(cf, reference)) == [f"att-{att_id}"]
    assert not verify_store(cf).warnings


def test_reindex_includes_attachments_and_verify_sees_what_the_index_missed(quick_cf):
    cf = quick_cf
    doc = issue_quick(cf, "停车收费调整")
    drain(cf, ("index",))
    case = new_case(cf, CASE_TITLE)
    file_document(cf, case, doc.id)
    _item, att_id = _expert_opinion(cf, case)
    assert index_problems(cf) == []  # pending in the outbox: not a problem yet
    _skip_outbox(cf)
    problems = index_problems(cf)
    assert any(f"(document {doc.id}) 的检索索引内容已过期" in p for p in problems)
    assert any(f"(attachment {att_id}) 未进入检索索引" in p for p in problems)
    assert "casefile reindex" in problems[-1]

    assert rebuild_index(cf) == 2  # one document, one attachment
    assert _ids(_search(cf, PHRASE)) == [f"att-{att_id}"]
    assert set(_ids(_search(cf, "狮山片区旧城"))) == {str(doc.id), f"att-{att_id}"}
    report = verify_store(cf)
    assert report.ok and report.warnings == []

    # closing changes the attachment's number: stale until the outbox catches up
    close(cf, case)
    _skip_outbox(cf)
    assert any(f"(attachment {att_id}) 的检索索引内容已过期" in p for p in index_problems(cf))
    rebuild_index(cf)
    assert index_problems(cf) == []


def test_a_case_file_of_another_unit_does_not_reach_the_documents_readers(quick_cf):
    """Filed into the parent unit's case file: the FZB document's readers may not read that
    case file, so its title is not indexed with the document (and nothing leaks by search)."""
    cf = quick_cf
    with cf.db.write() as s:
        add_user(s, "gov-head", "gov-head", "GOV", ["office-head"], password="x" * 12,
                 must_change=False)  # fmt: skip
    doc = issue_quick(cf, "停车收费调整")
    case = new_case(cf, "市政府机密议题案卷", user="gov-head", unit_code="GOV")
    file_document(cf, case, doc.id, user="gov-head")
    drain(cf, ("index",))
    assert _search(cf, "机密议题", "clerk").total == 0
    assert _search(cf, "停车收费", "clerk").total == 1
    assert index_problems(cf) == []


@pytest.fixture
def app(quick_cf):
    return create_app({"TESTING": True}, casefile=quick_cf)


def test_web_api_and_cli_present_an_attachment_hit_with_a_working_link(app, quick_cf, capsys):
    cf = quick_cf
    doc = issue_quick(cf, "狮山片区征收公告")
    case = new_case(cf, CASE_TITLE)
    item_id, att_id = _expert_opinion(cf, case)
    drain(cf, ("index",))

    c = _client(app, "clerk")
    page = c.get(f"/search?q={PHRASE}").get_data(as_text=True)
    assert "共找到 1 份" in page and "附件材料" in page and CASE_TITLE in page
    link = f"/casefiles/{case}#item-{item_id}"
    assert f'href="{link}"' in page
    assert "/documents/0" not in page and "/documents/att" not in page
    shown = c.get(link.split("#")[0])
    assert shown.status_code == 200 and f'id="item-{item_id}"' in shown.get_data(as_text=True)
    download = f"/casefiles/{case}/items/{item_id}/download"
    assert f'href="{download}"' in page
    assert c.get(download).data[:2] == b"PK"
    # the type facet and the filter chip show the Chinese label
    facets = c.get("/search?q=狮山片区").get_data(as_text=True)
    assert re.search(r'href="[^"]*type=attachment[^"]*">附件材料</a>', facets)
    chip = c.get("/search?q=狮山片区&type=attachment").get_data(as_text=True)
    assert "附件材料 ✕" in chip and "共找到 1 份" in chip
    # a document and an attachment on pages of one: both links right, the pager still works
    pages = [c.get(f"/search?q=狮山片区&sort=date&per_page=1&page={n}") for n in (1, 2)]
    html = "".join(r.get_data(as_text=True) for r in pages)
    assert f'href="/documents/{doc.id}"' in html and f'href="{link}"' in html
    assert "下一页" in pages[0].get_data(as_text=True) and "上一页" in pages[1].get_data(
        as_text=True
    )

    other = _client(app, "zr-clerk").get(f"/search?q={PHRASE}").get_data(as_text=True)
    assert "共找到 0 份" in other and "狮山片区专家论证意见" not in other
    assert _client(app, "zr-clerk").get(link.split("#")[0]).status_code == 404

    # the JSON API
    api = app.test_client()
    token = api.post("/api/v1/tokens", json={"username": "clerk", "password": "Test-password-1"})
    h = {"Authorization": f"Bearer {token.json['token']}"}
    body = api.get(f"/api/v1/search?q={PHRASE}", headers=h).json
    (hit,) = body["hits"]
    assert hit["id"] is None and hit["search_id"] == f"att-{att_id}"
    assert (hit["type"], hit["type_label"]) == ("attachment", "附件材料")
    assert (hit["attachment_id"], hit["case_file_id"], hit["item_id"]) == (att_id, case, item_id)
    # links in the API answer point at API routes, which answer the token (not a login page)
    assert hit["url"] == f"/api/v1/casefiles/{case}" and hit["case_title"] == CASE_TITLE
    assert hit["download_url"] == f"/api/v1/casefiles/{case}/items/{item_id}/download"
    assert api.get(hit["url"], headers=h).json["id"] == case
    assert api.get(hit["download_url"], headers=h).status_code == 200
    assert body["type_labels"] == {"attachment": "附件材料"}

    # the CLI
    capsys.readouterr()
    cmd_search(cf, build_parser().parse_args(["search", PHRASE, "--as", "clerk", "--json"]))
    (cli_hit,) = json.loads(capsys.readouterr().out)["hits"]
    assert cli_hit["id"] is None and cli_hit["case_file_id"] == case
    assert cli_hit["type_label"] == "附件材料" and cli_hit["item_id"] == item_id
    cmd_search(cf, build_parser().parse_args(["search", PHRASE, "--as", "clerk"]))
    text = capsys.readouterr().out
    assert f"att-{att_id}" in text and "[附件材料]" in text and CASE_TITLE in text


def test_similar_documents_may_be_attachments_and_their_links_work(app, quick_cf):
    cf = quick_cf
    subject = "狮山片区旧城改造东侧地块征收补偿标准论证"
    doc = issue_quick(cf, subject)
    for other in ("政府采购合同审查", "行政复议答复", "信访事项办理"):
        issue_quick(cf, other)  # similarity weighs what is rare in the archive
    case = new_case(cf, CASE_TITLE)
    item_id = upload(cf, case, make_docx(subject, subject), "论证.docx", title="补偿标准论证材料")
    drain(cf, ("index",))
    c = _client(app, "clerk")
    page = c.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "补偿标准论证材料" in page
    link = f"/casefiles/{case}#item-{item_id}"
    assert f'href="{link}"' in page and "/documents/0" not in page
    assert c.get(link.split("#")[0]).status_code == 200
