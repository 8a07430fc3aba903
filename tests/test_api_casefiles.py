"""Case files over the JSON API: the same service, policy, audit and errors as the web pages."""

import hashlib
import io
import zipfile

import pytest
from casefile_factories import make_pdf, make_png, new_case, upload
from conftest import issue_quick
from sqlalchemy import func, select
from webutil import api_client

from app.audit.models import AuditEntry
from app.blobs.models import Blob
from app.casefiles.models import Attachment, CaseFile, CaseFileItem
from app.common.clock import today_in_china


@pytest.fixture
def api(quick_cf):
    return api_client(quick_cf)


def _counts(cf) -> dict:
    with cf.db.read() as s:
        counts = {m.__name__: s.scalar(select(func.count()).select_from(m))
                  for m in (CaseFile, CaseFileItem, Attachment, Blob)}  # fmt: skip
        counts["audit"] = s.scalar(
            select(func.count()).where(AuditEntry.action.startswith("casefile."))
        )
    return counts


def _audit(cf, action: str) -> list[AuditEntry]:
    with cf.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _field_errors(r) -> dict[str, str]:
    assert r.is_json and r.json["error"] == "validation_failed", (r.status_code, r.data)
    return {e["field"]: e["message"] for e in r.json["errors"]}


def test_create_file_upload_close_and_download_over_the_api(api, quick_cf):
    client, token = api
    clerk = token("clerk")
    doc = issue_quick(quick_cf, "停车收费调整")
    r = client.post("/api/v1/casefiles", headers=clerk, json={
        "title": "关于停车收费调整的重大行政决策", "kind": "major-decision", "retention": "D30",
        "meeting_on": "2026-11-01", "note": "经 API 建立"})  # fmt: skip
    assert r.status_code == 201, r.json
    case = r.json
    assert case["unit"] == "FZB" and case["responsible"] == "clerk" and case["status"] == "open"
    assert (
        case["meeting_on"] == "2026-11-01" and case["items"] == [] and case["created_by"] == "clerk"
    )
    assert case["links"]["self"] == f"/api/v1/casefiles/{case['id']}"
    items_url = f"/api/v1/casefiles/{case['id']}/items"

    filed = client.post(items_url, headers=clerk, json={"document_id": doc.id})
    assert filed.status_code == 201, filed.json
    assert filed.json["document_id"] == doc.id and filed.json["number"] == doc.number
    assert filed.json["position"] == 1 and filed.json["sha256"] == doc.docx_sha256
    pdf = make_pdf(2)
    uploaded = client.post(items_url, headers=clerk, content_type="multipart/form-data", data={
        "file": (io.BytesIO(pdf), "会议纪要.pdf"), "role": "minutes", "title": "常务会议纪要",
        "doc_date": "2026-11-01", "responsible": "市政府办公室", "doc_number": "纪要〔2026〕3号",
        "reply_to": str(filed.json["id"])})  # fmt: skip
    assert uploaded.status_code == 201, uploaded.json
    up = uploaded.json
    assert (up["type"], up["role"], up["title"], up["date"]) == (
        "pdf",
        "minutes",
        "常务会议纪要",
        "2026-11-01",
    )
    assert up["sha256"] == hashlib.sha256(pdf).hexdigest() and up["reply_to"] == filed.json["id"]

    shown = client.get(case["links"]["self"], headers=clerk).json
    assert [i["position"] for i in shown["items"]] == [1, 2]
    assert [i["archival_code"] for i in shown["items"]] == [None, None]
    year = today_in_china().year
    listing = client.get(f"/api/v1/casefiles?status=open&unit=FZB&year={year}", headers=clerk).json
    assert [c["id"] for c in listing["case_files"]] == [case["id"]] and listing["total"] == 1
    assert client.get("/api/v1/casefiles?status=closed", headers=clerk).json["total"] == 0

    closed = client.post(f"/api/v1/casefiles/{case['id']}/close", headers=clerk)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed" and closed.json["archive_year"] == year
    codes = [i["archival_code"] for i in closed.json["items"]]
    assert codes == [f"Z001-WS·{year}-D30-FZB-0001", f"Z001-WS·{year}-D30-FZB-0002"]
    assert closed.json["closed_at"].endswith("Z")
    listing = client.get(f"/api/v1/casefiles?status=closed&year={year}", headers=clerk).json
    assert [c["id"] for c in listing["case_files"]] == [case["id"]]
    assert client.get(f"/api/v1/casefiles?year={year - 1}", headers=clerk).json["total"] == 0

    items = closed.json["items"]
    docx = client.get(items[0]["links"]["download"], headers=clerk)
    assert docx.status_code == 200 and hashlib.sha256(docx.data).hexdigest() == doc.docx_sha256
    assert items[0]["links"]["document"] == f"/api/v1/documents/{doc.id}"
    got = client.get(items[1]["links"]["download"], headers=clerk)
    assert got.data == pdf and got.mimetype == "application/pdf"
    dossier = client.get(closed.json["links"]["dossier_pdf"], headers=clerk)
    assert dossier.status_code == 200 and dossier.data.startswith(b"%PDF")
    package = client.get(closed.json["links"]["package_zip"], headers=clerk)
    assert package.status_code == 200
    assert "SHA256SUMS" in zipfile.ZipFile(io.BytesIO(package.data)).namelist()

    # a closed case file takes nothing more, and nothing is written
    before = _counts(quick_cf)
    again = client.post(items_url, headers=clerk, json={"document_id": doc.id})
    assert again.status_code == 403 and again.json["error"] == "forbidden"
    assert "已归档" in again.json["message"]
    refused = client.post(items_url, headers=clerk, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(make_png()), "图.png")})  # fmt: skip
    assert refused.status_code == 403
    assert client.post(f"/api/v1/casefiles/{case['id']}/close", headers=clerk).status_code == 403
    assert _counts(quick_cf) == before

    # audited like the web: who, what, from where
    assert [e.actor for e in _audit(quick_cf, "casefile.create")] == ["clerk"]
    added = [e.detail for e in _audit(quick_cf, "casefile.add")]
    assert [d.get("document") for d in added] == [doc.id, None] and added[1]["type"] == "pdf"
    assert len(_audit(quick_cf, "casefile.close")) == 1
    downloads = _audit(quick_cf, "casefile.download")
    assert [(e.detail["item"], e.detail["via"]) for e in downloads] == [
        (items[0]["id"], "api"),
        (items[1]["id"], "api"),
    ]
    assert [e.detail["package"] for e in _audit(quick_cf, "casefile.export")] == [False, True]
    assert all(e.remote_addr == "127.0.0.1" for e in downloads)


def test_bad_input_is_422_with_fields_and_writes_nothing(api, quick_cf):
    client, token = api
    clerk = token("clerk")
    case = new_case(quick_cf)
    items_url = f"/api/v1/casefiles/{case}/items"
    before = _counts(quick_cf)

    r = client.post("/api/v1/casefiles", headers=clerk, json={})
    assert r.status_code == 422
    assert set(_field_errors(r)) == {"title", "kind", "retention"}
    r = client.post("/api/v1/casefiles", headers=clerk, json={
        "title": "案卷", "kind": "nonsense", "retention": "D5", "unit": "NOPE",
        "decided_on": "2026-13-01"})  # fmt: skip
    errors = _field_errors(r)
    assert set(errors) == {"kind", "retention", "unit", "decided_on"}
    assert errors["unit"] == "单位“NOPE”不存在" and "YYYY-MM-DD" in errors["decided_on"]
    r = client.post("/api/v1/casefiles", headers=clerk, json={"title": 12, "kind": ["x"]})
    assert _field_errors(r) == {"title": "应为字符串", "kind": "应为字符串"}
    r = client.post(
        "/api/v1/casefiles", headers=clerk | {"Content-Type": "application/json"}, data="["
    )
    assert r.status_code == 422 and "JSON" in r.json["message"]

    assert _field_errors(client.post(items_url, headers=clerk, json={})) == {
        "document_id": "请给出要归入的已发文书 document_id，或以 multipart/form-data 上传 file"
    }
    for bad in ("7x", -1, True, 1.5):
        r = client.post(items_url, headers=clerk, json={"document_id": bad})
        assert r.status_code == 422 and _field_errors(r) == {"document_id": "应为正整数"}, bad
    r = client.post(items_url, headers=clerk, json={"document_id": 99999})
    assert r.status_code == 422 and "不存在或您无权查看" in _field_errors(r)["document_id"]
    doc = issue_quick(quick_cf)
    before = _counts(quick_cf)
    r = client.post(items_url, headers=clerk, json={"document_id": doc.id, "role": "nonsense"})
    assert "材料类别应为" in _field_errors(r)["role"]
    r = client.post(items_url, headers=clerk, json={"document_id": doc.id, "reply_to": 4242})
    assert _field_errors(r) == {"reply_to": "被答复的材料（第4242项）不在本案卷中"}
    assert client.post(items_url, headers=clerk, json={"document_id": doc.id}).status_code == 201
    before = _counts(quick_cf)
    r = client.post(items_url, headers=clerk, json={"document_id": doc.id})
    assert _field_errors(r) == {"document_id": f"文书 {doc.number} 已在本案卷中"}

    def post_file(data: bytes, name: str, **form):
        return client.post(items_url, headers=clerk, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), name), **form})  # fmt: skip

    r = client.post(
        items_url, headers=clerk, content_type="multipart/form-data", data={"title": "x"}
    )
    assert _field_errors(r) == {"file": "请在 file 字段中上传文件"}
    r = post_file(b"%PDF-1.4 broken", "坏.pdf")
    assert r.status_code == 422 and "坏.pdf" in r.json["message"]
    assert "已损坏" in _field_errors(r)["file"]
    assert "已加密" in _field_errors(post_file(make_pdf(1, password="x"), "密.pdf"))["file"]
    assert "只接收" in _field_errors(post_file(b"MZ\x90\x00 not a pdf", "合同.pdf"))["file"]
    assert "doc_date" in _field_errors(post_file(make_pdf(1), "a.pdf", doc_date="昨天"))
    assert _field_errors(post_file(make_pdf(1), "a.pdf", reply_to="第一件")) == {
        "reply_to": "应为正整数"
    }
    assert _counts(quick_cf) == before

    empty = new_case(quick_cf, "空案卷")
    before = _counts(quick_cf)
    r = client.post(f"/api/v1/casefiles/{empty}/close", headers=clerk)
    assert r.status_code == 422 and r.json["message"] == "案卷中还没有文件，不能归档"
    r = client.get("/api/v1/casefiles?status=shut&year=26&unit=NOPE", headers=clerk)
    assert set(_field_errors(r)) == {"status", "year", "unit"}
    assert _counts(quick_cf) == before


def test_other_units_get_404_and_readers_who_may_not_file_get_403(api, quick_cf):
    client, token = api
    case = new_case(quick_cf)
    item = upload(quick_cf, case, make_png(), "纪要.png", role="minutes")
    base = f"/api/v1/casefiles/{case}"
    zr = token("zr-clerk")
    for method, url in (("GET", base), ("GET", f"{base}/items/{item}/download"),
                        ("GET", f"{base}/dossier.pdf"), ("GET", f"{base}/package.zip"),
                        ("POST", f"{base}/items"), ("POST", f"{base}/close")):  # fmt: skip
        r = client.open(url, method=method, headers=zr, json={"document_id": 1})
        assert r.status_code == 404 and r.json["error"] == "not_found", (method, url)
    assert client.get("/api/v1/casefiles", headers=zr).json["total"] == 0
    # another unit's item id through one's own case file is not found either
    own = new_case(quick_cf, "自然资源局的案卷", user="zr-clerk", unit_code="ZRJ")
    assert (
        client.get(f"/api/v1/casefiles/{own}/items/{item}/download", headers=zr).status_code == 404
    )

    signatory = token("signatory")  # reads the unit's case files, files nothing, creates none
    assert client.get(base, headers=signatory).status_code == 200
    before = _counts(quick_cf)
    r = client.post(f"{base}/items", headers=signatory, json={"document_id": 1})
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    assert client.post(f"{base}/close", headers=signatory).status_code == 403
    r = client.post("/api/v1/casefiles", headers=signatory,
                    json={"title": "签发人的案卷", "kind": "other", "retention": "D10"})  # fmt: skip
    assert r.status_code == 403 and r.json["message"] == "您无权建立案卷"
    r = client.post("/api/v1/casefiles", headers=token("clerk"),
                    json={"title": "别的单位", "kind": "other", "retention": "D10", "unit": "ZRJ"})  # fmt: skip
    assert r.status_code == 403 and "无权在" in r.json["message"]
    assert _counts(quick_cf) == before
    assert client.get(base).status_code == 401

    inspector = token("inspector")  # reads across units; every read is audited
    assert client.get(base, headers=inspector).json["items"][0]["type"] == "png"
    reads = [e for e in _audit(quick_cf, "casefile.read") if e.actor == "inspector"]
    assert [(e.object_id, e.detail) for e in reads] == [(str(case), {"via": "api"})]
    r = client.post(f"{base}/items", headers=inspector, json={"document_id": 1})
    assert r.status_code == 403
