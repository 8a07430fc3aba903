"""Factories and a shared small index for the search tests (real Whoosh, in tmp dirs)."""

from __future__ import annotations

import datetime
import random

import pytest

from app.search import IndexDoc, SearchScope, get_backend

PHRASES = [
    "经审查，该决策事项的主体、权限、内容、程序符合法律规定",
    "建议对第三条第二款进行修改后提交审议",
    "狮山大道综合改造项目合作协议",
    "国有土地上房屋征收补偿方案",
    "法律顾问应当在五个工作日内出具书面意见",
    "公职律师依法代理本单位参加行政诉讼",
    "请于收到本函之日起十五日内书面回复",
    "行政执法公示制度、执法全过程记录制度",
    "Legal Opinion on the PPP Contract",
    "案号：（2024）云01行初123号",
    "金额为人民币1120000元",
    "審查機關依法作出決定",
]
UNITS = [("WDSFJ", "武定县司法局"), ("WDZF", "武定县人民政府"), ("LFZJ", "禄丰市住房和城乡建设局")]
REVIEWERS = ["张三", "李四", "王五", "赵六"]
TYPES = ["legality-review-opinion", "risk-notice", "commission-letter", "engagement-contract"]


def make_doc(i: int, **overrides) -> IndexDoc:
    """A small but realistic issued document; deterministic in *i*."""
    rng = random.Random(i)
    unit_code, unit_name = UNITS[i % len(UNITS)]
    year = 2019 + i % 7
    body = "\n".join(rng.sample(PHRASES, 3)) + f"\n第{rng.randint(1, 300)}号事项。"
    fields = dict(
        doc_id=f"d{i}",
        number=f"武政法审〔{year}〕{i}号",
        title=f"关于第{i}项事项的合法性审查意见书",
        doc_type=TYPES[i % len(TYPES)],
        unit_code=unit_code,
        unit_name=unit_name,
        issued_on=datetime.date(year, 1 + i % 12, 1 + i % 28),
        body=body,
        reviewers=tuple(rng.sample(REVIEWERS, 2)),
        signatory="孙七",
        conclusion=["合法", "修改后合法", "不合法"][i % 3] if i % 4 == 0 else "",
        status="issued",
        content_hash=f"h{i}",
    )
    fields.update(overrides)
    return IndexDoc(**fields)


ALL = SearchScope(units=None, user_id=None)


@pytest.fixture
def backend(tmp_path):
    b = get_backend(tmp_path / "index")
    yield b
    b.close()


@pytest.fixture(scope="module")
def corpus():
    return [make_doc(i) for i in range(120)]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, corpus):
    """One index of `corpus`, shared by the read-only tests of a module."""
    b = get_backend(tmp_path_factory.mktemp("shared") / "index")
    b.index(corpus[:60])
    b.index(corpus[60:])  # two segments, like a live index
    yield b
    b.close()
