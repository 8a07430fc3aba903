"""Realistic, deterministic corpus of issued documents for search benchmarks and tests.

Vocabulary comes from the public policy texts in shared/policy-texts (sentences picked
with a Zipf-like spread, so a few are everywhere and most are rare) and from the shapes
of the four core documents; 60 units in 6 counties, ten years of dates, real number
formats (武政法审〔2026〕12号) and court case numbers （2026）云01行初123号.  About 3% of
bodies are in traditional characters, some write numbers in full-width digits, 2% are
restricted to named users.

    from bench.corpus import generate
    docs = list(generate(10_000, seed=7))      # IndexDoc objects, same every run

Run as a script to print a sample:  python -m bench.corpus 3
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import os
import random
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from app.search.backend import IndexDoc

POLICY_DIRS = [
    *(
        [Path(os.environ["CASEFILE_POLICY_TEXTS"])]
        if os.environ.get("CASEFILE_POLICY_TEXTS")
        else []
    ),
    Path(__file__).resolve().parents[2] / "shared" / "policy-texts",
    Path("/work/shared/policy-texts"),
]

# Used when the policy texts are not beside the repository (CI without shared/).
_FALLBACK = """各县（区）人民政府，市直各委、办、局：为贯彻落实关于推行法律顾问制度和公职律师公司律师制度的意见，进一步加强政府法律顾问工作，深入推进依法行政，全面建设法治政府。
重大行政决策事项应当经过合法性审查，未经合法性审查或者经审查不合法的，不得提交会议讨论。
法律顾问应当在规定期限内出具书面法律意见，对决策事项的主体、权限、内容、程序进行审查。
规范性文件实行统一登记、统一编号、统一公布制度，起草单位应当进行公平竞争审查。
法律顾问室对合同的主体资格、权利义务、违约责任、争议解决条款提出修改建议。
公职律师依法代理本单位参加行政诉讼、行政复议、仲裁等法律事务，维护国家利益和社会公共利益。
各单位应当于每年6月30日和12月20日前报送法律顾问工作情况半年报告。
对法律顾问实行年度考核，考核结果作为续聘、解聘和支付报酬的依据。
落实重大行政决策公众参与、专家论证、风险评估、合法性审查、集体讨论决定等法定程序。
加强行政执法监督，全面推行行政执法公示制度、执法全过程记录制度、重大执法决定法制审核制度。"""

COUNTIES = [
    ("武定县", "武", "云", "23"),
    ("禄丰市", "禄", "云", "23"),
    ("城固县", "城", "陕", "07"),
    ("开封市", "汴", "豫", "02"),
    ("狮山区", "狮", "粤", "06"),
    ("大姚县", "姚", "云", "23"),
]
DEPARTMENTS = [
    ("人民政府", "政", "RMZF"),
    ("人民政府办公室", "政办", "ZFB"),
    ("司法局", "司", "SFJ"),
    ("自然资源局", "自然资", "ZRZY"),
    ("住房和城乡建设局", "住建", "ZJJ"),
    ("生态环境局", "环", "STHJ"),
    ("市场监督管理局", "市监", "SJJ"),
    ("财政局", "财", "CZJ"),
    ("教育体育局", "教体", "JTJ"),
    ("卫生健康局", "卫健", "WJJ"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉文斌波宁琳晶欣怡浩然子涵雨轩梓萱诗涵宇航俊杰思远嘉豪晓东海燕凤兰"
COMPANY_WORDS = [
    "建设工程",
    "房地产开发",
    "环保科技",
    "交通投资",
    "城市建设投资",
    "水务",
    "矿业",
    "农业开发",
    "物业服务",
    "信息技术",
]
CAUSES = [
    "行政许可",
    "房屋征收补偿",
    "政府信息公开",
    "行政处罚",
    "行政协议",
    "土地使用权出让合同纠纷",
    "工伤认定",
    "建设工程施工合同纠纷",
]
COURT_CODES = ["行初", "行终", "民初", "民终", "行审"]
DOC_TYPE_WEIGHTS = [
    ("legality-review-opinion", 40),
    ("risk-notice", 20),
    ("commission-letter", 18),
    ("engagement-contract", 12),
    ("attachment", 10),
]
CONCLUSIONS = [("合法", 55), ("修改后合法", 35), ("不合法", 10)]
YEARS = list(range(2017, 2027))
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _policy_sentences() -> list[str]:
    texts = []
    for d in POLICY_DIRS:
        if d.is_dir():
            for p in sorted(d.glob("*.txt")):
                if p.name.startswith("003_"):  # broken encoding, kept for reference only
                    continue
                texts.append(p.read_text("utf-8", errors="ignore"))
            if texts:
                break
    text = "\n".join(texts) or _FALLBACK
    text = text.replace("\ufffd", "")
    parts = re.split(r"(?<=[。；！？])|\n+", text)
    out = []
    seen = set()
    for s in parts:
        s = " ".join(s.split())
        han = sum(1 for c in s if "\u4e00" <= c <= "\u9fff")
        if 8 <= len(s) <= 160 and han >= 0.6 * len(s) and s not in seen:
            seen.add(s)
            out.append(s)
    return out


class _Zipf:
    """Picks items with weight 1/rank**s after a seeded shuffle."""

    def __init__(self, items: list, s: float, rng: random.Random):
        self.items = list(items)
        rng.shuffle(self.items)
        self.cum = list(accumulate(1.0 / (r**s) for r in range(1, len(self.items) + 1)))

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


class _World:
    def __init__(self, seed: int):
        rng = random.Random(seed)
        sentences = _policy_sentences()
        self.sentences = _Zipf(sentences, 1.05, rng)
        clauses = sorted(
            {
                c.strip()
                for s in sentences
                for c in re.split(r"[，,；;：:。]", s)
                if 4 <= len(c.strip()) <= 40
            }
        )
        self.clauses = _Zipf(clauses, 0.9, rng)
        self.units = []
        for county, short, prov, _ in COUNTIES:
            for dept, code, ucode in DEPARTMENTS:
                unit_code = f"{ucode}-{short}"
                name = county + dept
                self.units.append((unit_code, name, short + code, prov, county))
        self.unit_pick = _Zipf(self.units, 0.8, rng)
        names = set()
        while len(names) < 160:
            names.add(
                rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            )
        self.people = sorted(names)
        self.unit_reviewers = {u[0]: rng.sample(self.people, rng.randint(3, 6)) for u in self.units}
        self.unit_leaders = {u[0]: rng.choice(self.people) for u in self.units}
        self.companies = [
            f"{rng.choice(COUNTIES)[0][:-1]}{rng.choice('鑫源盛达恒通宏远华泰')}{rng.choice('鑫源盛达恒通宏远华泰')}{rng.choice(COMPANY_WORDS)}有限公司"
            for _ in range(300)
        ]
        self.company_pick = _Zipf(self.companies, 1.0, rng)


@lru_cache(maxsize=4)
def _world(seed: int) -> _World:
    return _World(seed)


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def _weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _date(rng: random.Random) -> datetime.date:
    start = datetime.date(YEARS[0], 1, 1).toordinal()
    end = datetime.date(YEARS[-1], 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(start, end))


def _cn_date(d: datetime.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _paragraphs(w: _World, rng: random.Random, n_chars: int) -> list[str]:
    paras, cur, size = [], [], 0
    while size < n_chars:
        if rng.random() < 0.4:
            s = w.sentences(rng)
        else:  # recombined clauses: realistic words, document-specific sentences
            s = "，".join(w.clauses(rng) for _ in range(rng.randint(2, 4))) + "。"
        cur.append(s)
        size += len(s)
        if len(cur) >= rng.randint(2, 5):
            paras.append("".join(cur))
            cur = []
    if cur:
        paras.append("".join(cur))
    return paras


def make_doc(i: int, seed: int = 7) -> IndexDoc:
    """Document number *i* of the corpus for *seed* (independent of every other i)."""
    w = _world(seed)
    rng = random.Random(seed * 1_000_003 + i)
    doc_type = _weighted(rng, DOC_TYPE_WEIGHTS)
    unit_code, unit_name, num_code, prov, county = w.unit_pick(rng)
    issued = _date(rng)
    seq = rng.randint(1, 240)
    reviewers = tuple(rng.sample(w.unit_reviewers[unit_code], rng.choice((1, 2, 2, 3))))
    signatory = w.unit_leaders[unit_code]
    parties: tuple[str, ...] = ()
    case_files: tuple[str, ...] = ()
    conclusion = ""
    addressee = ""
    body_len = rng.choice((600, 900, 1200, 1500, 2000, 2600))
    filler = _paragraphs(w, rng, body_len)
    case_no = f"（{issued.year}）{prov}{rng.randint(1, 12):02d}{rng.choice(COURT_CODES)}{rng.randint(1, 999)}号"
    company = w.company_pick(rng)
    if doc_type == "legality-review-opinion":
        number = f"{num_code}法审〔{issued.year}〕{seq}号"
        item = rng.choice(
            [
                "关于加强城市道路管理的规定",
                "国有土地上房屋征收补偿方案",
                "狮山大道综合改造项目合作协议",
                "行政执法公示办法",
                "政府购买服务合同",
                "农村集体经营性建设用地入市实施办法",
            ]
        )
        title = f"关于《{item}》的合法性审查意见书"
        conclusion = _weighted(rng, CONCLUSIONS)
        addressee = county + rng.choice(DEPARTMENTS)[0]
        head = [
            f"{addressee}：",
            f"你单位于{_cn_date(issued - datetime.timedelta(days=rng.randint(3, 20)))}送来的《{item}》收悉。根据《重大行政决策程序暂行条例》等规定，现提出合法性审查意见如下：",
            "一、审查依据",
            "二、审查内容：对决策事项的主体、权限、内容、程序和形式进行审查。",
            f"三、审查结论：{conclusion}。"
            + ("建议按以下意见修改后提交审议：" if conclusion == "修改后合法" else ""),
        ]
        tail = [
            f"（{k}）{s}"
            for k, s in zip("一二三", (w.sentences(rng) for _ in range(3)), strict=False)
        ]
        body_parts = head + filler + tail
        case_files = (f"{unit_name[:-1]}重大决策卷〔{issued.year}〕{rng.randint(1, 40)}",)
    elif doc_type == "risk-notice":
        number = f"{num_code}法风〔{issued.year}〕{seq}号"
        title = f"关于{rng.choice(['合同履约', '征地拆迁', '行政执法程序', '政府信息公开', '招商引资协议'])}的法律风险提示函"
        addressee = county + rng.choice(DEPARTMENTS)[0]
        body_parts = [
            f"{addressee}：",
            "经法律顾问审查，发现以下法律风险：",
            *filler,
            f"风险等级：{rng.choice('高中低')}。请于{_cn_date(issued + datetime.timedelta(days=15))}前书面回复。",
        ]
    elif doc_type == "commission-letter":
        number = f"{num_code}委〔{issued.year}〕{seq}号"
        court = f"{county}人民法院"
        lawyer = rng.choice(w.people)
        licence = "".join(str(rng.randint(0, 9)) for _ in range(17))
        cause = rng.choice(CAUSES)
        parties = (unit_name, company)
        title = f"关于{cause}一案的委托公函"
        addressee = court
        body_parts = [
            f"{court}：",
            f"我单位与{company}{cause}一案（案号：{case_no}），现委托我单位公职律师{lawyer}（公职律师证号：{licence}）作为诉讼代理人，代理权限为{rng.choice(['一般代理', '特别授权'])}。",
            *filler[:2],
        ]
        case_files = (case_no,)
    elif doc_type == "engagement-contract":
        number = f"{num_code}聘〔{issued.year}〕{seq}号"
        firm = rng.choice(w.people)[0] + rng.choice(["信", "正", "明", "德"]) + "律师事务所"
        parties = (unit_name, firm)
        title = f"{unit_name}法律顾问聘任合同"
        body_parts = [
            f"甲方（聘任单位）：{unit_name}",
            f"乙方（法律顾问）：{firm}",
            f"聘任期限自{_cn_date(issued)}起至{_cn_date(issued + datetime.timedelta(days=365 * rng.choice((1, 2, 3))))}止。",
            *filler,
            f"年度报酬为人民币{rng.randint(3, 30) * 10000}元，与年度考核结果挂钩。",
        ]
    else:
        number = f"{num_code}附〔{issued.year}〕{seq}号"
        title = rng.choice(
            ["会议纪要", "专家论证意见", "风险评估报告", "公众意见采纳情况说明", "决策草案说明"]
        )
        body_parts = filler
    body = "\n".join(body_parts + [f"{unit_name}", _cn_date(issued)])
    if rng.random() < 0.03:
        body = _s2t().convert(body)
    if rng.random() < 0.05:
        body = body.translate(_FULLWIDTH)
    restricted = (rng.randint(1, 40),) if rng.random() < 0.02 else ()
    status = _weighted(rng, [("issued", 95), ("superseded", 3), ("revoked", 2)])
    return IndexDoc(
        doc_id=f"D{seed}-{i:07d}",
        number=number,
        title=title,
        doc_type=doc_type,
        unit_code=unit_code,
        unit_name=unit_name,
        issued_on=issued,
        body=body,
        case_files=case_files,
        parties=parties,
        addressee=addressee,
        reviewers=reviewers,
        signatory=signatory,
        conclusion=conclusion,
        status=status,
        restricted_to=restricted,
        content_hash=hashlib.sha256(f"{seed}:{i}".encode()).hexdigest(),
    )


def generate(n: int, seed: int = 7, start: int = 0) -> Iterator[IndexDoc]:
    """*n* documents, deterministic for *seed*."""
    for i in range(start, start + n):
        yield make_doc(i, seed)


def units(seed: int = 7) -> list[tuple[str, str]]:
    """(unit_code, unit_name) of every unit in the corpus."""
    return [(u[0], u[1]) for u in _world(seed).units]


if __name__ == "__main__":
    for doc in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
        print(doc.number, doc.title, doc.unit_name, doc.issued_on, doc.reviewers, doc.status)
        print(doc.body[:400], "…\n")
