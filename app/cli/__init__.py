"""`casefile` command line. Every command takes --json; `--as USER` acts under the web's rules.

Exit codes: 0 success, 1 verification found problems, 2 bad input or a refused action.
Commands run without --as act as the server operator (who owns the files anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from app import bootstrap
from app.access.policy import Principal, can, principal, search_scope
from app.config import ConfigError, Settings
from app.container import Casefile, open_casefile
from app.drafting import documents, drafts
from app.drafting.models import Draft, IssuedDocument
from app.errors import NotFound, WorkflowError
from app.identity import users as user_admin
from app.identity.models import ROLE_LABELS, ROLES, Unit, User
from app.presenters.documents import document_payload
from app.presenters.drafts import draft_payload, step_payload


class CliError(Exception):
    def __init__(self, message: str, errors: list[dict] | None = None, code: int = 2):
        super().__init__(message)
        self.message, self.errors, self.code = message, errors or [], code


def _out(args, payload: dict, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        for line in lines:
            print(line)


def _acting(session, username: str | None) -> Principal | None:
    if username is None:
        return None
    try:
        user = user_admin.user_by_name(session, username)
    except NotFound as exc:
        raise CliError(f"--as：{exc.message}") from exc
    if not user.active:
        raise CliError(f"--as：用户“{username}”已停用")
    return principal(session, user)


def _need_as(session, args) -> Principal:
    p = _acting(session, getattr(args, "as_user", None))
    if p is None:
        raise CliError("此命令需要 --as USER 指明以哪位用户的身份办理")
    return p


def _read_data(path: str) -> object:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"无法读取数据文件 {path}：{exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"数据文件 {path} 不是 UTF-8 编码") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"数据文件 {path} 不是有效的 JSON：第{exc.lineno}行第{exc.colno}列 {exc.msg}"
        ) from exc


# ---- commands -------------------------------------------------------------------------------


def cmd_init(cf: Casefile, args) -> int:
    result = bootstrap.init_store(cf, demo=args.demo)
    payload = {
        "created": result.created,
        "admin": {"username": result.admin_username, "password": result.admin_password}
        if result.created
        else None,
        "templates": [f"{t}@{v}" for t, v in result.templates],
        "demo_users": [u for u, _, _ in result.demo_users],
        "demo_password": bootstrap.DEMO_PASSWORD if result.demo_users else None,
        "demo_documents": result.demo_documents,
        "database": cf.settings.database_url,
    }
    lines = []
    if not result.created:
        lines.append(f"档案库已存在，未做改动（{cf.settings.database_url}）。")
        if result.templates:
            lines.append("已登记新的模板版本：" + "、".join(payload["templates"]))
    else:
        lines += [
            f"已创建档案库：{cf.settings.database_url}",
            f"管理员账户：{result.admin_username}  初始密码：{result.admin_password}",
            "（密码只显示这一次，首次登录后须修改。）",
        ]
        if result.demo_users:
            lines.append(f"演示账户（密码均为 {bootstrap.DEMO_PASSWORD}）：")
            for username, name, roles in result.demo_users:
                lines.append(
                    f"  {username:<14} {name}（{'、'.join(ROLE_LABELS[r] for r in roles)}）"
                )
            if result.demo_documents:
                lines.append("演示文书：" + "、".join(result.demo_documents))
    _out(args, payload, lines)
    return 0


def cmd_unit_add(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        unit = user_admin.add_unit(session, args.code, args.name, args.parent, args.doc_code)
        payload = {"id": unit.id, "code": unit.code, "name": unit.name, "doc_code": unit.doc_code}
    _out(args, payload, [f"已添加单位 {args.code}（{args.name}）"])
    return 0


def cmd_unit_list(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        units = list(session.scalars(select(Unit).order_by(Unit.code)))
        by_id = {u.id: u.code for u in units}
        rows = [
            {
                "code": u.code,
                "name": u.name,
                "parent": by_id.get(u.parent_id),
                "doc_code": u.doc_code,
            }
            for u in units
        ]
    _out(args, {"units": rows}, [
        f"{r['code']:<12} {r['name']}  上级：{r['parent'] or '—'}  代字：{r['doc_code'] or '—'}" for r in rows
    ])  # fmt: skip
    return 0


def cmd_user_add(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        user, password = user_admin.add_user(
            session, args.username, args.name, args.unit, args.role
        )
        payload = {
            "id": user.id,
            "username": user.username,
            "password": password,
            "roles": args.role,
        }
    _out(args, payload, [
        f"已添加用户 {args.username}（{args.name}），角色：{'、'.join(ROLE_LABELS[r] for r in args.role)}",
        f"初始密码：{password}（只显示这一次，首次登录后须修改）",
    ])  # fmt: skip
    return 0


def cmd_user_list(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        rows = []
        codes = {u.id: u.code for u in session.scalars(select(Unit))}
        for u in session.scalars(select(User).order_by(User.username)):
            rows.append({
                "username": u.username, "name": u.name, "unit": codes[u.unit_id], "active": u.active,
                "roles": sorted({f"{g.role}@{codes[g.unit_id]}" for g in u.grants}),
            })  # fmt: skip
    _out(args, {"users": rows}, [
        f"{r['username']:<14} {r['name']:<8} {r['unit']:<10} {' '.join(r['roles'])}"
        + ("" if r["active"] else "  （已停用）") for r in rows
    ])  # fmt: skip
    return 0


def cmd_user_grant(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        user_admin.grant_role(session, args.username, args.role, args.unit)
    _out(
        args,
        {"ok": True},
        [f"已授予 {args.username} 在 {args.unit} 的角色 {ROLE_LABELS[args.role]}"],
    )
    return 0


def cmd_user_disable(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        user_admin.set_active(session, args.username, args.command == "enable")
    _out(
        args,
        {"ok": True},
        [f"已{'启用' if args.command == 'enable' else '停用'}用户 {args.username}"],
    )
    return 0


def cmd_user_token(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        token = user_admin.create_token(
            session, user_admin.user_by_name(session, args.username), args.label or "cli"
        )
    _out(args, {"token": token}, [f"API 令牌（只显示这一次）：{token}"])
    return 0


def cmd_templates_list(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        rows = []
        for row in cf.catalog.latest_versions(session):
            tpl = cf.catalog.load(row)
            rows.append({
                "id": row.template_id, "version": row.version, "title": row.title,
                "sha256": row.docx_sha256,
                "review_chain": [s.label for s in tpl.schema.review_chain],
                "fields": [f.name for f in tpl.schema.fields],
            })  # fmt: skip
    _out(args, {"templates": rows}, [
        f"{r['id']:<26} 第{r['version']}版  {r['title']}  审核：{' → '.join(r['review_chain'])}" for r in rows
    ])  # fmt: skip
    return 0


def cmd_templates_check(cf: Casefile, args) -> int:
    """`templates check` reports; `templates add` also records a new version when it passes."""
    from app import audit
    from app.templating.inspect import inspect_template

    def read(path):
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CliError(f"无法读取 {path}：{exc.strerror}") from exc

    sample = _read_data(args.sample) if args.sample else None
    report = inspect_template(args.template_id, read(args.docx), read(args.schema), sample)
    payload = report.as_dict()
    lines = [f"模板检查{'通过' if report.ok else '未通过'}：{args.template_id}"]
    lines += [f"  ✗ {p}" for p in report.problems] + [f"  ! {w}" for w in report.warnings]
    lines.append("  占位符：" + "、".join(report.placeholders))
    if report.ok and args.command == "add":
        with cf.db.write() as session:
            row = cf.catalog.add_version(
                session, args.template_id, read(args.docx), read(args.schema), None
            )
            audit.record(session, "template.upload", object_type="template", object_id=args.template_id,
                         detail={"version": row.version, "sha256": row.docx_sha256, "via": "cli"})  # fmt: skip
            payload["version"] = row.version
        lines.append(f"已登记为第{payload['version']}版，可立即使用")
    _out(args, payload, lines)
    return 0 if report.ok else 2


def _step_lines(steps: list[dict]) -> list[str]:
    out = []
    for s in steps:
        role = drafts.STEP_ROLE_LABELS.get(s["role"], s["role"])
        out.append(
            f"  {s['at']}  {drafts.DECISION_LABELS[s['decision']]:<4} {s['name']}（{role}）"
            f"  sha256 {s['version_sha256']}" + (f"  意见：{s['comment']}" if s["comment"] else "")
        )
    return out


def cmd_draft_new(cf: Casefile, args) -> int:
    data = _read_data(args.data)
    with cf.db.write() as session:
        p = _need_as(session, args)
        draft = drafts.create_draft(
            cf, session, p, args.template, data, args.unit, co_sign_units=args.co_sign or ()
        )
        if args.submit:
            drafts.submit(cf, session, p, draft.id)
        payload = draft_payload(cf, session, draft)
    _out(args, payload, [str(payload["id"])] if not args.verbose else [
        f"草稿 {payload['id']}：{payload['title']}（{payload['status_label']}，sha256 {payload['sha256']}）"
    ])  # fmt: skip
    return 0


def cmd_draft_edit(cf: Casefile, args) -> int:
    data = _read_data(args.data)
    with cf.db.write() as session:
        version = drafts.edit_draft(
            cf, session, _need_as(session, args), args.draft, data, co_sign_units=args.co_sign
        )
        payload = {"draft": args.draft, "version": version.number, "sha256": version.docx_sha256}
    _out(
        args,
        payload,
        [
            f"草稿 {args.draft} 已保存为第{version.number}版（sha256 {version.docx_sha256}），需重新提交审核"
        ],
    )
    return 0


def _decision(action: Callable, verb: str) -> Callable:
    def run(cf: Casefile, args) -> int:
        with cf.db.write() as session:
            p = _need_as(session, args)
            extra = {}
            if getattr(args, "opinion_file", None):
                from app.drafting.opinions import OpinionFile

                path = Path(args.opinion_file)
                extra["opinion"] = OpinionFile(path.name, path.read_bytes())
            step = action(cf, session, p, args.draft, args.comment or "", **extra)
            draft = session.get(Draft, args.draft)
            payload = draft_payload(cf, session, draft) | {"step": step_payload(step)}
        lines = [f"草稿 {args.draft} 已{verb}；当前状态：{payload['status_label']}"]
        if payload["pending_step"]:
            lines.append(f"下一环节：{payload['pending_step']}")
        _out(args, payload, lines)
        return 0

    return run


def cmd_draft_issue(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        doc = drafts.issue(cf, session, _need_as(session, args), args.draft)
        payload = {"document_id": doc.id, "number": doc.number, "sha256": doc.docx_sha256,
                   "approved_sha256": doc.approved_sha256, "issue_date": doc.issue_date.isoformat()}  # fmt: skip
    _out(
        args,
        payload,
        [
            f"已发文：{doc.number}",
            f"sha256 {doc.docx_sha256}",
            f"文书编号（document id）：{doc.id}",
        ],
    )
    return 0


def cmd_draft_show(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        draft = session.get(Draft, args.draft)
        p = _acting(session, args.as_user)
        if draft is None or (p is not None and not can(session, p, "draft.read", draft)):
            raise CliError(f"草稿 {args.draft} 不存在或您无权查看")
        payload = draft_payload(cf, session, draft)
    _out(args, payload, [
        f"草稿 {payload['id']}：{payload['title']}", f"模板 {payload['template']}  单位 {payload['unit']}",
        f"状态：{payload['status_label']}  第{payload['version']}版  sha256 {payload['sha256']}",
        *(["待办环节：" + payload["pending_step"]] if payload["pending_step"] else []),
        "办理记录：", *_step_lines(payload["steps"]),
    ])  # fmt: skip
    return 0


def cmd_draft_queue(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        p = _need_as(session, args)
        q = drafts.queue(session, p, cf)
        payload = {k: [draft_payload(cf, session, d) for d in v] for k, v in q.items()}
    labels = {
        "waiting": "待我审核",
        "ready": "待发文",
        "mine": "我起草的",
        "unit_pending": "本单位在办",
    }
    lines = []
    for key, label in labels.items():
        lines.append(f"{label}（{len(payload[key])}）")
        lines += [f"  {d['id']:>5}  {d['title']}  [{d['status_label']}]" for d in payload[key]]
    _out(args, payload, lines)
    return 0


def cmd_document_show(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        p = _acting(session, args.as_user)
        if p is None:
            doc = session.get(IssuedDocument, args.id)
            if doc is None:
                raise CliError(f"文书 {args.id} 不存在")
        else:
            doc = documents.open_document(session, p, args.id, via="cli")
        payload = document_payload(cf, session, doc)
    _out(args, payload, [
        f"{payload['number']}  {payload['title']}",
        f"单位：{payload['unit_name']}  成文日期：{payload['issue_date']}  发文人：{payload['issued_by']}",
        f"模板：{payload['template']} 第{payload['template_version']}版",
        f"发文稿 sha256：{payload['sha256']}", f"审核稿 sha256：{payload['approved_sha256']}",
        f"发文稿纸 sha256：{payload['slip_sha256'] or '—'}",
        "办理记录：", *_step_lines(payload["steps"]),
    ])  # fmt: skip
    return 0


def cmd_verify(cf: Casefile, args) -> int:
    from app.integrity.verify import verify_store

    report = verify_store(cf)
    payload = {"ok": report.ok, "documents": report.checked_documents, "blobs": report.checked_blobs,
               "problems": report.problems, "warnings": report.warnings}  # fmt: skip
    if report.ok:
        lines = [
            f"校验通过：{report.checked_documents} 份文书、{report.checked_blobs} 个文件、审计日志完整。"
        ]
    else:
        lines = [
            f"校验发现 {len(report.problems)} 个问题：",
            *[f"  - {p}" for p in report.problems],
        ]
    if report.warnings:
        lines += ["提示（检索索引等可重建的派生数据）：", *[f"  - {w}" for w in report.warnings]]
    _out(args, payload, lines)
    return 0 if report.ok else 1


def cmd_run(cf: Casefile, args) -> int:
    from app import create_app
    from app.jobs.outbox import Worker

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
        from app.search.follow import FollowerThread

        follower = FollowerThread(cf)
        follower.start()
    print(f"casefile 已启动：http://{args.host}:{args.port}/ （按 Ctrl+C 停止）", flush=True)
    from waitress import serve

    try:
        serve(app, host=args.host, port=args.port, threads=8, ident="casefile", _quiet=True)
    finally:
        worker.stop()
        if follower is not None:
            follower.stop()
    return 0


def cmd_worker(cf: Casefile, args) -> int:
    import time

    from app.jobs.outbox import Worker, drain, pending

    if args.once:
        total = {"done": 0, "retry": 0, "failed": 0}
        while True:
            counts = drain(cf)
            for k, v in counts.items():
                total[k] += v
            if not counts["done"]:
                break
        left = len(pending(cf))
        _out(args, total | {"pending": left}, [
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


def cmd_search(cf: Casefile, args) -> int:
    from app import audit
    from app.search import QuerySyntaxError, SearchQuery, SearchScope, SearchUnavailable

    with cf.db.write() as session:
        p = _acting(session, args.as_user)
        scope = search_scope(session, p) if p else SearchScope.everything()
        query = SearchQuery(
            text=args.query, doc_types=frozenset(args.type or ()), units=frozenset(args.unit or ()),
            page=args.page, per_page=args.per_page, sort=args.sort,
        )  # fmt: skip
        try:
            results = cf.search.search(query, scope)
        except QuerySyntaxError as exc:
            raise CliError(f"检索式有误：{exc}") from exc
        except SearchUnavailable as exc:
            raise CliError(f"检索索引暂不可用：{exc}；可运行 casefile reindex 重建") from exc
        if p is not None and p.has("inspector"):
            audit.record(session, "search", actor=p.user, detail={"query": args.query, "type": args.type,
                         "unit": args.unit, "results": results.total, "via": "cli"})  # fmt: skip
    import re

    def plain(html: str) -> str:
        import html as h

        return h.unescape(re.sub(r"<mark>(.*?)</mark>", r"【\1】", html))

    from app.search.indexing import attachment_locations, parse_doc_id
    from app.web.search import TYPE_LABELS

    parsed = {h.doc_id: parse_doc_id(h.doc_id) or ("", 0) for h in results.hits}
    with cf.db.read() as session:
        p = _acting(session, args.as_user)
        places = attachment_locations(
            session, p, [rid for kind, rid in parsed.values() if kind == "attachment"]
        )

    def hit(h) -> dict:
        kind, rid = parsed[h.doc_id]
        out = {"id": rid if kind == "document" else None, "search_id": h.doc_id,
               "number": h.number, "title": h.title, "type": h.doc_type,
               "type_label": TYPE_LABELS.get(h.doc_type, h.doc_type), "unit": h.unit_code,
               "issued_on": h.issued_on.isoformat(), "snippet": plain(h.snippet_html)}  # fmt: skip
        if kind == "attachment":
            place = places.get(rid)
            out |= {"attachment_id": rid, "case_file_id": place and place.case_file_id,
                    "case_title": place.case_title if place else "",
                    "item_id": place and place.item_id}  # fmt: skip
        return out

    payload = {
        "total": results.total, "page": results.page, "facets": results.facets,
        "hits": [hit(h) for h in results.hits],
    }  # fmt: skip
    lines = [f"共 {results.total} 份（第{results.page}页，用时 {results.elapsed_ms:.0f} 毫秒）"]
    for h in payload["hits"]:
        if h["type"] == "attachment":  # uploaded material: shown as the case file and its item
            where = f"案卷 {h['case_file_id']}「{h['case_title']}」第{h['item_id']}项"
            number = f"档号 {h['number']}  " if h["number"] else ""
            lines.append(f"{h['search_id']:>6}  [{h['type_label']}] {number}{h['title']}  "
                         f"[{h['unit']} {h['issued_on']}]  {where}")  # fmt: skip
        else:
            lines.append(
                f"{h['id']:>6}  {h['number']}  {h['title']}  [{h['unit']} {h['issued_on']}]"
            )
        lines.append(f"        {h['snippet']}")
    _out(args, payload, lines)
    return 0


def cmd_restrict(cf: Casefile, args) -> int:
    from app.drafting.restrictions import restrict

    with cf.db.write() as session:
        added = restrict(session, _need_as(session, args), args.draft, args.user)
    _out(
        args,
        {"draft": args.draft, "added": added},
        [f"草稿 {args.draft} 已限定知悉范围；新增：{'、'.join(added) or '无'}"],
    )
    return 0


def cmd_reindex(cf: Casefile, args) -> int:
    import time

    from app.search.indexing import rebuild_index

    start = time.perf_counter()
    count = rebuild_index(cf)
    elapsed = time.perf_counter() - start
    _out(args, {"indexed": count, "seconds": round(elapsed, 2)},
         [f"已重建检索索引：{count} 份文书和案卷材料，用时 {elapsed:.1f} 秒"])  # fmt: skip
    return 0


# ---- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--as", dest="as_user", metavar="USER", help="act as this user")

    parser = argparse.ArgumentParser(
        prog="casefile", description="casefile: 公文生成、审核与案卷归档"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    p = sub.add_parser("init", parents=[common], help="create the store (and demo data)")
    p.add_argument("--demo", action="store_true")
    p.set_defaults(func=cmd_init, needs_store=False)

    p = sub.add_parser("run", parents=[common], help="start the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_run)

    unit = sub.add_parser("unit", help="units").add_subparsers(dest="command", required=True)
    p = unit.add_parser("add", parents=[common])
    p.add_argument("code")
    p.add_argument("--name", required=True)
    p.add_argument("--parent")
    p.add_argument("--doc-code", dest="doc_code")
    p.set_defaults(func=cmd_unit_add)
    unit.add_parser("list", parents=[common]).set_defaults(func=cmd_unit_list)

    user = sub.add_parser("user", help="users").add_subparsers(dest="command", required=True)
    p = user.add_parser("add", parents=[common])
    p.add_argument("username")
    p.add_argument("--name", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--role", action="append", required=True, choices=ROLES)
    p.set_defaults(func=cmd_user_add)
    user.add_parser("list", parents=[common]).set_defaults(func=cmd_user_list)
    p = user.add_parser("grant", parents=[common])
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--unit", required=True)
    p.set_defaults(func=cmd_user_grant)
    for name in ("disable", "enable"):
        p = user.add_parser(name, parents=[common])
        p.add_argument("username")
        p.set_defaults(func=cmd_user_disable)
    p = user.add_parser("token", parents=[common], help="create an API token")
    p.add_argument("username")
    p.add_argument("--label")
    p.set_defaults(func=cmd_user_token)

    tpl = sub.add_parser("templates", help="templates").add_subparsers(
        dest="command", required=True
    )
    tpl.add_parser("list", parents=[common]).set_defaults(func=cmd_templates_list)
    for name in ("check", "add"):
        p = tpl.add_parser(
            name, parents=[common], help=f"{name} a template (DOCX + schema.yaml [+ sample.json])"
        )
        p.add_argument("template_id")
        p.add_argument("--docx", required=True)
        p.add_argument("--schema", required=True)
        p.add_argument("--sample")
        p.set_defaults(func=cmd_templates_check)

    draft = sub.add_parser("draft", help="drafts and review").add_subparsers(
        dest="command", required=True
    )
    p = draft.add_parser("new", parents=[common, acting])
    p.add_argument("template")
    p.add_argument("--data", required=True, help="JSON file with the form data ('-' for stdin)")
    p.add_argument("--unit")
    p.add_argument("--submit", action="store_true", help="submit for review at once")
    p.add_argument("--co-sign", dest="co_sign", action="append", metavar="UNIT",
                   help="a co-signing unit (会签), for templates with a co-sign step")  # fmt: skip
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_draft_new)
    p = draft.add_parser("edit", parents=[common, acting])
    p.add_argument("draft", type=int)
    p.add_argument("--data", required=True)
    p.add_argument("--co-sign", dest="co_sign", action="append", metavar="UNIT",
                   help="replace the co-signing units (default: keep them)")  # fmt: skip
    p.set_defaults(func=cmd_draft_edit)
    for name, action, verb in (
        ("submit", drafts.submit, "提交审核"),
        ("approve", drafts.approve, "审核同意"),
        ("return", drafts.return_draft, "退回修改"),
    ):
        p = draft.add_parser(name, parents=[common, acting])
        p.add_argument("draft", type=int)
        p.add_argument("--comment")
        if name != "submit":
            p.add_argument("--opinion-file", help="a written opinion (PDF or DOCX, ≤10MB)")
        p.set_defaults(func=_decision(action, verb))
    p = draft.add_parser("issue", parents=[common, acting])
    p.add_argument("draft", type=int)
    p.set_defaults(func=cmd_draft_issue)
    p = draft.add_parser("show", parents=[common, acting])
    p.add_argument("draft", type=int)
    p.set_defaults(func=cmd_draft_show)
    p = draft.add_parser("queue", parents=[common, acting])
    p.set_defaults(func=cmd_draft_queue)

    doc = sub.add_parser("document", help="issued documents").add_subparsers(
        dest="command", required=True
    )
    p = doc.add_parser("show", parents=[common, acting])
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_document_show)

    p = sub.add_parser(
        "worker", parents=[common], help="drain the outbox (search index, PDF renditions)"
    )
    p.add_argument("--once", action="store_true", help="process what is due, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "search",
        parents=[common, acting],
        help="full-text search of issued documents and case-file attachments",
    )
    p.add_argument("query")
    p.add_argument(
        "--type",
        action="append",
        help="template id, e.g. legality-review-opinion; attachment for case-file material",
    )
    p.add_argument("--unit", action="append", help="unit code")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", dest="per_page", type=int, default=20)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "restrict", parents=[common, acting], help="restrict a draft to named readers (知悉范围)"
    )
    p.add_argument("draft", type=int)
    p.add_argument(
        "--user", action="append", required=True, help="username allowed to read (repeat)"
    )
    p.set_defaults(func=cmd_restrict)

    p = sub.add_parser(
        "reindex", parents=[common], help="rebuild the search index from the archive"
    )
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser(
        "verify", parents=[common], help="check every record, blob and the audit chain"
    )
    p.set_defaults(func=cmd_verify)

    from app.cli import casefiles as archive_commands  # case files (issue 7)

    archive_commands.register(sub, common, acting)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    cf = open_casefile(settings)
    try:
        if getattr(args, "needs_store", True) and not bootstrap.is_initialised(cf):
            raise CliError("档案库尚未初始化，请先运行 casefile init（或 make run）")
        return args.func(cf, args)
    except (CliError, WorkflowError) as exc:
        errors = exc.errors
        if args.json:
            code = exc.code if isinstance(exc, WorkflowError) else "cli_error"
            print(json.dumps({"error": code, "message": exc.message, "errors": errors},
                             ensure_ascii=False, indent=2), file=sys.stdout)  # fmt: skip
        else:
            print(f"错误：{exc.message}", file=sys.stderr)
            for e in errors:
                print(
                    f"  - {e.get('label', e.get('field'))}（{e.get('field')}）：{e['message']}",
                    file=sys.stderr,
                )
        return exc.code if isinstance(exc, CliError) else 2
    finally:
        cf.close()
