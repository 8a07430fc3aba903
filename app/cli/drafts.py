"""`casefile draft ...` and `casefile restrict`: drafting, the review chain and issuing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.cli.common import acting_as, confirmed, need_as, out, read_data, record_id, step_lines
from app.container import Casefile
from app.drafting import drafts
from app.drafting.models import Draft
from app.drafting.opinions import OpinionFile
from app.drafting.restrictions import restrict
from app.presenters.drafts import draft_payload, step_payload


def cmd_draft_new(cf: Casefile, args) -> int:
    data = read_data(args.data)
    with cf.db.write() as session:
        p = need_as(session, args)
        draft = drafts.create_draft(
            cf, session, p, args.template, data, args.unit, co_sign_units=args.co_sign or ()
        )
        if args.submit:
            drafts.submit(cf, session, p, draft.id)
        payload = draft_payload(cf, session, draft)
    out(args, payload, [str(payload["id"])] if not args.verbose else [
        f"草稿 {payload['id']}：{payload['title']}（{payload['status_label']}，sha256 {payload['sha256']}）"
    ])  # fmt: skip
    return 0


def cmd_draft_edit(cf: Casefile, args) -> int:
    data = read_data(args.data)
    with cf.db.write() as session:
        version = drafts.edit_draft(
            cf, session, need_as(session, args), args.draft, data, co_sign_units=args.co_sign
        )
        payload = {"draft": args.draft, "version": version.number, "sha256": version.docx_sha256}
    out(
        args,
        payload,
        [
            f"草稿 {args.draft} 已保存为第{version.number}版（sha256 {version.docx_sha256}），需重新提交审核"
        ],
    )
    return 0


def _decision(action: Callable, verb: str) -> Callable:
    def run(cf: Casefile, args) -> int:
        extra = {}
        if action is drafts.approve:  # cannot be undone: --yes, or asked on a terminal
            extra["confirmed"] = confirmed(args, drafts.APPROVE_CONFIRMATION)
        if getattr(args, "opinion_file", None):
            path = Path(args.opinion_file)
            extra["opinion"] = OpinionFile(path.name, path.read_bytes())
            extra["opinion"].checked()  # before the write transaction: it blocks no writer
        with cf.db.write() as session:
            p = need_as(session, args)
            step = action(cf, session, p, args.draft, args.comment or "", **extra)
            draft = session.get(Draft, args.draft)
            payload = draft_payload(cf, session, draft) | {"step": step_payload(step)}
        lines = [f"草稿 {args.draft} 已{verb}；当前状态：{payload['status_label']}"]
        if payload["pending_step"]:
            lines.append(f"下一环节：{payload['pending_step']}")
        out(args, payload, lines)
        return 0

    return run


def cmd_draft_issue(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        doc = drafts.issue(cf, session, need_as(session, args), args.draft,
                           confirmed=confirmed(args, drafts.ISSUE_CONFIRMATION))  # fmt: skip
        payload = {"document_id": doc.id, "number": doc.number, "sha256": doc.docx_sha256,
                   "approved_sha256": doc.approved_sha256, "issue_date": doc.issue_date.isoformat()}  # fmt: skip
    out(
        args,
        payload,
        [
            f"已发文：{doc.number}",
            f"sha256 {doc.docx_sha256}",
            f"文书编号（document id）：{doc.id}",
        ],
    )
    return 0


def cmd_draft_delete(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        draft = drafts.delete_draft(session, need_as(session, args), args.draft)
        payload = draft_payload(cf, session, draft)
    out(args, payload, [f"草稿 {args.draft} 已删除"])
    return 0


def cmd_draft_show(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        draft = drafts.open_draft(session, acting_as(session, args.as_user), args.draft)
        payload = draft_payload(cf, session, draft)
    out(args, payload, [
        f"草稿 {payload['id']}：{payload['title']}", f"模板 {payload['template']}  单位 {payload['unit']}",
        f"状态：{payload['status_label']}  第{payload['version']}版  sha256 {payload['sha256']}",
        *(["待办环节：" + payload["pending_step"]] if payload["pending_step"] else []),
        *_completeness_lines(payload["completeness"]),
        "办理记录：", *step_lines(payload["steps"]),
    ])  # fmt: skip
    return 0


def _completeness_lines(done: dict) -> list[str]:
    if not done["total"]:
        return []
    line = f"必填项已填写 {done['filled']}/{done['total']} 项"
    if done["missing"]:
        line += "；提交审核前还需填写：" + "、".join(m["label"] for m in done["missing"])
    return [line]


def cmd_draft_queue(cf: Casefile, args) -> int:
    with cf.db.read() as session:
        p = need_as(session, args)
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
    out(args, payload, lines)
    return 0


def cmd_restrict(cf: Casefile, args) -> int:
    with cf.db.write() as session:
        added = restrict(session, need_as(session, args), args.draft, args.user)
    out(
        args,
        {"draft": args.draft, "added": added},
        [f"草稿 {args.draft} 已限定知悉范围；新增：{'、'.join(added) or '无'}"],
    )
    return 0


YES_HELP = "确认此操作，不可撤销（不加时在终端上询问，否则拒绝）"


def register(sub, common, acting) -> None:
    draft = sub.add_parser("draft", help="草稿与审核").add_subparsers(dest="command", required=True)
    p = draft.add_parser("new", parents=[common, acting])
    p.add_argument("template")
    p.add_argument("--data", required=True, help="表单数据的 JSON 文件（“-”表示从标准输入读取）")
    p.add_argument("--unit")
    p.add_argument("--submit", action="store_true", help="随即提交审核")
    p.add_argument("--co-sign", dest="co_sign", action="append",
                   help="会签单位（模板有会签环节时）")  # fmt: skip
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_draft_new)
    p = draft.add_parser("edit", parents=[common, acting])
    p.add_argument("draft", type=record_id)
    p.add_argument("--data", required=True)
    p.add_argument("--co-sign", dest="co_sign", action="append",
                   help="重新指定会签单位（默认不变）")  # fmt: skip
    p.set_defaults(func=cmd_draft_edit)
    for name, action, verb in (
        ("submit", drafts.submit, "提交审核"),
        ("approve", drafts.approve, "审核同意"),
        ("return", drafts.return_draft, "退回修改"),
        ("withdraw", drafts.withdraw, "撤回审核"),
    ):
        p = draft.add_parser(name, parents=[common, acting])
        p.add_argument("draft", type=record_id)
        p.add_argument("--comment")
        if name in {"approve", "return"}:
            p.add_argument("--opinion-file", help="书面意见（PDF 或 DOCX 文件，不超过 10 MB）")
        if name == "approve":
            p.add_argument("--yes", action="store_true", help=YES_HELP)
        p.set_defaults(func=_decision(action, verb))
    p = draft.add_parser("issue", parents=[common, acting])
    p.add_argument("draft", type=record_id)
    p.add_argument("--yes", action="store_true", help=YES_HELP)
    p.set_defaults(func=cmd_draft_issue)
    p = draft.add_parser("delete", parents=[common, acting], help="删除从未提交的草稿")
    p.add_argument("draft", type=record_id)
    p.set_defaults(func=cmd_draft_delete)
    p = draft.add_parser("show", parents=[common, acting])
    p.add_argument("draft", type=record_id)
    p.set_defaults(func=cmd_draft_show)
    p = draft.add_parser("queue", parents=[common, acting])
    p.set_defaults(func=cmd_draft_queue)

    p = sub.add_parser("restrict", parents=[common, acting], help="限定草稿的知悉范围")
    p.add_argument("draft", type=record_id)
    p.add_argument("--user", action="append", required=True, help="可以阅读的用户（可重复）")
    p.set_defaults(func=cmd_restrict)
