"""Fixtures: real stores on SQLite and on a real PostgreSQL server, and small factories.

Every test that takes `cf` runs twice, once per engine. PostgreSQL comes from
CASEFILE_TEST_PG_URL (default: the `casefile` role that scripts/ensure-postgres.sh creates);
each test gets a fresh database cloned from a migrated template, so tests never share rows.
Set CASEFILE_TEST_SKIP_PG=1 to run the SQLite half only (`make test` never does).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from argon2 import PasswordHasher
from demostore import copy_demo_store
from docx import Document
from sqlalchemy import select

from app.access.policy import principal
from app.config import Settings
from app.container import Casefile, open_casefile
from app.db import Database, migrate
from app.identity import passwords
from app.identity.models import User
from app.identity.users import add_unit, add_user

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "CASEFILE_TEST_PG_URL", "postgresql://casefile:casefile@127.0.0.1:5432/postgres"
)
PASSWORD = "Test-password-1"
# Real argon2id, at the lowest cost: tests create many users and must stay fast.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

ENGINES = ["sqlite"] if os.environ.get("CASEFILE_TEST_SKIP_PG") == "1" else ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config, items):
    """Modules marked `engine_neutral` run on SQLite only: what they test (forms, pages, template
    checks, rendering, file inspection) sits above the database, and the services underneath run
    on both engines in their own tests. Their PostgreSQL cases are deselected, not skipped."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.get_closest_marker("engine_neutral") and params.get("db_url") == "postgresql":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def examples(store: Casefile, sqlite: int, postgresql: int) -> int:
    """How many random examples a property test draws on this store's engine. The rules under
    test are the same on both; PostgreSQL's share (locks, triggers, sequences) needs fewer walks,
    and each costs several times more there."""
    return sqlite if store.settings.database_url.startswith("sqlite") else postgresql


def _pg_conninfo(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


# Test databases commit without waiting for the WAL flush: a commit is visible to every other
# session at once all the same, and the suite kills casefile's processes, never PostgreSQL.
FAST_COMMIT = "?options=-c%20synchronous_commit%3Doff"


def _sa_url(conninfo: str) -> str:
    return "postgresql+psycopg://" + conninfo.split("://", 1)[1] + FAST_COMMIT


@pytest.fixture(scope="session")
def pg_template():
    """A migrated PostgreSQL database to clone per test (CREATE DATABASE ... TEMPLATE)."""
    if "postgresql" not in ENGINES:
        pytest.fail("PostgreSQL requested but CASEFILE_TEST_SKIP_PG=1")
    name = f"cf_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); run `make test` "
            "(scripts/ensure-postgres.sh) or set CASEFILE_TEST_SKIP_PG=1 for SQLite only"
        )
    admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(_sa_url(_pg_conninfo(name)))
    migrate.upgrade(db)
    db.dispose()
    yield name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "casefile.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def demo_copy(tmp_path_factory) -> Path:
    """A private copy of the run's one demo store (SQLite; tests/demostore.py): a folder with
    `archive` (database and blobs, outbox drained) and `index` (search index built)."""
    return copy_demo_store(tmp_path_factory)


def demo_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'archive' / 'casefile.db'}"


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    """A fresh, migrated, empty database on each engine."""
    if request.param == "sqlite":
        target = tmp_path / "archive" / "casefile.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = new_pg_database(request.getfixturevalue("pg_template"))
    yield url
    drop_pg_database(url)


def new_pg_database(template: str) -> str:
    """A new PostgreSQL database cloned from `template` (a database name); its URL."""
    name = f"cf_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _sa_url(_pg_conninfo(name))


def pg_name(url: str) -> str:
    """The database name in a test database URL."""
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def drop_pg_database(url: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{pg_name(url)}" WITH (FORCE)')


def make_settings(tmp_path: Path, db_url: str, templates_dir: Path | None = None) -> Settings:
    return Settings(
        archive_dir=tmp_path / "archive",
        index_dir=tmp_path / "index",
        database_url=db_url,
        secret_key="test-secret-key-" + "x" * 32,
        templates_dir=templates_dir or REPO / "doc_templates",
        background_workers=False,
    )


@pytest.fixture
def cf(tmp_path, db_url) -> Casefile:
    """A store with the shipped templates synced and a standard cast of units and users."""
    store = populated_store(tmp_path, db_url)
    yield store
    store.close()


@pytest.fixture
def app(cf):
    """The web app over the `cf` store, in testing mode."""
    from app import create_app

    return create_app({"TESTING": True}, casefile=cf)


def populated_store(tmp_path, db_url, **settings) -> Casefile:
    """A new store with its templates synced and the standard cast (see populate)."""
    store = open_casefile(make_settings(tmp_path, db_url, **settings))
    with store.db.write() as s:
        store.catalog.sync(s)
    populate(store)
    return store


def populate(store: Casefile) -> None:
    """Two units under a government, and one user per role in the legal office."""
    with store.db.write() as s:
        add_unit(s, "GOV", "武阳市人民政府", None, "武政")
        add_unit(s, "FZB", "武阳市人民政府法律顾问室", "GOV", "武政法")
        add_unit(s, "ZRJ", "武阳市自然资源局", "GOV", "武自然资")
        for username, unit, roles in [
            ("clerk", "FZB", ["clerk"]),
            ("clerk2", "FZB", ["clerk"]),
            ("adviser", "FZB", ["adviser"]),
            ("lawyer", "FZB", ["public-lawyer"]),
            ("head", "FZB", ["office-head"]),
            ("head2", "FZB", ["office-head"]),
            ("signatory", "FZB", ["signatory"]),
            ("inspector", "GOV", ["inspector"]),
            ("admin", "GOV", ["admin"]),
            ("zr-clerk", "ZRJ", ["clerk"]),
            ("zr-head", "ZRJ", ["office-head"]),
        ]:
            # the public lawyer bears the commission-letter sample's name (a `user` reference)
            name = "张明远" if username == "lawyer" else username
            add_user(s, username, name, unit, roles, password=PASSWORD, must_change=False)


@pytest.fixture
def run_cli(tmp_path, db_url, monkeypatch, capsys):
    """`casefile ...` in this process on the test's store (its tmp_path and database):
    returns (exit code, stdout, stderr)."""
    from app.cli import main

    monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.setenv("CASEFILE_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("CASEFILE_DATABASE_URL", db_url)

    def run(*args):
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


def as_user(session, username: str):
    user = session.scalars(select(User).where(User.username == username)).one()
    return principal(session, user)


def issue_letter(cf, data=None, restricted_to=()):
    """Issue a commission letter (sample data) through its chain: head, then signatory;
    optionally restricted (知悉范围) to the named users first."""
    from app.drafting import drafts
    from app.drafting.restrictions import restrict

    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", data or sample(), "FZB")
        if restricted_to:
            restrict(s, clerk, d.id, list(restricted_to))
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "head"), d.id)
        drafts.approve(cf, s, as_user(s, "signatory"), d.id)
        return drafts.issue(cf, s, clerk, d.id)


def reopen_audit_log(conn, cf) -> None:
    """Lift the audit log's write-once trigger on *conn* (tests that tamper with it)."""
    from sqlalchemy import text

    if cf.db.is_sqlite:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
    else:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_write_once"))


def issue_quick(cf, subject: str = "事项"):
    """Issue one document of the `quick` template through its one-step chain."""
    from app.drafting import drafts

    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "quick", {"subject": subject}, "FZB")
        drafts.submit(cf, s, clerk, d.id)
        drafts.approve(cf, s, as_user(s, "signatory"), d.id)
        return drafts.issue(cf, s, clerk, d.id)


def sample(template_id: str = "commission-letter") -> dict:
    import json

    return json.loads((REPO / "doc_templates" / template_id / "sample.json").read_text("utf-8"))


def write_template(folder: Path, template_id: str, body_lines: list[str], fields: list[dict],
                   chain: list[dict] | None = None, suffix: str = "测") -> Path:  # fmt: skip
    """A tiny real template (python-docx) for tests that need speed or special content."""
    target = folder / template_id
    target.mkdir(parents=True, exist_ok=True)
    doc = Document()
    for line in body_lines:
        doc.add_paragraph(line)
    doc.save(target / "template.docx")
    schema = {
        "id": template_id,
        "title": "测试文书",
        "numbering": {"suffix": suffix},
        "document_title": "测试{{ subject }}",
        "review_chain": chain or [{"name": "sign-off", "label": "领导签发", "role": "signatory"}],
        "fields": fields,
    }
    (target / "schema.yaml").write_text(yaml.safe_dump(schema, allow_unicode=True), "utf-8")
    return folder


def quick_store(folder: Path, db_url: str, templates: Path | None = None) -> Casefile:
    """A store in `folder` with a one-field test template and a one-step chain: fast issuance."""
    if templates is None:
        templates = write_template(
            folder / "templates", "quick", ["{{ doc_number }}", "{{ subject }}", "{{ issue_date }}"],
            [{"name": "subject", "label": "事由", "type": "text", "required": True}],
        )  # fmt: skip
        return populated_store(folder, db_url, templates_dir=templates)
    return open_casefile(make_settings(folder, db_url, templates_dir=templates))


@pytest.fixture
def quick_cf(tmp_path, db_url) -> Casefile:
    """A store with a one-field test template and a one-step chain: fast issuance."""
    store = quick_store(tmp_path, db_url)
    yield store
    store.close()
