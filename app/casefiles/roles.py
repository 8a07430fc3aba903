"""材料类别: what an item is in a case file (the dossier of a major decision and others).

A module without imports: template schemas name the role their documents get when filed
(`document_type.casefile_role`) and are parsed before any model is loaded."""

ROLES = {
    "draft-decision": "决策草案",
    "background": "起草说明及背景材料",
    "expert-opinion": "专家论证意见",
    "public-comment": "公众意见",
    "risk-assessment": "风险评估报告",
    "legality-review": "合法性审查意见",
    "minutes": "会议纪要",
    "decision": "决定",
    "risk-notice": "法律风险提示函",
    "reply": "反馈（回复）",
    "contract": "合同",
    "other": "其他材料",
}
