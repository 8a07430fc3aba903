"""`casefile run` and `casefile worker`: the web service and the outbox worker."""

from __future__ import annotations

import time

from app.cli.common import out
from app.container import Casefile
from app.jobs.outbox import Worker, drain, pending
from app.search.follow import FollowerThread


def cmd_run(cf: Casefile, args) -> int:
    # `run` is where the surfaces meet: the app factory (web and API) and the WSGI server are
    # loaded here only, so that every other command starts without them.
    from waitress import serve

    from app import create_app  # lazy: see above

    app = create_app(casefile=cf)
    worker = Worker(cf)
    try:
        cf.search.warm()  # open the index and a searcher now, not on the first query
    except Exception as exc:  # noqa: BLE001 - the service runs without search; verify reports it
        print(f"提示：检索索引暂不可用（{exc}），后台任务将重建", flush=True)
    if cf.settings.background_workers:
        worker.start()  # catches up on anything left from before, then drains as documents issue
    follower = None
    if cf.settings.index_follow:  # multi-node: this node keeps its own index current
        follower = FollowerThread(cf)
        follower.start()
    print(f"casefile 已启动：http://{args.host}:{args.port}/ （按 Ctrl+C 停止）", flush=True)
    try:
        serve(app, host=args.host, port=args.port, threads=8, ident="casefile", _quiet=True)
    finally:
        worker.stop()
        if follower is not None:
            follower.stop()
    return 0


def cmd_worker(cf: Casefile, args) -> int:
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
    worker = Worker(cf)
    worker.start()
    print("后台任务已启动（检索索引、PDF 版式文件），按 Ctrl+C 停止", flush=True)
    try:
        while worker.is_alive():
            time.sleep(1)
    except KeyboardInterrupt:
        worker.stop()
    return 0


def register(sub, common, acting) -> None:
    p = sub.add_parser("run", parents=[common], help="start the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "worker", parents=[common], help="drain the outbox (search index, PDF renditions)"
    )
    p.add_argument("--once", action="store_true", help="process what is due, then exit")
    p.set_defaults(func=cmd_worker)
