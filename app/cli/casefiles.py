"""`casefile case ...` and `casefile import`: case files (案卷), their 档号 and transfer packages."""

from __future__ import annotations

from pathlib import Path

from app.casefiles.attachments import inspect_upload
from app.casefiles.export import export_case_file, import_package
from app.casefiles.models import KINDS, RETENTION, ROLES
from app.casefiles.ocr import redo_ocr
from app.casefiles.service import (
    CLOSE_CONFIRMATION,
    add_attachment,
    add_document,
    close_case_file,
    create_case_file,
    find_document_id,
    list_case_files,
    move_item,
    open_case_file,
    remove_item,
    update_case_file,
    update_item,
)
from app.cli.common import CliError, acting_as, confirmed, need_as, out, read_file, record_id
from app.common.hashing import sha256_hex
from app.container import Casefile
from app.presenters.casefiles import case_file_summary, case_file_view_payload, item_payload


def cmd_case_new(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        p = need_as(s, args)
        unit = args.unit or p.user.unit.code
        case = create_case_file(
            s, p, title=args.title, kind=args.kind, unit_code=unit, retention=args.retention,
            responsible=args.responsible or p.user.name, received_on=args.received,
            reviewed_on=args.reviewed, meeting_on=args.meeting, decided_on=args.decided,
        )  # fmt: skip
        payload = case_file_summary(case)
    out(args, payload, [str(case.id)])
    return 0


def cmd_case_add(cf: Casefile, args) -> int:
    if (args.document is None) == (args.file is None):
        raise CliError("请指定 --document ID 或 --file PATH 之一")
    if args.file:
        path = Path(args.file)
        # checked before the write transaction: a slow inspection blocks no other writer
        checked = inspect_upload(read_file(path, "文件"), path.name, cf.settings.max_upload_bytes)
    with cf.db.write() as s:
        p = need_as(s, args)
        if args.document is not None:
            doc_id = find_document_id(s, args.document)
            item = add_document(s, p, args.case, doc_id, role=args.role, reply_to=args.reply_to)
        else:
            item = add_attachment(
                cf, s, p, args.case, checked, title=args.title, role=args.role,
                responsible=args.responsible or "", doc_date=args.date, doc_number=args.number or "",
                reply_to=args.reply_to,
            )  # fmt: skip
        payload = {"case": args.case, "item": item.id} | item_payload(item)
    out(args, payload, [f"已归入案卷 {args.case}：第{item.position}件「{item.title}」"])
    return 0


def cmd_case_close(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        refs = close_case_file(s, need_as(s, args), args.case, default_fonds=cf.settings.fonds_code,
                               confirmed=confirmed(args, CLOSE_CONFIRMATION))  # fmt: skip
        payload = {"case": args.case, "status": "closed", "references": [r.reference for r in refs]}
    out(
        args,
        payload,
        [f"案卷 {args.case} 已归档，档号：", *[f"  {r}" for r in payload["references"]]],
    )
    return 0


CASE_OPTIONS = {"title": "title", "kind": "kind", "retention": "retention",
                "responsible": "responsible", "note": "note", "received": "received_on",
                "reviewed": "reviewed_on", "meeting": "meeting_on", "decided": "decided_on"}  # fmt: skip
ITEM_OPTIONS = {"title": "title", "responsible": "responsible", "date": "doc_date",
                "number": "doc_number", "role": "role"}  # fmt: skip


def _given(args, options: dict[str, str]) -> dict:
    """The options given on the command line (an empty value clears it)."""
    return {
        key: getattr(args, opt) for opt, key in options.items() if getattr(args, opt) is not None
    }


def cmd_case_edit(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        update_case_file(s, need_as(s, args), args.case, **_given(args, CASE_OPTIONS))
    out(args, {"case": args.case}, [f"案卷 {args.case} 的信息已保存"])
    return 0


def cmd_case_item(cf: Casefile, args) -> int:
    """item-edit, move, remove: an item of an open case file."""
    with cf.db.write() as s:
        p = need_as(s, args)
        if args.command == "item-edit":
            update_item(s, p, args.case, args.item, **_given(args, ITEM_OPTIONS))
            line = f"案卷 {args.case} 第 {args.item} 项的信息已保存"
        elif args.command == "move":
            item = move_item(s, p, args.case, args.item, args.position)
            line = f"案卷 {args.case} 第 {args.item} 项已移至第{item.position}件"
        else:
            remove_item(s, p, args.case, args.item)
            line = f"已从案卷 {args.case} 中移除第 {args.item} 项"
    out(args, {"case": args.case, "item": args.item}, [line])
    return 0


def cmd_case_export(cf: Casefile, args) -> int:
    if not args.pdf and not args.package:
        raise CliError("请指定 --pdf OUT.pdf 和/或 --package OUT.zip")
    with cf.db.read() as s:
        p = acting_as(s, args.as_user)
    dossier, package = export_case_file(cf, p, args.case, want_pdf=bool(args.pdf),
                                        want_package=bool(args.package))  # fmt: skip
    payload: dict = {"case": args.case}
    lines = []
    if dossier is not None:
        Path(args.pdf).write_bytes(dossier.pdf)
        payload["pdf"] = {
            "path": str(args.pdf), "pages": dossier.front_pages + dossier.item_pages,
            "entries": [{"position": e.position, "archival_code": e.reference, "title": e.title,
                         "pages": e.pages_label} for e in dossier.entries],
        }  # fmt: skip
        lines.append(
            f"案卷 PDF：{args.pdf}（{payload['pdf']['pages']} 页，{len(dossier.entries)} 件）"
        )
    if package is not None:
        Path(args.package).write_bytes(package)
        payload["package"] = {
            "path": str(args.package),
            "sha256": sha256_hex(package),
            "size": len(package),
        }
        lines.append(f"移交包：{args.package}（sha256 {payload['package']['sha256']}）")
    out(args, payload, lines)
    return 0


def cmd_case_ocr_redo(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        queued = redo_ocr(s, acting_as(s, args.as_user), case_id=args.case, item_id=args.item,
                          failed=args.failed, via="cli")  # fmt: skip
        rows = [q.as_dict() for q in queued]
    lines = [f"已重新排队识别 {len(rows)} 件扫描件：" if rows else "没有需要重新识别的扫描件"]
    lines += [f"  案卷 {r['case'] or '—'} 第 {r['position'] or '—'} 件「{r['title']}」（原为{r['previous_label']}）"
              for r in rows]  # fmt: skip
    out(args, {"queued": rows}, lines)
    return 0


def cmd_case_show(cf: Casefile, args) -> int:
    with cf.db.write() as s:
        view = open_case_file(s, acting_as(s, args.as_user), args.case, via="cli")
        case, payload = view.case, case_file_view_payload(view)
    lines = [
        f"案卷 {case.id}：{case.title}",
        f"类别：{payload['kind_label']}  单位：{payload['unit_name']}  保管期限：{payload['retention_label']}"
        f"  状态：{payload['status_label']}",
    ]
    for i in payload["items"]:
        lines.append(f"  {i['position']:>3}. {i['archival_code'] or '（未编档号）'}  {i['title']}"
                     f"  [{i['role_label']} {i['type'].upper()}]")  # fmt: skip
        if item_ocr := view.ocr.get(i["id"]):
            lines[-1] += f"  文字识别：{item_ocr.note}"
    out(args, payload, lines)
    return 0


def cmd_case_list(cf: Casefile, args) -> int:
    with cf.db.read() as s:
        p = acting_as(s, args.as_user)
        rows = [case_file_summary(c) for c in list_case_files(s, p, args.status, args.unit)]
    out(args, {"case_files": rows}, [
        f"{r['id']:>5}  {r['title']}  [{r['kind_label']} {r['unit']} {r['retention_label']} {r['status_label']}]"
        for r in rows
    ])  # fmt: skip
    return 0


def cmd_import(cf: Casefile, args) -> int:
    data = read_file(args.package, "移交包")
    with cf.db.read() as s:
        p = acting_as(s, args.as_user)
    result = import_package(cf, data, p)
    payload = {"case_file": result.case_file_id, "items": result.items,
               "verified_files": result.verified_files, "references": result.references}  # fmt: skip
    out(args, payload, [
        f"已导入案卷 {result.case_file_id}：{result.items} 件，{result.verified_files} 个文件的 SHA-256 全部核对无误",
    ])  # fmt: skip
    return 0


def register(sub, common, acting) -> None:
    """Add the case-file commands to the top-level subparsers."""
    case = sub.add_parser("case", help="案卷").add_subparsers(dest="command", required=True)

    p = case.add_parser("new", parents=[common, acting], help="新建案卷")
    p.add_argument("--title", required=True)
    p.add_argument("--kind", required=True, choices=list(KINDS))
    p.add_argument("--unit", help="单位代码（默认为办理人所在单位）")
    p.add_argument(
        "--retention",
        required=True,
        choices=list(RETENTION),
        help="保管期限：Y 永久，D30 三十年，D10 十年",
    )
    p.add_argument("--responsible", help="责任人（默认为办理人）")
    for name in ("received", "reviewed", "meeting", "decided"):
        p.add_argument(f"--{name}")
    p.set_defaults(func=cmd_case_new)

    p = case.add_parser("add", parents=[common, acting], help="归入一份文书或上传一个文件")
    p.add_argument("case", type=record_id)
    p.add_argument("--document", help="已发文书：编号或发文字号")
    p.add_argument("--file", help="要上传的文件")
    p.add_argument("--role", choices=list(ROLES), help="材料类别")
    p.add_argument("--title")
    p.add_argument("--responsible", help="上传文件的责任者")
    p.add_argument("--date", help="上传文件的日期")
    p.add_argument("--number", help="上传文件的文号")
    p.add_argument("--reply-to", dest="reply_to", type=record_id, help="所答复的条目")
    p.set_defaults(func=cmd_case_add)

    p = case.add_parser("close", parents=[common, acting], help="编定档号并转为只读")
    p.add_argument("case", type=record_id)
    p.add_argument("--yes", action="store_true",
                   help="确认结卷，此操作不可撤销（不加时在终端上询问）")  # fmt: skip
    p.set_defaults(func=cmd_case_close)

    p = case.add_parser("edit", parents=[common, acting], help="修改未结案卷的著录项")
    p.add_argument("case", type=record_id)
    p.add_argument("--title")
    p.add_argument("--kind", choices=list(KINDS))
    p.add_argument("--retention", choices=list(RETENTION))
    p.add_argument("--responsible")
    p.add_argument("--note")
    for name in ("received", "reviewed", "meeting", "decided"):
        p.add_argument(f"--{name}", help="给空值即清除")
    p.set_defaults(func=cmd_case_edit)

    p = case.add_parser("item-edit", parents=[common, acting], help="修改条目的目录信息")
    p.add_argument("case", type=record_id)
    p.add_argument("item", type=record_id)
    p.add_argument("--title")
    p.add_argument("--responsible", help="责任者")
    p.add_argument("--date", help="日期（给空值即清除）")
    p.add_argument("--number", help="文号")
    p.add_argument("--role", choices=list(ROLES))
    p.set_defaults(func=cmd_case_item)

    p = case.add_parser("move", parents=[common, acting], help="将条目移到某一位置")
    p.add_argument("case", type=record_id)
    p.add_argument("item", type=record_id)
    p.add_argument("position", type=record_id, help="1 为第一位")
    p.set_defaults(func=cmd_case_item)

    p = case.add_parser("remove", parents=[common, acting], help="从未结案卷中移出条目")
    p.add_argument("case", type=record_id)
    p.add_argument("item", type=record_id)
    p.set_defaults(func=cmd_case_item)

    p = case.add_parser("export", parents=[common, acting], help="导出案卷 PDF 和移交包")
    p.add_argument("case", type=record_id)
    p.add_argument("--pdf")
    p.add_argument("--package")
    p.set_defaults(func=cmd_case_export)

    p = case.add_parser(
        "ocr-redo", parents=[common, acting],
        help="重新识别扫描件文字（管理员）：一个案卷中的一项材料、整个案卷，或全部识别失败的材料",
    )  # fmt: skip
    p.add_argument("case", type=record_id, nargs="?", help="案卷编号")
    p.add_argument("item", type=record_id, nargs="?", help="案卷中的一项材料（省略：整个案卷）")
    p.add_argument("--failed", action="store_true", help="全部识别失败的材料（不指定案卷）")
    p.set_defaults(func=cmd_case_ocr_redo)

    p = case.add_parser("show", parents=[common, acting])
    p.add_argument("case", type=record_id)
    p.set_defaults(func=cmd_case_show)

    p = case.add_parser("list", parents=[common, acting])
    p.add_argument("--status", choices=["open", "closed"])
    p.add_argument("--unit")
    p.set_defaults(func=cmd_case_list)

    p = sub.add_parser("import", parents=[common, acting], help="导入移交包（ZIP 文件）")
    p.add_argument("package")
    p.set_defaults(func=cmd_import)
