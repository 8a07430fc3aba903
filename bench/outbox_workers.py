"""Outbox workers under kill -9 (the long form of tests/test_outbox_claim.py).

Queues N events of a probe kind, runs K worker processes draining them (app/jobs/outbox.py
drain(), the probe handler appends the event id to a log), kills a random worker with SIGKILL
every few hundred milliseconds and starts a new one, and at the end checks the log: every
event handled, and handled twice at most once per kill (the event a killed worker was in the
middle of, taken over when its lease ended). Exits 1 if not.

    .venv/bin/python bench/outbox_workers.py [--events 2000] [--workers 4] [--kills 20]
        [--lease 2] [--database-url postgresql://casefile:casefile@127.0.0.1:5432/empty_db]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from app.config import Settings  # noqa: E402
from app.container import open_casefile  # noqa: E402
from app.db import migrate  # noqa: E402
from app.jobs import outbox  # noqa: E402
from app.jobs.models import OutboxEvent  # noqa: E402

KIND = "bench-probe"


def settings(tmp: Path, url: str) -> Settings:
    return Settings(
        archive_dir=tmp / "archive", index_dir=tmp / "index", database_url=url,
        secret_key="bench" * 8, templates_dir=REPO / "doc_templates", background_workers=False,
    )  # fmt: skip


def open_count(cf) -> int:
    with cf.db.read() as s:
        query = select(func.count()).where(
            OutboxEvent.kind == KIND, OutboxEvent.processed_at.is_(None)
        )
        return s.scalar(query)


def worker(tmp: Path, url: str, log_path: str, lease: float) -> None:
    outbox.LEASE, outbox.LEASE_MARGIN = dt.timedelta(seconds=lease), dt.timedelta(0)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def handle(_cf, event):
        os.write(log, f"{event.id}\n".encode())
        time.sleep(0.002)

    outbox.HANDLERS[KIND] = handle
    cf = open_casefile(settings(tmp, url))
    while open_count(cf):
        if not sum(outbox.drain(cf, (KIND,), limit=10).values()):
            time.sleep(0.05)  # the rest is leased to others (or to a killed worker)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--lease", type=float, default=2.0, help="seconds")
    ap.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    ap.add_argument("--worker", nargs=3, metavar=("TMP", "URL", "LOG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1], args.worker[2], args.lease)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="casefile-bench-outbox-"))
    url = args.database_url or f"sqlite:///{tmp / 'archive' / 'casefile.db'}"
    cf = open_casefile(settings(tmp, url))
    migrate.upgrade(cf.db)
    with cf.db.write() as s:
        s.add_all(OutboxEvent(kind=KIND, payload={"n": i}) for i in range(args.events))
    log = tmp / "handled.log"

    def start() -> subprocess.Popen:
        cmd = [sys.executable, __file__, "--lease", str(args.lease), "--worker", str(tmp), url,
               str(log)]  # fmt: skip
        return subprocess.Popen(cmd, cwd=REPO)

    started = time.monotonic()
    procs = [start() for _ in range(args.workers)]
    kills = 0
    rng = random.Random(16)
    time.sleep(1.5)  # the workers are up and draining
    while kills < args.kills and open_count(cf):
        time.sleep(rng.uniform(0.2, 0.6))
        victim = kills % len(procs)  # round robin: the longest-running worker, mid-drain
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        kills += 1
        procs[victim] = start()
    for p in procs:
        p.wait()
    elapsed = time.monotonic() - started

    with cf.db.read() as s:
        ids = set(s.scalars(select(OutboxEvent.id).where(OutboxEvent.kind == KIND)))
    seen = collections.Counter(int(line) for line in log.read_text().split())
    missing = ids - set(seen)
    twice = sum(n - 1 for n in seen.values() if n > 1)
    engine = cf.db.engine.dialect.name
    print(f"{engine}: {len(ids)} events, {args.workers} workers, {kills} kills, "
          f"{elapsed:.1f} s: {len(missing)} never handled, {twice} handled again "
          f"(at most {kills} allowed: one in-flight event per kill)")  # fmt: skip
    cf.close()
    return 1 if missing or twice > kills or open_count_after(tmp, url) else 0


def open_count_after(tmp: Path, url: str) -> int:
    cf = open_casefile(settings(tmp, url))
    try:
        return open_count(cf)
    finally:
        cf.close()


if __name__ == "__main__":
    sys.exit(main())
