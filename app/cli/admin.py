"""`casefile init`, `unit ...`, `user ...` and `templates ...`: setting up the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app import bootstrap
from app.cli.common import CliError, out, read_file
from app.container import Casefile
from app.identity import users as user_admin
from app.identity.models import ROLE_LABELS, ROLES, Unit, User
from app.templating.upload import add_template, check_template, propose, template_file


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
    out(args, payload, lines)
    return 0


def cmd_unit_add(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        unit = user_admin.add_unit(session, args.code, args.name, args.parent, args.doc_code)
        payload = {"id": unit.id, "code": unit.code, "name": unit.name, "doc_code": unit.doc_code}
    out(args, payload, [f"已添加单位 {args.code}（{args.name}）"])
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
    out(args, {"units": rows}, [
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
    out(args, payload, [
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
    out(args, {"users": rows}, [
        f"{r['username']:<14} {r['name']:<8} {r['unit']:<10} {' '.join(r['roles'])}"
        + ("" if r["active"] else "  （已停用）") for r in rows
    ])  # fmt: skip
    return 0


def cmd_user_grant(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        user_admin.grant_role(session, args.username, args.role, args.unit)
    out(
        args,
        {"ok": True},
        [f"已授予 {args.username} 在 {args.unit} 的角色 {ROLE_LABELS[args.role]}"],
    )
    return 0


def cmd_user_disable(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        user_admin.set_active(session, args.username, args.command == "enable")
    out(
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
    out(args, {"token": token}, [f"API 令牌（只显示这一次）：{token}"])
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
    out(args, {"templates": rows}, [
        f"{r['id']:<26} 第{r['version']}版  {r['title']}  审核：{' → '.join(r['review_chain'])}" for r in rows
    ])  # fmt: skip
    return 0


def cmd_templates_check(cf: Casefile, args) -> int:
    """`templates check` reports; `templates add` also records a new version when it passes."""
    docx, schema = read_file(args.docx), read_file(args.schema)
    sample = read_file(args.sample, "示例数据") if args.sample else None
    report = check_template(args.template_id, docx, schema, sample)  # before any transaction
    upload = None
    if args.command == "add":
        with cf.db.write() as session:
            upload = add_template(cf, session, None, args.template_id, docx, schema, sample,
                                  via="cli", report=report)  # fmt: skip
    payload = report.as_dict()
    lines = [f"模板检查{'通过' if report.ok else '未通过'}：{args.template_id}"]
    lines += [f"  ✗ {p}" for p in report.problems] + [f"  ! {w}" for w in report.warnings]
    lines.append("  占位符：" + "、".join(report.placeholders))
    if upload is not None and upload.ok:
        payload["version"] = upload.version
        lines.append(f"已登记为第{upload.version}版，可立即使用")
    out(args, payload, lines)
    return 0 if report.ok else 2


def cmd_templates_download(cf: Casefile, args) -> int:
    """Write the DOCX and schema.yaml of a stored version (default: the newest) into --out."""
    target = Path(args.out)
    with cf.db.read() as session:
        files = [
            template_file(cf, session, None, args.template_id, args.version, which)
            for which in ("docx", "schema")
        ]
    try:
        target.mkdir(parents=True, exist_ok=True)
        for found in files:
            (target / found.name).write_bytes(found.data)
    except OSError as exc:
        raise CliError(f"无法写入 {target}：{exc.strerror}") from exc
    written = [str(target / f.name) for f in files]
    out(args, {"files": written}, ["已保存：" + "、".join(written)])
    return 0


def cmd_templates_propose(cf: Casefile, args) -> int:
    """List a DOCX's placeholders and write (or print) a proposed schema.yaml."""
    docx = read_file(args.docx, "模板文件")
    with cf.db.read() as session:
        proposal = propose(session, None, args.template_id or "", docx)
    lines = [f"  ✗ {p}" for p in proposal.problems]
    lines.append("占位符：" + ("、".join(proposal.placeholders) or "（没有）"))
    if args.out and proposal.schema_yaml:
        try:
            Path(args.out).write_text(proposal.schema_yaml, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"无法写入 {args.out}：{exc.strerror}") from exc
        lines.append(f"建议的字段定义已保存到 {args.out}：请把“待填写”改为中文名称并核对类型")
    elif proposal.schema_yaml:
        lines.append(proposal.schema_yaml.rstrip())
    out(args, proposal.as_dict(), lines)
    return 0 if proposal.schema_yaml else 2


TEMPLATE_VERBS = {"check": "检查", "add": "添加"}


def register(sub, common, acting) -> None:
    p = sub.add_parser("init", parents=[common], help="创建档案库（可附演示数据）")
    p.add_argument("--demo", action="store_true", help="同时写入演示数据")
    p.set_defaults(func=cmd_init, needs_store=False)

    unit = sub.add_parser("unit", help="单位").add_subparsers(dest="command", required=True)
    p = unit.add_parser("add", parents=[common])
    p.add_argument("code")
    p.add_argument("--name", required=True)
    p.add_argument("--parent")
    p.add_argument("--doc-code", dest="doc_code")
    p.set_defaults(func=cmd_unit_add)
    unit.add_parser("list", parents=[common]).set_defaults(func=cmd_unit_list)

    user = sub.add_parser("user", help="用户").add_subparsers(dest="command", required=True)
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
    p = user.add_parser("token", parents=[common], help="为接口调用签发令牌")
    p.add_argument("username")
    p.add_argument("--label")
    p.set_defaults(func=cmd_user_token)

    tpl = sub.add_parser("templates", help="文书模板").add_subparsers(dest="command", required=True)
    tpl.add_parser("list", parents=[common]).set_defaults(func=cmd_templates_list)
    for name in ("check", "add"):
        p = tpl.add_parser(
            name,
            parents=[common],
            help=f"{TEMPLATE_VERBS[name]}模板（DOCX 文件 + schema.yaml [+ sample.json]）",
        )
        p.add_argument("template_id")
        p.add_argument("--docx", required=True)
        p.add_argument("--schema", required=True)
        p.add_argument("--sample")
        p.set_defaults(func=cmd_templates_check)
    p = tpl.add_parser("download", parents=[common],
                       help="导出某一版本的 template.docx 和 schema.yaml")  # fmt: skip
    p.add_argument("template_id")
    p.add_argument("--version", type=int, help="默认为最新版本")
    p.add_argument("--out", default=".", help="目录（默认为当前目录）")
    p.set_defaults(func=cmd_templates_download)
    p = tpl.add_parser("propose", parents=[common],
                       help="列出 DOCX 文件中的占位符并拟出 schema.yaml")  # fmt: skip
    p.add_argument("--docx", required=True)
    p.add_argument("--id", dest="template_id", help="写入 schema 的模板标识")
    p.add_argument("--out", help="schema.yaml 的保存位置（默认直接显示）")
    p.set_defaults(func=cmd_templates_propose)
