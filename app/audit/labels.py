"""How an audit entry reads to a person (审计日志): the Chinese name of each action, object and
detail, and the detail as one readable line that leaves out empty values.

One table for every place a person reads the log: the web's audit page, `casefile audit` and
the findings of `casefile verify`. The stored entry keeps its codes (they are hashed into the
chain); only the display is translated. An action added later without a label reads as its
family's label ("草稿操作"), never as the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.casefiles.models import KINDS, RETENTION
from app.casefiles.models import ROLES as ITEM_ROLES
from app.identity.models import ROLE_LABELS
from app.matters.models import DEPLOYMENT_LABELS as MATTER_DEPLOYMENTS
from app.matters.models import KINDS as MATTER_KINDS
from app.matters.models import STATUS_LABELS as MATTER_STATUS

ACTION_LABELS = {
    "login": "登录",
    "login.failed": "登录失败",
    "login.locked": "登录被锁定",
    "login.disabled": "已停用账户尝试登录",
    "logout": "退出登录",
    "password.change": "修改密码",
    "token.create": "申请接口令牌",
    "unit.add": "添加单位",
    "user.add": "添加用户",
    "user.email": "设置邮箱",
    "user.grant": "授予角色",
    "user.enable": "启用用户",
    "user.disable": "停用用户",
    "template.upload": "上传模板",
    "draft.create": "起草",
    "draft.edit": "修改草稿",
    "draft.submit": "提交审核",
    "draft.approve": "审核同意",
    "draft.return": "退回修改",
    "draft.note": "补充意见",
    "draft.restrict": "限定知悉范围",
    "draft.withdraw": "撤回",
    "draft.delete": "删除草稿",
    "document.issue": "发文",
    "document.read": "阅读文书",
    "document.download": "下载文书",
    "search": "检索",
    "casefile.create": "建立案卷",
    "casefile.edit": "修改案卷",
    "casefile.add": "归入案卷",
    "casefile.remove": "移出案卷",
    "casefile.move": "调整卷内顺序",
    "casefile.item_edit": "修改卷内文件信息",
    "casefile.close": "归档",
    "casefile.read": "查看案卷",
    "casefile.download": "下载卷内文件",
    "casefile.export": "导出案卷",
    "casefile.import": "导入移交包",
    "casefile.ocr": "识别扫描件文字",
    "casefile.ocr_redo": "重新识别扫描件文字",
    "contracts.read": "查看聘任合同台账",
    "contracts.export": "导出聘任合同台账",
    "compliance.read": "查看合规检查",
    "compliance.export": "导出合规检查",
    "archive.checks": "四性检测",
    "audit.view": "查看审计日志",
    "audit.export": "导出审计日志",
    "numbers.confirm": "确认发文字号序列",
    "numbers.raise": "调整发文字号序列",
    "document.correct": "起草更正文书",
    "document.supersede": "替代原文书",
    "document.revoke.propose": "提出撤销",
    "document.revoke": "确认撤销",
    "normative.register": "登记规范性文件",
    "normative.update": "修改规范性文件登记",
    "normative.read": "查看规范性文件登记簿",
    "normative.export": "导出规范性文件登记簿",
    "pool.admit": "纳入法律顾问人才库",
    "pool.status": "调整人才库状态",
    "filing.register": "登记合同备案",
    "filing.return": "退回合同备案",
    "filing.resubmit": "重新报送合同备案",
    "service.record": "登记服务记录",
    "assessment.save": "年度考核评议",
    "assessment.sign": "确认考核结果",
    "ranking.weights": "设置考核指标权重",
    "supervision.dashboard": "查看督导考核看板",
    "supervision.drill": "查看指标明细",
    "matter.create": "登记法律事务",
    "matter.read": "查看法律事务",
    "matter.download": "下载法律事务附件",
    "matter.assign": "指派承办人",
    "matter.accept": "接受指派",
    "matter.decline": "拒绝指派",
    "matter.rule": "认定拒绝理由",
    "matter.note": "填写承办记录",
    "matter.feedback": "办理反馈",
    "matter.close": "办结法律事务",
    "matter.return": "退回法律事务",
    "matter.link": "关联文书",
    "matter.request": "申请调配",
    "matter.deploy": "选派公职律师",
    "matter.letter": "起草委托公函",
    "lawyer.profile": "维护执业信息",
    "decision_list.add": "列入决策事项清单",
    "decision_list.remove": "移出决策事项清单",
}
FAMILY_LABELS = {  # an action without its own label: its family's
    "login": "登录",
    "password": "账户",
    "token": "接口令牌",
    "unit": "单位管理",
    "user": "用户管理",
    "template": "模板管理",
    "draft": "草稿操作",
    "document": "文书操作",
    "casefile": "案卷操作",
    "contracts": "聘任合同台账",
    "compliance": "合规检查",
    "archive": "档案检测",
    "audit": "审计日志",
    "numbers": "发文字号",
    "search": "检索",
    "normative": "规范性文件登记簿",
    "pool": "法律顾问人才库",
    "filing": "合同备案",
    "service": "服务记录",
    "assessment": "年度考核",
    "ranking": "季度考核排名",
    "supervision": "督导考核",
    "matter": "法律事务",
    "lawyer": "执业信息",
    "decision_list": "决策事项清单",
}
OBJECT_LABELS = {
    "document": "文书",
    "draft": "草稿",
    "case_file": "案卷",
    "user": "用户",
    "unit": "单位",
    "template": "模板",
    "number_sequence": "发文字号序列",
    "normative": "规范性文件",
    "pool_entry": "人才库条目",
    "work_record": "服务记录",
    "assessment": "年度考核",
    "matter": "法律事务",
    "attachment": "材料",
}
DETAIL_LABELS = {
    "via": "途径",
    "format": "格式",
    "type": "格式",
    "query": "检索词",
    "types": "文书类型",
    "units": "单位",
    "unit": "单位",
    "unit_id": "单位",
    "year": "年度",
    "year_from": "起始年度",
    "year_to": "截止年度",
    "reviewer": "审核人",
    "conclusion": "审查结论",
    "results": "结果数",
    "status": "状态",
    "window": "提醒天数",
    "from": "起始日期",
    "to": "截止日期",
    "title": "题名",
    "name": "名称",
    "kind": "类别",
    "retention": "保管期限",
    "role": "角色或类别",
    "roles": "角色",
    "item": "卷内件",
    "items": "件数",
    "attachment": "材料",
    "document": "文书",
    "draft": "草稿",
    "number": "发文字号",
    "references": "档号",
    "template": "模板",
    "version": "版本",
    "step": "环节",
    "step_id": "办理记录",
    "supersedes": "补充的记录",
    "sha256": "SHA-256",
    "approved_sha256": "审核稿 SHA-256",
    "package_sha256": "移交包 SHA-256",
    "issue_date": "成文日期",
    "code": "代字",
    "doc_code": "机关代字",
    "parent": "上级单位",
    "username": "用户名",
    "email": "邮箱",
    "previous": "原值",
    "label": "说明",
    "added": "新增知悉人",
    "other_sessions_ended": "结束其他登录",
    "voided_approvals": "作废的审核同意",
    "reason": "原因",
    "raised": "调整",
    "source_case_file": "来源案卷",
    "package": "移交包",
    "actor": "用户",
    "action": "操作",
    "object": "对象",
    "page": "页码",
    "keeper": "人才库所属单位",
    "before": "原状态",
    "after": "新状态",
    "filing_number": "备案号",
    "filed_on": "备案日期",
    "note": "说明",
    "service": "服务类型",
    "subject": "法律顾问或者公职律师",
    "hours": "用时（小时）",
    "grade": "考核等次",
    "ability": "履职能力",
    "quality": "服务质量",
    "efficiency": "工作效率",
    "quarter": "季度",
    "indicator": "指标",
    "event": "办理记录",
    "lawyer": "承办人",
    "decline": "拒绝记录",
    "justified": "有正当理由",
    "deployment": "调配申请",
    "upper_unit": "上级单位",
    "lawyer_unit": "承办人单位",
    "licence": "公职律师证号",
    "specialty": "专长",
    "position": "序号",
    "responsible": "责任者",
    "doc_date": "日期",
    "doc_number": "文号",
    "versions": "版本",
    "received_on": "收文日期",
    "reviewed_on": "审查日期",
    "meeting_on": "会议审议日期",
    "decided_on": "决定日期",
    "pages": "页数",
    "empty_pages": "未识别出文字的页",
    "copy_sha256": "可检索副本 SHA-256",
    "ocr": "待识别文字",
}
VALUE_LABELS: dict[str, str] = {
    "web": "网页",
    "api": "接口",
    "cli": "命令行",
    "demo": "演示数据",
    "pdf": "PDF",
    "docx": "DOCX",
    "slip-pdf": "发文稿纸 PDF",
    "searchable-pdf": "可检索 PDF（扫描件识别副本）",
    "xlsx": "XLSX",
    "ofd": "OFD",
    "jpg": "JPG",
    "png": "PNG",
    "tif": "TIFF",
    "expiring": "即将到期",
    "active": "履行中",
    "not_started": "未开始",
    "expired": "已到期",
    "open": "整理中",
    "closed": "已归档",
    "withdraw": "撤回",
    **ROLE_LABELS,
    **KINDS,
    **RETENTION,
    **ITEM_ROLES,
}
CODE_KEYS = {
    "via",
    "format",
    "type",
    "role",
    "roles",
    "kind",
    "retention",
    "status",
}  # coded values
# a family's own codes, read before VALUE_LABELS: a matter's "closed" is 办结, a case file's 已归档
FAMILY_VALUE_LABELS: dict[str, dict[str, str]] = {
    "matter": {**MATTER_KINDS, **MATTER_STATUS, **MATTER_DEPLOYMENTS},
}
HASH_KEYS = {"sha256", "approved_sha256", "package_sha256", "copy_sha256"}


def action_label(action: str) -> str:
    """The Chinese name of an action; an unknown one reads as its family's."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return FAMILY_LABELS.get(action.split(".", 1)[0], "其他操作")


def object_label(
    object_type: str, object_id: str = "", names: Mapping[str, str] | None = None
) -> str:
    """「文书 12」: the object's kind in Chinese and its number (a template by its title)."""
    if not object_type:
        return ""
    kind = OBJECT_LABELS.get(object_type, "对象")
    if object_type == "template" and names:
        object_id = f"“{names.get(object_id, object_id)}”"
    return f"{kind} {object_id}" if object_id else kind


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def value_text(
    key: str, value: Any, names: Mapping[str, str] | None = None, action: str = ""
) -> str:
    """One detail value as a person reads it: lists joined with 、, codes by their Chinese
    name (`names` adds the store's own: template titles, review steps; `action` picks its
    family's codes), hashes shortened."""
    names = names or {}
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(value_text(key, v, names, action) for v in value if not _empty(v))
    if isinstance(value, dict):
        return "；".join(
            f"{DETAIL_LABELS.get(k, k)}：{value_text(k, v, names, action)}"
            for k, v in value.items()
            if not _empty(v)
        )
    text = str(value)
    if key in HASH_KEYS and len(text) > 16:
        return text[:16] + "…"
    if key == "template" and "@" in text:  # "legality-review-opinion@2"
        template, _, version = text.rpartition("@")
        return f"{names.get(template, template)} 第{version}版"
    if key == "step_id":
        return f"第{text}号"
    if key in CODE_KEYS:
        family = FAMILY_VALUE_LABELS.get(action.split(".", 1)[0], {})
        return family.get(text) or VALUE_LABELS.get(text, text)
    if key in {"step", "template"}:
        return names.get(text) or VALUE_LABELS.get(text, text)
    return text


def detail_text(
    detail: Mapping[str, Any] | None, names: Mapping[str, str] | None = None, action: str = ""
) -> str:
    """The detail of an entry as one line: "途径：网页；检索词：合同"; empty values left out,
    keys without a label shown as "其他"; `action` (the entry's) reads its family's codes."""
    parts = []
    for key, value in (detail or {}).items():
        if _empty(value):
            continue
        shown = value_text(key, value, names, action)
        if shown:
            parts.append(f"{DETAIL_LABELS.get(key, '其他')}：{shown}")
    return "；".join(parts)


def store_names(catalog, session) -> dict[str, str]:
    """The store's own codes an entry's detail may hold, by name: each template id by its
    title and each review step by its label (from the latest version of every template)."""
    names: dict[str, str] = {}
    for row in catalog.latest_versions(session):
        tpl = catalog.load(row)
        names[row.template_id] = tpl.title
        names.update({step.name: step.label for step in tpl.schema.review_chain})
    return names


def entry_line(entry, names: Mapping[str, str] | None = None, when: str = "") -> str:
    """One entry as one line for a terminal: 序号 时间 用户 操作 对象 详情."""
    parts = [f"{entry.seq:>6}", when, entry.actor or "—", action_label(entry.action)]
    parts.append(object_label(entry.object_type, entry.object_id, names))
    parts.append(detail_text(entry.detail, names, entry.action))
    return "  ".join(p for p in parts if p)
