"""One demo store per test run, shared by every test that reads the demo (the browser suite,
the Chinese-only page walk, the layout check) instead of one build each.

`casefile init --demo` runs once in a child process under a file lock (xdist workers wait for
the first one), with the administrator's first password change done, the outbox drained (slips,
PDFs) and the search index built. Each user gets a copy of the folder (`copy_demo_store`), so no
test sees another's writes. CASEFILE_BROWSER_STORE=<dir> keeps the built store there across runs
while writing tests (delete it after changing the schema or the demo data).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.config import Settings
from app.container import Casefile, open_casefile

REPO = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "Casefile-demo-2026"
SECRET_KEY = "demo-store-secret-" + "x" * 32

# The index is built in one pass (`casefile reindex`): draining as a node that follows the index
# (CASEFILE_INDEX_FOLLOW=1, app/search/follow.py) acknowledges the "index" events without one
# Whoosh commit each, which took most of the time.
BUILD_SCRIPT = """
import sys
from sqlalchemy import select
from app import bootstrap
from app.config import Settings
from app.container import open_casefile
from app.identity.models import User
from app.identity.passwords import hash_password
from app.jobs.outbox import drain
from app.search.indexing import rebuild_index

cf = open_casefile(Settings.from_env())
assert cf.settings.index_follow
bootstrap.init_store(cf, demo=True)
with cf.db.write() as s:
    admin = s.scalars(select(User).where(User.username == "admin")).one()
    admin.password_hash = hash_password(sys.argv[1])
    admin.must_change_password = False
while drain(cf)["done"]:
    pass
rebuild_index(cf)
cf.close()
"""


def cli_env(store: Path) -> dict[str, str]:
    """The environment of a `casefile` child process on the store in `store`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFILE_")}
    env |= {
        "CASEFILE_ARCHIVE_DIR": str(store / "archive"),
        "CASEFILE_INDEX_DIR": str(store / "index"),
        "CASEFILE_SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(REPO),
    }
    return env


def _build(store: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, DEMO_PASSWORD],
        cwd=REPO, env=cli_env(store) | {"CASEFILE_INDEX_FOLLOW": "1"}, check=True, timeout=600,
    )  # fmt: skip


def _built(tmp_path_factory) -> Path:
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    template = shared / "demo-store"
    if os.environ.get("CASEFILE_BROWSER_STORE"):
        template = Path(os.environ["CASEFILE_BROWSER_STORE"])
        shared = template.parent
        shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "demo-store.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "ready").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir()
            _build(template)
            (template / "ready").touch()
    return template


def copy_demo_store(tmp_path_factory) -> Path:
    """A private copy of the run's demo store: a folder holding `archive` and `index`."""
    template = _built(tmp_path_factory)
    mine = tmp_path_factory.mktemp("demo-store")
    for part in ("archive", "index"):
        shutil.copytree(template / part, mine / part)
    return mine


def open_demo_store(folder: Path) -> Casefile:
    """The store in a copied folder, opened in this process (no background threads)."""
    archive = folder / "archive"
    return open_casefile(
        Settings(
            archive_dir=archive,
            index_dir=folder / "index",
            database_url=f"sqlite:///{archive / 'casefile.db'}",
            secret_key=SECRET_KEY,
            templates_dir=REPO / "doc_templates",
            background_workers=False,
        )  # fmt: skip
    )
