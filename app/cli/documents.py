"""`casefile document show | correct | revoke`, `search`, `reindex` and `verify`: reading the
archive, and the status of an issued document (更正替代, 撤销)."""

from __future__ import annotations

from app.cli.common import CliError, acting_as, need_as, out, record_id, step_lines
from app.container import Casefile
from app.drafting import corrections, documents
from app.drafting import status as document_status
from app.drafting.models import IssuedDocument
from app.integrity import checkpoint
from app.integrity.verify import verify_store
from app.presenters.documents import document_payload
from app.presenters.drafts import draft_payload
from app.presenters.search import search_page_payload
from app.search import SearchUnavailable
from app.search.indexing import rebuild_index
from app.search.service import IndexBuilding, run_search, search_query


def cmd_document_show(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        p = acting_as(session, args.as_user)
        if p is None:
            doc = session.get(IssuedDocument, args.id)
            if doc is None:
                raise CliError(f"文书 {args.id} 不存在")
        else:
            doc = documents.open_document(session, p, args.id, via="cli")
        payload = document_payload(cf, session, doc)
    out(args, payload, [
        f"{payload['number']}  {payload['title']}",
        f"单位：{payload['unit_name']}  成文日期：{payload['issue_date']}  发文人：{payload['issued_by']}",
        f"模板：{payload['template']} 第{payload['template_version']}版",
        f"发文稿 sha256：{payload['sha256']}", f"审核稿 sha256：{payload['approved_sha256']}",
        f"发文稿纸 sha256：{payload['slip_sha256'] or '—'}",
        *_status_lines(payload),
        "办理记录：", *step_lines(payload["steps"]),
    ])  # fmt: skip
    return 0


def _status_lines(payload: dict) -> list[str]:
    line = f"状态：{payload['status_label']}"
    if payload["superseded_by"]:
        line += f"（{payload['effective_on']} 起由 {payload['superseded_by']['number']} 替代）"
    elif payload["status"] == "revoked":
        line += f"（{payload['effective_on']} 起；理由：{payload['reason']}）"
    lines = [line]
    if payload["supersedes"]:
        lines.append(f"更正替代：{payload['supersedes']['number']}")
    if payload["revocation_pending"]:
        lines.append(f"撤销申请待确认：{payload['revocation_pending']['reason']}")
    return lines


def cmd_document_correct(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        draft = corrections.start_correction(cf, session, need_as(session, args), args.id,
                                             via="cli")  # fmt: skip
        payload = draft_payload(cf, session, draft)
    out(args, payload, [f"已起草更正稿：草稿 {payload['id']}（{payload['title']}），"
                        "修改后提交审核；发文后原文书即为已被替代"])  # fmt: skip
    return 0


def cmd_document_revoke(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        p = need_as(session, args)
        if args.confirm:
            document_status.confirm_revocation(session, p, args.id, via="cli")
            line = f"文书 {args.id} 已撤销"
        else:
            document_status.propose_revocation(session, p, args.id, args.reason or "", via="cli")
            line = f"已提出撤销文书 {args.id}，待另一角色（负责人或签发人）确认"
        payload = document_payload(cf, session, session.get(IssuedDocument, args.id))
    out(args, payload, [line])
    return 0


def cmd_verify(cf: Casefile, args) -> int:
    report = verify_store(cf)
    head = None if report.head is None else vars(report.head)
    payload = {"ok": report.ok, "documents": report.checked_documents, "blobs": report.checked_blobs,
               "problems": report.problems, "warnings": report.warnings, "audit_head": head,
               "checkpoint": str(checkpoint.path_of(cf.settings)) if report.checkpoint_written else None}  # fmt: skip
    if report.ok:
        lines = [
            f"校验通过：{report.checked_documents} 份文书、{report.checked_blobs} 个文件、审计日志完整。"
        ]
    else:
        lines = [
            f"校验发现 {len(report.problems)} 个问题：",
            *[f"  - {p}" for p in report.problems],
        ]
    if report.head is not None:
        lines.append(
            f"审计日志链头：第 {report.head.seq} 条  {report.head.entry_hash}（{report.head.at}）"
        )
        lines.append("  请把这一行另行保存（数据库和档案目录之外），日后可据以核对日志未被删改。")
    if report.checkpoint_written:
        lines.append(f"已更新审计检查点：{checkpoint.path_of(cf.settings)}")
    if report.warnings:
        lines += ["提示（检索索引等可重建的派生数据）：", *[f"  - {w}" for w in report.warnings]]
    out(args, payload, lines)
    return 0 if report.ok else 1


def cmd_search(cf: Casefile, args) -> int:
    query = search_query(args.query, types=args.type or (), units=args.unit or (),
                         page=args.page, per_page=args.per_page, sort=args.sort,
                         status=args.status or "")  # fmt: skip
    with cf.db.write() as session:
        try:
            found = run_search(cf, session, acting_as(session, args.as_user), query, via="cli")
        except IndexBuilding as exc:
            raise CliError(str(exc)) from exc
        except SearchUnavailable as exc:
            raise CliError(f"检索索引暂不可用：{exc}；可运行 casefile reindex 重建") from exc
    lines = [f"共 {found.total} 份（第{found.page}页，用时 {found.elapsed_ms:.0f} 毫秒）"]
    for h in found.hits:
        if h.kind == "attachment":  # uploaded material: shown as the case file and its item
            where = f"案卷 {h.case_file_id}「{h.case_title}」第{h.item_id}项"
            number = f"档号 {h.number}  " if h.number else ""
            lines.append(f"{h.search_id:>6}  [{h.type_label}] {number}{h.title}  "
                         f"[{h.unit_code} {h.issued_on.isoformat()}]  {where}")  # fmt: skip
        else:
            state = "" if h.status == "issued" else f"（{h.status_label}）"
            lines.append(
                f"{h.record_id:>6}  {h.number}  {h.title}{state}  "
                f"[{h.unit_code} {h.issued_on.isoformat()}]"
            )
        lines.append(f"        {h.snippet_text}")
    out(args, search_page_payload(found), lines)
    return 0


def cmd_reindex(cf: Casefile, args) -> int:
    import time

    start = time.perf_counter()
    count = rebuild_index(cf)
    elapsed = time.perf_counter() - start
    out(args, {"indexed": count, "seconds": round(elapsed, 2)},
         [f"已重建检索索引：{count} 份文书和案卷材料，用时 {elapsed:.1f} 秒"])  # fmt: skip
    return 0


def register(sub, common, acting) -> None:
    doc = sub.add_parser("document", help="已发文书").add_subparsers(dest="command", required=True)
    p = doc.add_parser("show", parents=[common, acting])
    p.add_argument("id", type=record_id)
    p.set_defaults(func=cmd_document_show)
    p = doc.add_parser("correct", parents=[common, acting],
                       help="起草更正文书，印发后替代原文书")  # fmt: skip
    p.add_argument("id", type=record_id)
    p.set_defaults(func=cmd_document_correct)
    p = doc.add_parser("revoke", parents=[common, acting],
                       help="提请撤销（科室负责人或签发人，加 --reason）或确认撤销（加 --confirm）")  # fmt: skip
    p.add_argument("id", type=record_id)
    p.add_argument("--reason", help="撤销理由（提请时填写）")
    p.add_argument("--confirm", action="store_true", help="确认待处理的撤销提请")
    p.set_defaults(func=cmd_document_revoke)

    p = sub.add_parser(
        "search",
        parents=[common, acting],
        help="全文检索已发文书和案卷材料",
    )
    p.add_argument("query")
    p.add_argument(
        "--type",
        action="append",
        help="模板标识；案卷材料为 attachment",
    )
    p.add_argument("--unit", action="append", help="单位代码")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", dest="per_page", type=int, default=20)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    p.add_argument("--status", help="有效、已被替代或已撤销")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("reindex", parents=[common], help="根据档案重建检索索引")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("verify", parents=[common], help="校验全部记录、文件和审计链")
    p.set_defaults(func=cmd_verify)
