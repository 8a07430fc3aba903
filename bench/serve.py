"""Serving load: requests/s and latency of the busiest pages under concurrent clients (issue 17).

Starts `casefile run --processes P` on a fresh demo store, logs in as the inspector (who sees
every unit), and drives each page with wrk (Debian package `wrk`) at C connections for D
seconds: the home page, a document's page, a search results page, and the login form as a
floor. Prints requests/s and p50/p99 per page. wrk runs on the same machine, so its own CPU
counts against the server's: the figures are a floor for a dedicated node.

    .venv/bin/python bench/serve.py                            # PostgreSQL if reachable, else SQLite
    .venv/bin/python bench/serve.py --processes 1 --database-url sqlite:///...   # one waitress process
    .venv/bin/python bench/serve.py --connections 32 --duration 20

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
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


def login_cookie(base: str, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data=form).read()
    cookies = {c.name: c.value for c in jar}
    assert "casefile_session" in cookies, "login failed"
    return f"casefile_session={cookies['casefile_session']}"


def a_document_id(base: str, username: str) -> int:
    req = urllib.request.Request(
        base + "/api/v1/tokens",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    token = json.load(urllib.request.urlopen(req))["token"]
    req = urllib.request.Request(
        base + "/api/v1/documents", headers={"Authorization": f"Bearer {token}"}
    )
    return json.load(urllib.request.urlopen(req))["documents"][0]["id"]


def wrk(url: str, cookie: str, connections: int, duration: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
         "-H", f"Cookie: {cookie}", url],
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
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=10, help="seconds per page")
    ap.add_argument("--database-url", help="default: a new PostgreSQL database, else SQLite")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/serve.py needs wrk (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="casefile-serve-"))
    url, pg_name = (args.database_url, None) if args.database_url else fresh_database(tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CASEFILE_DATABASE_URL": url,
        "CASEFILE_ARCHIVE_DIR": str(tmp / "archive"),
        "CASEFILE_INDEX_DIR": str(tmp / "index"),
        "CASEFILE_SECRET_KEY": "bench-serve-" + "x" * 32,
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "init", "--demo"], cwd=REPO, env=env, check=True, capture_output=True)
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
        cookie = login_cookie(base, "inspector")
        doc = a_document_id(base, "inspector")
        time.sleep(3)  # let the background process finish the demo's renditions and index
        pages = {
            "home": "/",
            "document": f"/documents/{doc}",
            "search": "/search?" + urllib.parse.urlencode({"q": "法律顾问"}),
            "login form": "/login",
        }
        engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        from bench.render_pdf import cpu_model

        print(f"machine: {cpu_model()}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
        print(
            f"engine: {engine}; {args.processes} processes × {args.threads} threads; "
            f"wrk -c{args.connections}, {args.duration} s per page"
        )
        print(f"{'page':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  non-2xx")
        for name, path in pages.items():
            wrk(base + path, cookie, 4, 2)  # warm every worker process
            r = wrk(base + path, cookie, args.connections, args.duration)
            print(
                f"{name:<12} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p99']:>8.1f}  {r['non2xx']}"
                + (f"  socket errors: {r['errors']}" if r["errors"] else "")
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
