"""Two nodes on one PostgreSQL database and one blob directory, each `casefile run
--processes 2` with its own index directory and port, as docs/admin-guide.md deploys them:
a document issued through node A is found by search on node B within 2 s; node B's follower
killed mid-apply is started again and loses nothing; the outbox workers of both nodes handle
each event once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import PASSWORD, issue_letter, sample
from procutil import wait_gone
from sqlalchemy import func, select

from app.common.procs import pid_alive
from app.jobs.models import OutboxEvent
from app.renditions.models import Rendition

REPO = Path(__file__).resolve().parent.parent


def _http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """(status, parsed JSON or text) of one request."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw, kind = r.status, r.read(), r.headers.get_content_type()
    except urllib.error.HTTPError as e:
        status, raw, kind = e.code, e.read(), e.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    def __init__(self, name: str, tmp_path: Path, db_url: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CASEFILE_DATABASE_URL": db_url,
            "CASEFILE_ARCHIVE_DIR": str(tmp_path / "archive"),  # shared blobs
            "CASEFILE_INDEX_DIR": str(tmp_path / f"index-{name}"),  # each node its own
            "CASEFILE_INDEX_FOLLOW": "1",
            "CASEFILE_BACKGROUND_WORKERS": "1",  # an outbox worker on each node
            "CASEFILE_SECRET_KEY": "two-nodes-secret-" + "x" * 32,
            "CASEFILE_TEMPLATES_DIR": str(REPO / "doc_templates"),
        }
        self.log = tmp_path / f"node-{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(self.port),
             "--processes", "2", "--threads", "4"],
            cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if _http("GET", self.url + "/login")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"node on {self.url} did not come up")

    def wait_caught_up(self) -> None:
        """Until this node's follower has built its index and set its cursor."""
        cursor = Path(self.env["CASEFILE_INDEX_DIR"]) / "casefile-follow.json"
        deadline = time.monotonic() + 60
        while not cursor.exists():
            assert time.monotonic() < deadline, "the follower never caught up"
            time.sleep(0.1)

    def background_pid(self) -> int:
        """The `casefile worker --follow-index` child of this node's master process."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for pid in _children(self.proc.pid):
                if b"--follow-index" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            time.sleep(0.1)
        raise AssertionError("no background process")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        group = os.getpgid(self.proc.pid)
        pids = [self.proc.pid, *_children(self.proc.pid)]
        os.killpg(group, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.proc.wait(10)
        assert wait_gone(pids, 10) == []

    def token(self, username: str) -> dict:
        status, reply = _http("POST", self.url + "/api/v1/tokens",
                              {"username": username, "password": PASSWORD})  # fmt: skip
        assert status == 201, reply
        return {"Authorization": f"Bearer {reply['token']}"}

    def search_total(self, headers: dict, text: str) -> int:
        query = urllib.parse.urlencode({"q": text})
        status, reply = _http("GET", f"{self.url}/api/v1/search?{query}", headers=headers)
        if status == 503 and reply.get("error") == "search_index_building":
            return 0  # this node's index holds nothing yet: not found so far
        assert status == 200, reply
        return reply["total"]


def _children(pid: int) -> list[int]:
    """Children of every thread of *pid* (a process started by a thread is that thread's)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _wait_found(node: Node, headers: dict, text: str, expected: int, seconds: float) -> float:
    start = time.monotonic()
    while True:
        total = node.search_total(headers, text)
        if total == expected:
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, f"{text}: {total} found, {expected} expected"
        time.sleep(0.1)


def _issue_through_api(node: Node) -> str:
    """The commission letter's whole chain through node A's API; returns its number."""
    api = node.url + "/api/v1"
    clerk = node.token("clerk")
    status, draft = _http("POST", api + "/drafts", {"template": "commission-letter", "unit": "FZB",
                                                     "data": sample(), "submit": True}, clerk)  # fmt: skip
    assert status == 201, draft
    for who in ("head", "signatory"):
        status, reply = _http("POST", f"{api}/drafts/{draft['id']}/approve", {}, node.token(who))
        assert status == 200, reply
    status, doc = _http("POST", f"{api}/drafts/{draft['id']}/issue", {}, clerk)
    assert status == 201, doc
    return doc["number"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_nodes_share_records_and_keep_their_own_index(cf, tmp_path, db_url):
    nodes = {name: Node(name, tmp_path, db_url) for name in "AB"}
    try:
        for node in nodes.values():
            node.start()
        a, b = nodes["A"], nodes["B"]
        for node in nodes.values():
            node.wait_caught_up()
        inspector_b = b.token("inspector")

        number = _issue_through_api(a)
        assert _wait_found(b, inspector_b, number, 1, seconds=2.0) <= 2.0

        # node B's follower killed while documents are being issued: started again, it
        # catches up from its cursor and nothing is lost
        follower = b.background_pid()
        issued = []
        for i in range(6):
            if i == 2:
                os.kill(follower, signal.SIGKILL)
            issued.append(issue_letter(cf))
        assert wait_gone([follower]) == []
        restarted = b.background_pid()
        assert restarted != follower and pid_alive(restarted)
        for doc in issued:
            _wait_found(b, inspector_b, doc.number, 1, seconds=20)
            _wait_found(a, a.token("inspector"), doc.number, 1, seconds=20)

        # every event handled, each once: one rendition per document, no duplicate work
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with cf.db.read() as s:
                open_events = s.scalar(
                    select(func.count()).select_from(OutboxEvent)
                    .where(OutboxEvent.processed_at.is_(None))
                )  # fmt: skip
            if open_events == 0:
                break
            time.sleep(0.5)
        with cf.db.read() as s:
            assert open_events == 0
            errors = s.scalars(
                select(OutboxEvent.last_error).where(OutboxEvent.last_error.is_not(None))
            ).all()
            assert errors == []
            per_document = s.execute(
                select(Rendition.document_id, func.count()).group_by(Rendition.document_id)
            ).all()
            assert len(per_document) == 7 and {n for _, n in per_document} == {1}
    finally:
        for node in nodes.values():
            node.stop()
