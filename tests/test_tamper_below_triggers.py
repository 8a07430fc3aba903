"""`verify` catches tampering done below the write-once triggers (issue 16, item 3).

Each test lifts the triggers the way a database administrator could (SQLite: DROP TRIGGER;
PostgreSQL: ALTER TABLE ... DISABLE TRIGGER USER, what the tables' owner may do), changes or
deletes rows, and expects `verify` to name what differs, by 发文字号, without a traceback.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import (
    ENGINES,
    as_user,
    drop_pg_database,
    issue_quick,
    new_pg_database,
    pg_name,
    quick_store,
)
from matterutil import act, new_matter
from sqlalchemy import text

from app.audit.models import AuditEntry
from app.casefiles import service as casefiles
from app.drafting.models import IssuedDocument, ReviewStep
from app.integrity import checkpoint
from app.integrity.verify import verify_store
from app.jobs.outbox import drain
from app.matters import service as matters

TABLES = (
    "issued_documents", "review_steps", "processing_slips", "renditions", "audit_log",
    "case_file_items", "number_sequences", "matter_events",
)  # fmt: skip


def lift_triggers(conn, cf) -> None:
    """Drop (SQLite) or disable (PostgreSQL) every user trigger of the write-once tables."""
    if cf.db.is_sqlite:
        for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")):
            conn.execute(text(f'DROP TRIGGER "{name}"'))
    else:
        for table in TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


def tamper(cf, *statements: str, foreign_keys: bool = True) -> None:
    with cf.db.engine.connect() as conn:
        raw = conn.connection.driver_connection  # outside any transaction: PRAGMA takes effect
        if cf.db.is_sqlite and not foreign_keys:
            raw.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            lift_triggers(conn, cf)
            for sql in statements:
                conn.execute(text(sql))
        if cf.db.is_sqlite and not foreign_keys:
            raw.execute("PRAGMA foreign_keys=ON")


@pytest.fixture(scope="module", params=ENGINES)
def three_base(request, tmp_path_factory):
    """Built once per engine and module: the quick store with three issued documents, their
    slips made and verify passed (which writes the checkpoint). Each test gets a copy."""
    folder = tmp_path_factory.mktemp("three")
    if request.param == "sqlite":
        (folder / "archive").mkdir()
        url = f"sqlite:///{folder / 'archive' / 'casefile.db'}"
        shutil.copy(request.getfixturevalue("sqlite_template"), folder / "archive" / "casefile.db")
    else:
        url = new_pg_database(request.getfixturevalue("pg_template"))
    store = quick_store(folder, url)
    docs = [issue_quick(store, f"事项{i}") for i in range(3)]
    drain(store, kinds=("slip",))
    report = verify_store(store)
    assert report.ok, report.problems
    assert report.checkpoint_written
    store.close()
    yield folder, url, docs
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def three_cf(three_base, tmp_path):
    """A copy of the module's three-document store (files, and the database)."""
    folder, url, _ = three_base
    shutil.copytree(folder / "archive", tmp_path / "archive")
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'archive' / 'casefile.db'}"
    else:
        url = new_pg_database(pg_name(url))
    store = quick_store(tmp_path, url, templates=folder / "templates")
    yield store
    store.close()
    if not url.startswith("sqlite"):
        drop_pg_database(url)


@pytest.fixture
def three(three_base):
    return three_base[2]


def problems_of(cf) -> list[str]:
    report = verify_store(cf)
    assert not report.ok
    assert not report.checkpoint_written  # a failing archive never moves the anchor
    return report.problems


def test_deleting_an_issued_document_with_its_rendition_and_slip(three_cf, three):
    doc = three[1]
    tamper(
        three_cf,
        f"DELETE FROM processing_slips WHERE document_id = {doc.id}",
        f"DELETE FROM renditions WHERE document_id = {doc.id}",
        f"DELETE FROM issued_document_facts WHERE document_id = {doc.id}",
        f"DELETE FROM issued_documents WHERE id = {doc.id}",
    )
    problems = problems_of(three_cf)
    assert any(doc.number in p and "被删除" in p and "审计日志" in p for p in problems), problems
    assert any(doc.number in p and "文号不连续" in p for p in problems), problems


@pytest.mark.parametrize(
    "column, value, what",
    [
        ("title", "'改过的标题'", "标题"),
        ("issued_by", "(SELECT id FROM users WHERE username = 'admin')", "发文人"),
        ("issued_at", "'2020-01-01 08:00:00'", "发文时间"),
    ],
)
def test_changing_an_issued_document(three_cf, three, column, value, what):
    doc = three[0]
    tamper(three_cf, f"UPDATE issued_documents SET {column} = {value} WHERE id = {doc.id}")
    problems = problems_of(three_cf)
    assert any(p.startswith(f"文书 {doc.number}") and what in p for p in problems), problems


def test_changing_a_review_steps_approver(three_cf, three):
    doc = three[2]
    with three_cf.db.read() as s:
        step = s.query(ReviewStep).filter_by(draft_id=doc.draft_id, decision="approve").one()
    tamper(
        three_cf,
        f"UPDATE review_steps SET user_id = (SELECT id FROM users WHERE username = 'head') "
        f"WHERE id = {step.id}",
    )
    problems = problems_of(three_cf)
    assert any(
        doc.number in p and "办理人" in p and "signatory" in p and "head" in p for p in problems
    ), problems


def test_deleting_a_review_step(three_cf, three):
    doc = three[0]
    tamper(
        three_cf,
        f"DELETE FROM review_steps WHERE draft_id = {doc.draft_id} AND decision = 'approve'",
    )
    assert any(doc.number in p and "办理" in p for p in problems_of(three_cf))


def test_deleting_the_last_entries_of_the_audit_log(three_cf, three):
    with three_cf.db.read() as s:
        last = s.query(AuditEntry).order_by(AuditEntry.seq.desc()).first().seq
    tamper(three_cf, f"DELETE FROM audit_log WHERE seq > {last - 2}")
    problems = problems_of(three_cf)
    assert any("末尾的记录被删除" in p and str(last) in p for p in problems), problems


def test_rewriting_the_head_of_the_audit_log_with_a_fresh_hash(three_cf, three):
    """The chain is not keyed: rewrite the last entry and recompute its hash, the chain still
    walks; only the checkpoint outside the database shows it."""
    from app import audit

    with three_cf.db.read() as s:
        e = s.query(AuditEntry).order_by(AuditEntry.seq.desc()).first()
        fresh = audit._entry_hash(e.seq, e.at, e.actor_id, "mallory", e.action, e.object_type,
                                  e.object_id, e.detail, e.remote_addr, e.prev_hash)  # fmt: skip
    tamper(
        three_cf,
        f"UPDATE audit_log SET actor = 'mallory', entry_hash = '{fresh}' WHERE seq = {e.seq}",
    )
    problems = problems_of(three_cf)
    assert any(f"第 {e.seq} 条与检查点" in p for p in problems), problems


def test_the_issuing_transaction_advances_the_checkpoint(quick_cf):
    """Without any verify run, issuance alone anchors the head and the numbers."""
    doc = issue_quick(quick_cf)
    cp = checkpoint.load(quick_cf.settings)
    with quick_cf.db.read() as s:
        issue_entry = s.query(AuditEntry).filter_by(action="document.issue").one()
    assert cp.head.seq == issue_entry.seq and cp.head.entry_hash == issue_entry.entry_hash
    assert cp.sequences == {(doc.unit_id, doc.number_code, doc.number_year): 1}
    tamper(quick_cf, f"DELETE FROM audit_log WHERE seq >= {issue_entry.seq}")
    assert any("末尾的记录被删除" in p for p in verify_store(quick_cf).problems)


def test_bumping_a_number_sequence(three_cf, three):
    doc = three[0]
    tamper(three_cf, "UPDATE number_sequences SET last_value = last_value + 1")
    problems = problems_of(three_cf)
    gap = doc.number.replace("1号", "4号")
    assert any(gap in p and "文号不连续" in p for p in problems), problems


def test_lowering_a_sequence_and_deleting_the_last_document(three_cf, three):
    """The database then agrees with itself; the checkpoint remembers number 3 was sent out."""
    doc = three[2]
    tamper(
        three_cf,
        f"DELETE FROM processing_slips WHERE document_id = {doc.id}",
        f"DELETE FROM issued_document_facts WHERE document_id = {doc.id}",
        f"DELETE FROM issued_documents WHERE id = {doc.id}",
        "UPDATE number_sequences SET last_value = 2",
    )
    problems = problems_of(three_cf)
    assert any("检查点记录已发出至" in p and doc.number in p for p in problems), problems


def test_changing_what_the_dashboard_counts_of_a_document(three_cf, three):
    """The facts fixed at issue (app/drafting/facts.py) are derived, so not write-once; verify
    recomputes them from the review steps and the data."""
    doc = three[1]
    tamper(three_cf, "UPDATE issued_document_facts SET advisers = advisers + 3, "
           f"lawyer_named = NOT lawyer_named WHERE document_id = {doc.id}")  # fmt: skip
    problems = problems_of(three_cf)
    for what in ("审核的法律顾问人数", "是否载明受委托律师"):
        assert any(doc.number in p and what in p for p in problems), problems


def test_a_missing_slip_blob_names_the_document(three_cf, three):
    doc = three[1]
    with three_cf.db.read() as s:
        sha = s.execute(
            text(f"SELECT docx_sha256 FROM processing_slips WHERE document_id = {doc.id}")
        ).scalar_one()
    three_cf.blobs.path(sha).unlink()
    problems = problems_of(three_cf)
    assert any(doc.number in p and "发文稿纸" in p and "缺失" in p for p in problems), problems


def test_verify_survives_a_filed_document_that_is_gone(three_cf, three):
    doc = three[0]
    with three_cf.db.write() as s:
        clerk = as_user(s, "clerk")
        case = casefiles.create_case_file(s, clerk, title="案卷", kind="other", unit_code="FZB",
                                          retention="D10", responsible="经办人")  # fmt: skip
        casefiles.add_document(s, clerk, case.id, doc.id)
    assert verify_store(three_cf).ok
    drop_fk = []
    if not three_cf.db.is_sqlite:  # the owner may drop the constraint the superuser would skip
        with three_cf.db.engine.connect() as conn:
            for name, table in conn.execute(text(
                "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE conrelid IN "
                "('case_file_items'::regclass, 'processing_slips'::regclass, "
                "'issued_document_facts'::regclass) AND contype = 'f'"
            )):  # fmt: skip
                drop_fk.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    tamper(
        three_cf, *drop_fk, f"DELETE FROM issued_documents WHERE id = {doc.id}", foreign_keys=False
    )
    problems = problems_of(three_cf)
    assert not any("无法完成" in p for p in problems), problems
    assert any(doc.number in p for p in problems), problems


def test_checkpoint_is_plain_json_with_the_head(three_cf, three):
    raw = json.loads(checkpoint.path_of(three_cf.settings).read_text("utf-8"))
    with three_cf.db.read() as s:
        head = s.query(AuditEntry).order_by(AuditEntry.seq.desc()).first()
        n = s.query(IssuedDocument).count()
    assert raw["audit"]["seq"] == head.seq and raw["audit"]["entry_hash"] == head.entry_hash
    assert raw["documents"] == n == 3
    assert [s["last"] for s in raw["sequences"]] == [3]


@pytest.mark.parametrize(
    "statement, what",
    [
        ("UPDATE matters SET status = 'closed'", "状态被改动"),
        ("UPDATE matter_events SET user_id = (SELECT id FROM users WHERE username = 'admin') "
         "WHERE kind = 'accept'", "办理人"),
        ("DELETE FROM matter_events WHERE kind = 'note'", "记录被删除"),
    ],
)  # fmt: skip
def test_changing_a_matter_or_its_events(quick_cf, statement, what):
    """A matter's state and its events against the audit log (办理记录, 状态)."""
    matter = new_matter(quick_cf)
    act(quick_cf, "head", matters.assign, matter, "lawyer")
    act(quick_cf, "lawyer", matters.accept, matter)
    act(quick_cf, "lawyer", lambda s, p, m: matters.record_progress(quick_cf, s, p, m, "已阅卷"),
        matter)  # fmt: skip
    assert verify_store(quick_cf).ok
    tamper(quick_cf, statement)
    problems = problems_of(quick_cf)
    assert any(f"法律事务 {matter}" in p and what in p for p in problems), problems


def test_a_register_number_rolled_back_is_held_against_the_checkpoint(quick_cf, run_cli):
    """规范性文件统一编号: registering advances the checkpoint; a database rolled back past a
    number already given (a restore, or rows and log tail deleted) is named by verify and by
    `numbers status`, registering is refused until `numbers confirm` raises the sequence, then
    verify passes."""
    from app.drafting import sequences
    from app.errors import WorkflowError
    from app.registers import normative

    def register(title: str):
        with quick_cf.db.write() as s:
            return normative.register_entry(s, as_user(s, "clerk"), {"title": title},
                                            unit_code="FZB", settings=quick_cf.settings)  # fmt: skip

    register("甲办法")
    assert verify_store(quick_cf).ok
    with quick_cf.db.read() as s:
        last_seq = s.query(AuditEntry).order_by(AuditEntry.seq.desc()).first().seq
    second = register("乙办法")
    key = (second.unit_id, second.number_year)
    assert checkpoint.load(quick_cf.settings).normative == {key: 2}  # registration alone
    tamper(
        quick_cf,
        f"DELETE FROM normative_documents WHERE id = {second.id}",
        f"DELETE FROM audit_log WHERE seq > {last_seq}",
        "UPDATE normative_sequences SET last_value = 1",
    )
    problems = problems_of(quick_cf)
    assert any("规范性文件统一编号序列" in p and "已编至 2 号" in p for p in problems), problems
    with pytest.raises(WorkflowError, match="暂停登记"):
        register("丙办法")
    with quick_cf.db.read() as s:
        rows, error = sequences.status(quick_cf.settings, s)
    behind = [(r.unit, r.year, r.last_value, r.checkpoint) for r in rows if r.behind]
    assert error is None and behind == [("FZB", key[1], 1, 2)], rows
    assert [r.register for r in rows if r.behind] == ["normative"]
    code, out, _ = run_cli("numbers", "status")
    line = next(x for x in out.splitlines() if x.startswith("统一编号"))
    assert code == 1 and "数据库已编到 1号  检查点 2号" in line and "暂停登记" in line, out
    with quick_cf.db.write() as s:
        raised = sequences.confirm(quick_cf.settings, s)
    assert [r["to"] for r in raised if r.get("register") == "normative"] == [2]
    assert verify_store(quick_cf).ok, verify_store(quick_cf).problems
    assert register("丙办法").number_seq == 3  # never number 2 again
