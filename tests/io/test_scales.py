"""Reading each sector's grades as people write them (issue #16 §1–2): every spelling in the data, the
road scale exactly as parse_grade, MCI for pavement, Japanese errors naming the scale."""

from __future__ import annotations

import pytest

from gunmane.io.values.parsing import InvalidValue, parse_grade
from gunmane.io.values.scales import parse_scale_grade, read_scale_value, scale, scales
from tests.io.test_values import GRADE_ERRORS, GRADE_OK


def _read(raw: object, sid: str) -> int | str | None:
    try:
        return parse_scale_grade(raw, scale(sid)).value
    except InvalidValue as e:
        return e.code


def test_every_spelling_in_the_data_parses_to_its_grade() -> None:
    n = 0
    for s in scales().values():
        for g in s.grades:
            assert g.spellings, f"{s.id} {g.label}: list the spellings people write"
            for sp in (*g.spellings, g.label):
                assert parse_scale_grade(sp, s).value == g.index, (s.id, sp)
                n += 1
    assert n > 100


@pytest.mark.parametrize("raw", [r for r, _ in GRADE_OK] + [r for r, _ in GRADE_ERRORS], ids=repr)
def test_the_road_scale_reads_exactly_what_parse_grade_reads(raw: object) -> None:
    try:
        expected: object = parse_grade(raw)
    except InvalidValue as e:
        expected = e.code
    try:
        got: object = parse_scale_grade(raw, scale("I-IV"))
    except InvalidValue as e:
        got = e.code
    assert got == expected


def test_the_issues_examples_import_as_themselves() -> None:
    park, sewer, pave = scale("park-AD"), scale("sewer-urg"), scale("pave-3")
    for raw in ("健全度C", "C", "ｃ", "Ｃ", "C判定", " c "):
        assert park.label(parse_scale_grade(raw, park).value or 0) == "C", raw
    for raw in ("緊急度Ⅱ", "Ⅱ", "II", "2", "２", "緊急度２", "中度"):
        assert sewer.label(parse_scale_grade(raw, sewer).value or 0) == "緊急度Ⅱ", raw
    r = read_scale_value("MCI 3.5", pave)
    assert r.value is not None and r.value.measured == 3.5 and pave.label(r.value.grade) == "Ⅱ"
    assert r.warning_code == "measured_binned" and "MCI 3.5" in (r.warning_ja or "")
    assert read_scale_value("3.5", pave).value == r.value
    assert read_scale_value("ＭＣＩ＝７", pave).value.measured == 7.0  # type: ignore[union-attr]
    # An integer that is a 診断区分 is the 区分, not an MCI; 「Ⅲ-1」「Ⅲ-2」 are Ⅲ.
    assert read_scale_value("2", pave).value.measured is None  # type: ignore[union-attr]
    assert read_scale_value("2.0", pave).value == read_scale_value(2.0, pave, as_measured=True).value
    assert read_scale_value("2.0", pave).value.measured == 2.0  # type: ignore[union-attr]
    assert pave.label(parse_scale_grade(2.0, pave).value or 0) == "Ⅱ"  # Excel's 2.0 in a 区分 column
    assert parse_scale_grade("Ⅲ-1", pave).value == parse_scale_grade("III－2", pave).value == 3
    # The same letter means opposite things on different scales: the facility type decides.
    assert _read("A", "park-AD") == 1 and _read("A", "sabo-CBA") == 3 and _read("A", "coast-DA") == 4


def test_unknown_is_none_on_every_scale() -> None:
    for s in scales().values():
        for raw in ("", None, "不明", "－", float("nan")):
            assert parse_scale_grade(raw, s).value is None


@pytest.mark.parametrize(("raw", "sid", "code", "message"), [
    ("E", "park-AD", "grade_out_of_range", "公園施設の健全度は A〜D で書いてください（「E」は読めません）"),
    ("2", "park-AD", "not_a_grade", "公園施設の健全度は A〜D で書いてください（「2」は読めません）"),
    ("良好", "park-AD", "not_a_grade", "「良好」は読めません"),
    ("B→C", "park-AD", "not_a_grade", "複数書かれている"),
    ("緊急度Ⅳ", "sewer-urg", "grade_out_of_range", "下水道管路の緊急度は 緊急度Ⅰ〜Ⅲ"),
    ("Ⅳ", "pave-3", "grade_out_of_range", "舗装の診断区分は Ⅰ〜Ⅲ"),
    ("MCI 12", "pave-3", "measured_out_of_range", "MCIは 0〜10 の数値です（「MCI 12」は範囲外です）"),
    ("MCI", "pave-3", "not_a_grade", "「MCI」は読めません"),
    ("e", "river-ad", "grade_out_of_range", "河川管理施設の点検評価は a〜d"),
    ("6", "sewer-hi", "grade_out_of_range", "下水道設備の健全度は 5〜1"),
    ("A", "water-age", "not_graded", "水道管路には点検の判定区分がありません"),
])
def test_bad_values_give_a_japanese_error_naming_the_scale(raw: str, sid: str, code: str, message: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_scale_grade(raw, scale(sid))
    assert info.value.code == code
    assert message in info.value.message_ja
