"""Normalisation and query syntax: pure functions, no index."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.search import QuerySyntaxError
from app.search.normalize import fold, fold_with_offsets, grams, query_grams
from app.search.query import parse_query as parse_bare
from app.templating import doctypes, parse_schema

SHIPPED = Path(__file__).resolve().parents[2] / "doc_templates"
# The registry of the built-in templates, as the container passes it to the search backend.
NAMES = doctypes.build(
    (p.parent.name, parse_schema(p.read_bytes(), p.parent.name).document_type)
    for p in SHIPPED.glob("*/schema.yaml")
).names


def parse_query(text: str):
    return parse_bare(text, NAMES)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("〔2026〕12号", "[2026]12号"),
        ("〔2026〕12号", "【2026】12号"),
        ("〔2026〕12号", "（2026）12号"),
        ("〔2026〕12号", "(2026)12号"),
        ("１２号", "12号"),
        ("ＡＢＣ", "abc"),
        ("Legal OPINION", "legal opinion"),
        ("審查機關", "审查机关"),
        ("发　文", "发 文"),  # ideographic space
    ],
)
def test_fold_equivalences(a, b):
    assert fold(a) == fold(b)


def test_fold_keeps_quotation_brackets_distinct():
    assert fold("「通知」") != fold("(通知)")


# Ctrl-F semantics rests on fold being a homomorphism: a substring of the raw text
# folds to a substring of the folded text.
@given(st.text(max_size=30), st.text(max_size=30))
def test_fold_is_a_homomorphism(a, b):
    assert fold(a + b) == fold(a) + fold(b)


@given(st.text(max_size=40))
def test_offsets_point_at_source_characters(text):
    folded, origin = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(origin) == len(folded)
    for j, i in enumerate(origin):
        assert folded[j] in fold(text[i])


def test_grams_skip_spaces_and_cover_every_pair():
    g = grams(fold("狮山 大道12号"))
    assert {"狮山", "大道", "道1", "12", "2号", "狮", "号"} <= g
    assert not any(" " in x for x in g)
    assert query_grams("山大") == ["山大"]
    assert query_grams("a") == ["a"]


def test_query_syntax():
    pq = parse_query(
        '狮山 "法律 顾问" 审查 OR 审核 -撤销 title:意见书 type:risk-notice year:2020-2022'
    )
    assert [tuple(t.text for t in g) for g in pq.must] == [
        ("狮山",),
        ("法律 顾问",),
        ("审查", "审核"),
        ("意见书",),
    ]
    assert pq.must[3][0].field == "title"
    assert [t.text for t in pq.must_not] == ["撤销"]
    assert pq.doc_types == {"risk-notice"}
    assert (pq.year_from, pq.year_to) == (2020, 2022)


def test_query_syntax_full_width_and_unknown_fields():
    pq = parse_query("“狮山 大道” －撤销 类型：委托公函 12:30")
    assert [g[0].text for g in pq.must] == ["狮山 大道", "12:30"]
    assert [t.text for t in pq.must_not] == ["撤销"]
    assert pq.doc_types == {"commission-letter"}
    for label in ("附件", "附件材料", "案卷材料"):  # as the facet shows it
        assert parse_query(f"类型:{label} 狮山").doc_types == {"attachment"}


@pytest.mark.parametrize(
    ("name", "search_type"),
    [
        ("合法性审查意见书", "legality-review-opinion"),
        ("审查意见书", "legality-review-opinion"),
        ("legality-review-opinion", "legality-review-opinion"),
        ("法律风险提示函", "risk-notice"),
        ("风险提示函", "risk-notice"),
        ("委托公函", "commission-letter"),
        ("法律顾问聘任合同", "engagement-contract"),
        ("聘任合同", "engagement-contract"),
    ],
)
def test_type_names_come_from_the_template_schemas(name, search_type):
    assert parse_query(f"类型:{name}").doc_types == {search_type}


def test_without_a_registry_a_type_is_taken_as_it_stands():
    assert parse_bare("type:memo").doc_types == {"memo"}


def test_query_syntax_errors_are_expected_values():
    with pytest.raises(QuerySyntaxError):
        parse_query("year:twenty")
    with pytest.raises(QuerySyntaxError, match="合法性审查意见书"):  # offers the labels
        parse_query("type:nonsense")
