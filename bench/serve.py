"""Serving load: requests/s and latency of the busiest pages under concurrent clients (issue 17).

Starts `casefile run --processes P` on a fresh demo store (or on a store given with
--database-url/--archive-dir/--index-dir), logs in as the inspector (who sees every unit), and
drives each page at C connections for D seconds: the home page, a document's page, a search
results page, and the login form as a floor. The load comes from wrk (Debian package `wrk`)
when it is installed, else from a bounded Python load generator (threads with keep-alive
connections; its own CPU then weighs more on the server's). Both run on the same machine, so
the figures are a floor for a dedicated node.

Besides requests/s and p50/p99, it prints what each request cost in CPU: the server's
processes and the PostgreSQL backends of its database (read from /proc), and the CPU-bound
ceiling that implies on this many idle cores — the figure that matters on a machine shared
with other work (the load average is printed with every figure).

    .venv/bin/python bench/serve.py                            # PostgreSQL if reachable, else SQLite
    .venv/bin/python bench/serve.py --processes 1 --database-url sqlite:///...   # one waitress process
    .venv/bin/python bench/serve.py --connections 32 --duration 20 --pages home search

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Casefile-demo-2026"
PG_ADMIN = os.environ.get(
    "CASEFILE_TEST_PG_URL", "postgresql://casefile:casefile@127.0.0.1:5432/postgres"
)
MAX_CONNECTIONS = 256  # the Python generator's bound (one thread each)
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(tmp: Path) -> tuple[str, str | None]:
    """(URL, PostgreSQL database name to drop) — PostgreSQL when reachable, else SQLite."""
    try:
        import psycopg

        name = f"cf_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
        return f"postgresql+psycopg://{base}/{name}", name
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the embedded default
        return f"sqlite:///{tmp / 'archive' / 'casefile.db'}", None


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def login_cookie(base: str, username: str, password: str = PASSWORD) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data=form).read()
    cookies = {c.name: c.value for c in jar}
    assert "casefile_session" in cookies, "login failed"
    return f"casefile_session={cookies['casefile_session']}"


def a_document_id(base: str, username: str, password: str = PASSWORD) -> int:
    req = urllib.request.Request(
        base + "/api/v1/tokens",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    token = json.load(urllib.request.urlopen(req))["token"]
    req = urllib.request.Request(
        base + "/api/v1/documents", headers={"Authorization": f"Bearer {token}"}
    )
    return json.load(urllib.request.urlopen(req))["documents"][0]["id"]


# ----------------------------------------------------------------------------- load


def wrk(url: str, cookie: str, connections: int, duration: float) -> dict:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
         "--timeout", "10s", "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return {
        "rps": rps, "p50": pct("50"), "p99": pct("99"),
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }  # fmt: skip


def python_load(url: str, cookie: str, connections: int, duration: float) -> dict:
    """wrk's figures from threads with keep-alive connections: bounded in connections (at
    most MAX_CONNECTIONS) and in time (duration, then each thread's request in flight)."""
    connections = max(1, min(connections, MAX_CONNECTIONS))
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    bad = [0] * connections
    errors = [0] * connections
    deadline = time.monotonic() + duration

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                conn.request("GET", target, headers={"Cookie": cookie})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                errors[k] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            latencies[k].append((time.perf_counter() - t) * 1000)
            if resp.status >= 400:
                bad[k] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 15)
    wall = time.monotonic() - t0
    flat = sorted(x for per in latencies for x in per)

    def pct(p: float) -> float:
        return flat[min(len(flat) - 1, int(p / 100 * len(flat)))] if flat else float("nan")

    return {
        "rps": len(flat) / wall, "p50": pct(50), "p99": pct(99), "requests": len(flat),
        "non2xx": sum(bad), "errors": f"{sum(errors)} failed" if sum(errors) else "",
    }  # fmt: skip


# ----------------------------------------------------------------------------- CPU accounting


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def process_tree(root: int) -> list[int]:
    """The pid and every descendant (the gunicorn workers, the background processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, ()))
    return out


def pg_backends(db_name: str | None) -> list[int]:
    if not db_name:
        return []
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,)
        ).fetchall()
    return [r[0] for r in rows]


class CpuMeter:
    """CPU seconds of the server's processes and of its database's PostgreSQL backends
    (readable from /proc when PostgreSQL runs on this machine, as root or as its user)."""

    def __init__(self, server_pid: int, db_name: str | None):
        self.server_pid, self.db_name = server_pid, db_name

    def snapshot(self) -> dict:
        app = process_tree(self.server_pid)
        pg = pg_backends(self.db_name)
        return {"app": {p: _ticks(p) for p in app}, "pg": {p: _ticks(p) for p in pg},
                "self": os.times(), "at": time.monotonic()}  # fmt: skip

    @staticmethod
    def spent(before: dict, after: dict) -> dict:
        def delta(kind: str) -> float:
            return sum(t - before[kind].get(p, 0) for p, t in after[kind].items()) / TICK

        b, a = before["self"], after["self"]
        load = (
            a.user
            - b.user
            + a.system
            - b.system  # the Python generator's threads
            + a.children_user
            - b.children_user
            + a.children_system
            - b.children_system
        )  # wrk
        return {"app": delta("app"), "pg": delta("pg"), "load": load}  # fmt: skip


# ----------------------------------------------------------------------------- main


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=float, default=10, help="seconds per page")
    ap.add_argument("--pages", nargs="+", default=["home", "document", "search", "login"],
                    choices=["home", "document", "search", "login"])  # fmt: skip
    ap.add_argument("--load", choices=["auto", "wrk", "python"], default="auto",
                    help="load generator: wrk if installed (auto), else Python")  # fmt: skip
    ap.add_argument("--user", default="inspector")
    ap.add_argument("--password", default=PASSWORD)
    ap.add_argument("--database-url", help="default: a new PostgreSQL database, else SQLite")
    ap.add_argument("--archive-dir", help="with --database-url: serve that store as it is")
    ap.add_argument("--index-dir")
    ap.add_argument("--no-background", action="store_true",
                    help="no outbox worker (renditions, index), before or beside the server")  # fmt: skip
    args = ap.parse_args(argv)
    load = args.load
    if load == "auto":
        load = "wrk" if shutil.which("wrk") else "python"
    if load == "wrk" and shutil.which("wrk") is None:
        sys.exit("--load wrk: wrk is not installed (apt-get install wrk)")
    drive = wrk if load == "wrk" else python_load

    tmp = Path(tempfile.mkdtemp(prefix="casefile-serve-"))
    url, pg_name = (args.database_url, None) if args.database_url else fresh_database(tmp)
    if args.database_url and url.startswith("postgresql"):
        pg_name = None  # a database we did not create is never dropped
        db_name = url.rsplit("/", 1)[1].split("?")[0]
    else:
        db_name = pg_name
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CASEFILE_DATABASE_URL": url,
        "CASEFILE_ARCHIVE_DIR": args.archive_dir or str(tmp / "archive"),
        "CASEFILE_INDEX_DIR": args.index_dir or str(tmp / "index"),
        "CASEFILE_SECRET_KEY": "bench-serve-" + "x" * 32,
        "PYTHONPATH": str(REPO),
    }
    if args.no_background:
        env["CASEFILE_BACKGROUND_WORKERS"] = "0"
    cli = [sys.executable, "-m", "app.cli"]
    if not args.archive_dir:
        subprocess.run([*cli, "init", "--demo"], cwd=REPO, env=env, check=True, capture_output=True)
    if not args.no_background:  # the demo's renditions and index, done before measuring
        subprocess.run([*cli, "worker", "--once"], cwd=REPO, env=env, check=True,
                       capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [*cli, "run", "--port", str(port), "--processes", str(args.processes),
         "--threads", str(args.threads)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the server did not start")
                time.sleep(0.3)
        cookie = login_cookie(base, args.user, args.password)
        doc = a_document_id(base, args.user, args.password)
        paths = {
            "home": "/",
            "document": f"/documents/{doc}",
            "search": "/search?" + urllib.parse.urlencode({"q": "法律顾问"}),
            "login": "/login",
        }
        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        cores = os.cpu_count() or 1
        meter = CpuMeter(server.pid, db_name if engine == "PostgreSQL" else None)
        from bench.render_pdf import cpu_model

        print(f"machine: {cpu_model()}, {cores} cores; {time.strftime('%Y-%m-%d %H:%M')}")
        print(
            f"engine: {engine}; {args.processes} processes × {args.threads} threads; "
            f"{load} -c{args.connections}, {args.duration:g} s per page; user {args.user}"
        )
        print(f"{'page':<10} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}  "
              f"{'CPU ms/request: app':>20} {'PostgreSQL':>10} {'load gen':>8}  "
              f"{'ceiling req/s':>13}  load avg")  # fmt: skip
        for name in args.pages:
            target = base + paths[name]
            if args.duration >= 2:
                drive(target, cookie, 4, 2)  # warm every worker process
            before = meter.snapshot()
            r = drive(target, cookie, args.connections, args.duration)
            spent = CpuMeter.spent(before, meter.snapshot())
            n = max(1, r["requests"])
            app, pg, gen = (spent[k] / n * 1000 for k in ("app", "pg", "load"))
            ceiling = cores * 1000 / (app + pg) if app + pg else float("nan")
            print(
                f"{name:<10} {r['rps']:>7.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['non2xx']:>7}  "
                f"{app:>20.2f} {pg:>10.2f} {gen:>8.2f}  {ceiling:>13.0f}  "
                f"{os.getloadavg()[0]:.2f}" + (f"  errors: {r['errors']}" if r["errors"] else "")
            )
        print(
            "(ceiling: requests/s if app and PostgreSQL had every core to themselves, "
            f"= {cores} × 1000 / (app + PostgreSQL CPU ms per request))"
        )
    finally:
        os.killpg(os.getpgid(server.pid), signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(server.pid), signal.SIGKILL)
        if pg_name:
            drop_database(pg_name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
