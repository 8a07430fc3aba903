"""`casefile run` and `casefile worker`: the web service and the outbox worker.

`run` serves in one process by default (waitress, threads; the outbox worker and, on a
following node, the index follower run as threads beside it): what a county office on one
machine needs. `run --processes N` is the production shape of a node: N gunicorn worker
processes (each with its own threads and database pool, all reading the same search index,
which each query checks for a newer commit), one `casefile worker` process beside them that
drains the outbox, and on a following node one `casefile worker --follow-index --no-outbox`
that alone writes the node's index.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from app.cli.common import out
from app.common.procs import die_with_parent
from app.container import Casefile
from app.jobs.outbox import drain, pending, workers
from app.search.follow import FollowerThread


def cmd_run(cf: Casefile, args) -> int:
    # `run` is where the surfaces meet: the app factory (web and API) and the WSGI server are
    # loaded here only, so that every other command starts without them.
    if args.processes > 1:
        return _serve_processes(cf, args)
    from waitress import serve

    from app import create_app  # lazy: see above

    app = create_app(casefile=cf)
    threads = workers(cf)
    try:
        cf.search.warm()  # open the index and a searcher now, not on the first query
    except Exception as exc:  # noqa: BLE001 - the service runs without search; verify reports it
        print(f"提示：检索索引暂不可用（{exc}），后台任务将重建", flush=True)
    if cf.settings.background_workers:
        for worker in threads:  # catch up on anything left from before, then drain as work comes
            worker.start()
    follower = None
    if cf.settings.index_follow:  # multi-node: this node keeps its own index current
        follower = FollowerThread(cf)
        follower.start()
    print(f"casefile 已启动：http://{args.host}:{args.port}/ （按 Ctrl+C 停止）", flush=True)
    try:
        serve(app, host=args.host, port=args.port, threads=8, ident="casefile", _quiet=True)
    finally:
        for worker in threads:
            worker.stop()
        if follower is not None:
            follower.stop()
    return 0


def _serve_processes(cf: Casefile, args) -> int:
    """N gunicorn workers (gthread) and one background process for the outbox and the index."""
    from gunicorn.app.base import BaseApplication

    from app import create_app  # lazy: see cmd_run

    class Node(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.processes)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("timeout", 120)  # a dossier export of a large case file takes a while
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("proc_name", "casefile")
            self.cfg.set("accesslog", None)
            self.cfg.set("loglevel", "warning")

        def load(self):
            # in each worker, after the fork: its own store handle, connections and searcher
            return create_app()

    try:
        cf.search.warm()  # check the index opens before forking; each worker opens its own
    except Exception as exc:  # noqa: BLE001 - the service runs without search; verify reports it
        print(f"提示：检索索引暂不可用（{exc}），后台任务将重建", flush=True)
    cf.close()  # nothing of this process's pool or index handles may be shared by the forks
    background = None
    if cf.settings.background_workers or cf.settings.index_follow:
        background = _Background(
            outbox=cf.settings.background_workers, follow=cf.settings.index_follow
        )
    print(
        f"casefile 已启动：http://{args.host}:{args.port}/ （{args.processes} 个服务进程，"
        "按 Ctrl+C 停止）",
        flush=True,
    )
    try:
        Node().run()
    finally:
        if background is not None:
            background.stop()
    return 0


class _Background(threading.Thread):
    """The background processes beside the web processes, each started again if it dies: the
    outbox worker (`casefile worker`) and the index follower (`casefile worker --follow-index
    --no-outbox`), apart so that a follower killed mid-apply leaves no outbox claim behind (a
    killed worker's claims wait for their lease) and resumes from its cursor."""

    def __init__(self, outbox: bool, follow: bool):
        super().__init__(name="casefile-background", daemon=True)
        base = [sys.executable, "-m", "app.cli", "worker"]
        self.commands = ([base] if outbox else []) + (
            [[*base, "--follow-index", "--no-outbox"]] if follow else []
        )
        self.stopping = threading.Event()
        self.procs = [self._spawn(c) for c in self.commands]
        self.start()

    @staticmethod
    def _spawn(command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            command, env={**os.environ, "CASEFILE_PARENT_PID": str(os.getpid())}
        )

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None and not self.stopping.is_set():
                    print(f"后台任务进程已退出（{proc.returncode}），正在重新启动", flush=True)
                    self.procs[i] = self._spawn(self.commands[i])

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _log_to_stderr() -> None:
    """Long-running processes say what their background work does (a process manager keeps
    stderr): warnings from everything, progress from casefile's own loggers."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING,
            format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
        )
        for name in ("casefile", "app"):
            logging.getLogger(name).setLevel(logging.INFO)


def cmd_worker(cf: Casefile, args) -> int:
    _log_to_stderr()
    if args.once:
        total = {"done": 0, "retry": 0, "failed": 0}
        while True:
            counts = drain(cf)
            for k, v in counts.items():
                total[k] += v
            if not counts["done"]:
                break
        left = len(pending(cf))
        out(args, total | {"pending": left}, [
            f"已处理 {total['done']} 项，待重试 {total['retry']} 项，失败 {total['failed']} 项；队列中还有 {left} 项"
        ])  # fmt: skip
        return 0
    parent = int(os.environ.get("CASEFILE_PARENT_PID") or 0)
    if parent:  # started by `run --processes`: end with it, even if it is killed
        die_with_parent(parent, signal.SIGTERM)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    threads = [] if args.no_outbox else workers(cf)
    if args.follow_index and cf.settings.index_follow:
        threads.append(FollowerThread(cf))
    for thread in threads:
        thread.start()
    print("后台任务已启动（检索索引、PDF 版式文件、扫描件文字识别），按 Ctrl+C 停止", flush=True)
    try:
        while not stopping and all(t.is_alive() for t in threads):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for thread in threads:
            thread.stop()
    return 0


def register(sub, common, acting) -> None:
    p = sub.add_parser("run", parents=[common], help="启动网页服务")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=5000, help="端口（默认 5000）")
    p.add_argument(
        "--processes", type=int, default=1,
        help="网页服务进程数；大于 1 时后台任务另起一个进程",
    )  # fmt: skip
    p.add_argument("--threads", type=int, default=8, help="每个网页服务进程的线程数")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "worker",
        parents=[common],
        help="处理后台任务（检索索引、PDF 版式文件、文字识别）",
    )
    p.add_argument("--once", action="store_true", help="处理完到期的任务即退出")
    p.add_argument(
        "--follow-index", action="store_true",
        help="同时更新本机的检索索引（配合 CASEFILE_INDEX_FOLLOW=1）",
    )  # fmt: skip
    p.add_argument("--no-outbox", action="store_true", help="只更新检索索引")
    p.set_defaults(func=cmd_worker)
