"""The role table: what each role may do, and over which units, as data.

docs/security.md shows `render_markdown()`; tests/test_role_table.py checks the document against
it and checks `can()` against every cell, so the table, the docs and the policy cannot drift.
A grant is held in one unit (called 本单位 here); "下级单位" are the units below it.
"""

from __future__ import annotations

from app.identity.models import ROLE_LABELS

# the scope of a right: where it holds, seen from the unit of the grant
NO, YES = "no", "yes"  # for rights that are not about a unit
UNIT = "unit"  # the unit of the grant
SUBTREE = "subtree"  # the unit of the grant and every unit below it
PRECEDENT = "precedent"  # the unit's issued documents of precedent types (opinions, notices)
OWN = "own"  # only what the user created (their own drafts and case files)
ASSIGNED = "assigned"  # only the matters assigned to the user (法律事务)

SCOPE_LABELS = {
    NO: "—",
    YES: "可以",
    UNIT: "本单位",
    SUBTREE: "本单位及下级单位",
    PRECEDENT: "本单位的合法性审查意见书、法律风险提示函",
    OWN: "本人起草或建立的",
    ASSIGNED: "指派本人承办的",
}

CAPABILITIES = {
    "document.read": "阅读已发文书",
    "draft.create": "起草文书",
    "draft.review": "审核、把关、签发",
    "draft.issue": "发文（编号并以单位名义发出）",
    "draft.restrict": "限定知悉范围",
    "casefile.create": "建立案卷",
    "casefile.read": "阅读案卷",
    "contract.register": "聘任合同台账",
    "document.correct": "起草更正文书（替代原文书）",
    "document.revoke": "撤销文书（负责人与签发人共同决定）",
    "normative.register": "规范性文件登记簿",
    "normative.edit": "规范性文件统一登记、编号及公布备案",
    "archive.compliance": "合规检查",
    "archive.checks": "四性检测",
    "audit.read": "审计日志",
    "user.manage": "管理单位、用户和模板",
    "matter.read": "阅读法律事务",
    "matter.create": "登记法律事务",
    "matter.assign": "指派、办结、退回法律事务，申请或决定调配",
    "matter.handle": "承办法律事务（接受或拒绝指派、承办记录、反馈）",
    "decision_list.manage": "维护决策事项清单",
    "pool.read": "查阅法律顾问人才库",
    "pool.manage": "管理人才库、登记合同备案",
    "filing.submit": "报送合同备案",
    "service.record": "登记服务记录",
    "assessment.conduct": "年度考核评议",
    "assessment.sign": "确认考核结果",
    "supervision.dashboard": "督导考核看板与季度排名",
}

ROLE_TABLE: dict[str, dict[str, str]] = {
    "clerk": {
        "document.read": UNIT, "draft.create": UNIT, "draft.review": NO, "draft.issue": UNIT,
        "draft.restrict": OWN, "casefile.create": UNIT, "casefile.read": UNIT,
        "contract.register": YES, "archive.compliance": NO, "archive.checks": NO,
        "document.correct": UNIT, "document.revoke": NO, "normative.register": YES, "normative.edit": UNIT,
        "audit.read": NO, "user.manage": NO,
        "matter.read": UNIT, "matter.create": UNIT, "matter.assign": NO, "matter.handle": NO, "decision_list.manage": NO,
        "pool.read": YES, "pool.manage": NO, "filing.submit": UNIT, "service.record": UNIT,
        "assessment.conduct": NO, "assessment.sign": NO, "supervision.dashboard": NO,
    },
    "adviser": {
        "document.read": PRECEDENT, "draft.create": UNIT, "draft.review": UNIT, "draft.issue": NO,
        "draft.restrict": OWN, "casefile.create": UNIT, "casefile.read": OWN,
        "contract.register": NO, "archive.compliance": NO, "archive.checks": NO,
        "document.correct": PRECEDENT, "document.revoke": NO, "normative.register": NO, "normative.edit": NO,
        "audit.read": NO, "user.manage": NO,
        "matter.read": ASSIGNED, "matter.create": NO, "matter.assign": NO, "matter.handle": ASSIGNED, "decision_list.manage": NO,
        "pool.read": NO, "pool.manage": NO, "filing.submit": NO, "service.record": UNIT,
        "assessment.conduct": NO, "assessment.sign": NO, "supervision.dashboard": NO,
    },
    "public-lawyer": {
        "document.read": PRECEDENT, "draft.create": UNIT, "draft.review": UNIT, "draft.issue": NO,
        "draft.restrict": OWN, "casefile.create": UNIT, "casefile.read": OWN,
        "contract.register": NO, "archive.compliance": NO, "archive.checks": NO,
        "document.correct": PRECEDENT, "document.revoke": NO, "normative.register": NO, "normative.edit": NO,
        "audit.read": NO, "user.manage": NO,
        "matter.read": ASSIGNED, "matter.create": NO, "matter.assign": NO, "matter.handle": ASSIGNED, "decision_list.manage": NO,
        "pool.read": NO, "pool.manage": NO, "filing.submit": NO, "service.record": UNIT,
        "assessment.conduct": NO, "assessment.sign": NO, "supervision.dashboard": NO,
    },
    "office-head": {
        "document.read": SUBTREE, "draft.create": UNIT, "draft.review": UNIT, "draft.issue": UNIT,
        "draft.restrict": UNIT, "casefile.create": SUBTREE, "casefile.read": SUBTREE,
        "contract.register": YES, "archive.compliance": YES, "archive.checks": NO,
        "document.correct": UNIT, "document.revoke": UNIT, "normative.register": YES, "normative.edit": UNIT,
        "audit.read": NO, "user.manage": NO,
        "matter.read": SUBTREE, "matter.create": SUBTREE, "matter.assign": UNIT, "matter.handle": NO, "decision_list.manage": UNIT,
        "pool.read": YES, "pool.manage": NO, "filing.submit": SUBTREE, "service.record": SUBTREE,
        "assessment.conduct": UNIT, "assessment.sign": NO, "supervision.dashboard": NO,
    },
    "signatory": {
        "document.read": UNIT, "draft.create": NO, "draft.review": UNIT, "draft.issue": NO,
        "draft.restrict": NO, "casefile.create": NO, "casefile.read": UNIT,
        "contract.register": YES, "archive.compliance": NO, "archive.checks": NO,
        "document.correct": NO, "document.revoke": UNIT, "normative.register": YES, "normative.edit": NO,
        "audit.read": NO, "user.manage": NO,
        "matter.read": UNIT, "matter.create": NO, "matter.assign": NO, "matter.handle": NO, "decision_list.manage": NO,
        "pool.read": YES, "pool.manage": NO, "filing.submit": NO, "service.record": NO,
        "assessment.conduct": NO, "assessment.sign": UNIT, "supervision.dashboard": NO,
    },
    "inspector": {
        "document.read": SUBTREE, "draft.create": NO, "draft.review": NO, "draft.issue": NO,
        "draft.restrict": NO, "casefile.create": NO, "casefile.read": SUBTREE,
        "contract.register": YES, "archive.compliance": YES, "archive.checks": YES,
        "document.correct": NO, "document.revoke": NO, "normative.register": YES, "normative.edit": NO,
        "audit.read": YES, "user.manage": NO,
        "matter.read": SUBTREE, "matter.create": NO, "matter.assign": NO, "matter.handle": NO, "decision_list.manage": NO,
        "pool.read": YES, "pool.manage": SUBTREE, "filing.submit": NO, "service.record": NO,
        "assessment.conduct": NO, "assessment.sign": NO, "supervision.dashboard": YES,
    },
    "admin": {
        "document.read": NO, "draft.create": NO, "draft.review": NO, "draft.issue": NO,
        "draft.restrict": NO, "casefile.create": NO, "casefile.read": NO,
        "contract.register": NO, "archive.compliance": NO, "archive.checks": YES,
        "document.correct": NO, "document.revoke": NO, "normative.register": NO, "normative.edit": NO,
        "audit.read": YES, "user.manage": YES,
        "matter.read": NO, "matter.create": NO, "matter.assign": NO, "matter.handle": NO, "decision_list.manage": NO,
        "pool.read": NO, "pool.manage": NO, "filing.submit": NO, "service.record": NO,
        "assessment.conduct": NO, "assessment.sign": NO, "supervision.dashboard": NO,
    },
}  # fmt: skip

NOTES = (
    "Everyone reads the documents they drafted, reviewed, co-signed (会签) or issued, and the "
    "case files they created, wherever those are.",
    "知悉范围 wins over every cell: a restricted document is read only by the users named on it "
    "and those who acted on it; a disabled user reads nothing.",
    "The steps of a review chain are filled by the role each step names, in the draft's unit "
    "(or a co-signing unit); the drafter never approves their own draft, and one person fills "
    "at most one step.",
    "A public lawyer or adviser holding a matter (法律事务), of their unit or deployed (调配) from "
    "another, reads that matter's documents and case file while it is assigned, in hand or "
    "reported, and nothing else of its unit; a deployment is decided by the office head of the "
    "unit it was asked of, who with the head of the lawyer's unit also reads the matter.",
    "A public lawyer's or adviser's licence profile (执业信息: licence, phone, specialties) is "
    "kept by that person or by an administrator; users who handle no matters have none.",
    "The adviser pool (人才库) a unit reads is the one kept at or above it; inspectors (the "
    "justice bureau's and the rule-of-law office's supervisors) keep the pools, register the "
    "contract filings and see the work records, assessments and ranking of their subtree.",
)


def render_markdown() -> str:
    """The role table as docs/security.md shows it (capabilities down, roles across)."""
    roles = list(ROLE_TABLE)
    head = "| | " + " | ".join(f"{ROLE_LABELS[r]} ({r})" for r in roles) + " |"
    lines = [head, "|---" * (len(roles) + 1) + "|"]
    for cap, label in CAPABILITIES.items():
        cells = [SCOPE_LABELS[ROLE_TABLE[r][cap]] for r in roles]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {note}" for note in NOTES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
