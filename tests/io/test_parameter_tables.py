"""Parameter tables (#17 §5): one format and one reader for every sourced default.

Every shipped parameter names its source and unit; a malformed row is refused with a Japanese message that
names the file, the row and the column."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from gunmane.engine.effects import ParameterSet
from gunmane.engine.parameters import STATUSES, Parameter
from gunmane.io.shipped.costing import costing_editions, load_costing_edition
from gunmane.io.shipped.lcc import LccParamsError, load_lcc_parameters
from gunmane.io.shipped.parameters import (
    COLUMNS,
    ParameterFileError,
    effects_defaults,
    effects_parameters,
    parse_parameter_table,
)

TABLES = (("effects", "parameters.csv"), ("effects", "unit_costs.csv"), ("lcc", "parameters.csv"))
HEADER = ",".join(COLUMNS)
GOOD = "hazard.I,0.0908,/年,ハザード率,宮城県の推定値,published,"


def shipped_parameters() -> list[Parameter]:
    lcc = load_lcc_parameters()
    out = list(effects_defaults())
    out += [*lcc.params.scalar_parameters(), lcc.hazards.theta_i, lcc.hazards.theta_ii, lcc.hazards.theta_iii,
            *lcc.plan.all()]
    for edition in costing_editions():
        out += load_costing_edition(edition).parameters()
    return out


def test_every_shipped_parameter_has_a_source_and_a_unit() -> None:
    params = shipped_parameters()
    assert len(params) > 200
    for p in params:
        assert p.source.strip(), p.key
        assert p.label_ja.strip() and p.status in STATUSES, p.key
        # a unit, except a choice (a text value) that has none: its row says "-", never blank
        assert p.unit.strip() or isinstance(p.value, str), p.key
        if p.assumption:
            assert "仮定値" in p.source or p.key.startswith("costing."), p.key
    for a in load_lcc_parameters().params.actions:
        assert a.source.strip(), (a.facility_type, a.grade)


@pytest.mark.parametrize(("folder", "name"), TABLES)
def test_shipped_tables_have_every_cell_but_description(folder: str, name: str) -> None:
    text = resources.files("gunmane.data").joinpath(folder, name).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and tuple(rows[0]) == COLUMNS
    for i, row in enumerate(rows, start=2):
        assert all(row[c].strip() for c in COLUMNS if c != "description"), (name, i)


def test_effects_defaults_in_table_order_with_their_types() -> None:
    params = effects_defaults()
    assert len(params) == 183 and params[0].key == "inspection.cycle_years.statutory"
    assert params[-1].key == "unit.repair.other.work_type"  # unit_costs.csv after parameters.csv
    p = effects_parameters()
    assert p["fte.hours_per_year"] == 1860 and isinstance(p["fte.hours_per_year"], int)
    assert p["travel.day_hours"] == 8.0 and isinstance(p["travel.day_hours"], float)
    assert p["tender.failure_curve"][0] == (1_000_000, 0.25) and isinstance(p["tender.failure_curve"][0][0], int)
    assert p["routine.work_type.road"] == "道路維持工事" and p.param("travel.method").unit == ""


def test_the_engine_gets_its_defaults_from_io() -> None:
    with pytest.raises(TypeError, match="effects_parameters"):
        ParameterSet()


def test_values_as_written() -> None:
    table = "\n".join([HEADER, "a,5,年,整数,出典,official,", "b,2.0,倍,小数,出典,assumption,",
                       'c,"1,000,000",円,桁区切り,出典,published,', 'd,"[[1, 0.5], [10, 0.25]]",組,曲線,出典,derived,',
                       "e,ortools,-,選択肢,出典,user,説明"]).encode()
    a, b, c, d, e = parse_parameter_table(table, "t.csv")
    assert (a.value, b.value, c.value, d.value, e.value) == (5, 2.0, 1_000_000, ((1, 0.5), (10, 0.25)), "ortools")
    assert isinstance(a.value, int) and isinstance(b.value, float) and e.unit == "" and e.description == "説明"
    assert b.assumption and not a.assumption and e.status_ja == "利用者の入力"
    assert d.value_text == "1 → 0.5、10 → 0.25" and c.value_text == "1,000,000"
    (f,) = parse_parameter_table(f"{HEADER}\na,5,年,整数,出典,official,".encode(), "t.csv", floats=True)
    assert f.value == 5.0 and isinstance(f.value, float)


@pytest.mark.parametrize(("row", "column", "shown"), [
    ("hazard.II,0.09o8,/年,ハザード率,宮城県の推定値,published,", "value", "「0.09o8」は数値ではありません"),
    ('hazard.II,"[[1, ""a""]]",/年,ハザード率,宮城県の推定値,published,', "value", "JSON 配列"),
    ("hazard.II,0.0908,,ハザード率,宮城県の推定値,published,", "unit", "空欄です（単位のない選択肢は「-」と書きます）"),
    ("hazard.II,0.0908,/年,ハザード率,,published,", "source", "空欄です"),
    ("hazard.II,0.0908,/年,,宮城県の推定値,published,", "label_ja", "空欄です"),
    ("hazard.II,0.0908,/年,ハザード率,宮城県の推定値,公表値,", "status", "official・published・derived・assumption・user"),
    (GOOD, "key", "「hazard.I」は 2行目にもあります"),
])
def test_a_malformed_row_is_named_by_file_row_and_column(row: str, column: str, shown: str) -> None:
    table = f"{HEADER}\n{GOOD}\n{row}\n".encode()
    with pytest.raises(ParameterFileError) as exc:
        parse_parameter_table(table, "gunmane/data/effects/parameters.csv")
    message = exc.value.message_ja
    assert message.startswith(f"gunmane/data/effects/parameters.csv 3行目「{column}」: ") and shown in message
    assert (exc.value.file, exc.value.row, exc.value.column) == ("gunmane/data/effects/parameters.csv", 3, column)


def test_a_malformed_table_is_named_by_file() -> None:
    with pytest.raises(ParameterFileError) as exc:
        parse_parameter_table("key,value,unit,label,source\nx,1,円,x,y\n".encode(), "p.csv")
    assert exc.value.message_ja == "p.csv: 列 label_ja, status, description がありません。"
    with pytest.raises(ParameterFileError) as exc:
        parse_parameter_table(f"{HEADER}\n{GOOD},余分\n".encode(), "p.csv")
    assert "p.csv 2行目: 列の数が見出しより多くあります" in exc.value.message_ja and exc.value.row == 2
    with pytest.raises(ParameterFileError) as exc:
        parse_parameter_table(b"key\n\x81\x7f\n", "p.csv")  # neither UTF-8 nor Shift_JIS
    assert "文字コード" in exc.value.message_ja


def test_a_user_lcc_table_is_refused_as_lcc_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("actions.csv", "parameters.csv"):
        (tmp_path / name).write_bytes(resources.files("gunmane.data").joinpath("lcc", name).read_bytes())
    path = tmp_path / "parameters.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",official,", ",公式,", 1), encoding="utf-8")
    with pytest.raises(LccParamsError) as exc:
        load_lcc_parameters(tmp_path)
    assert f"{path} 2行目「status」" in exc.value.message_ja and (exc.value.row, exc.value.column) == (2, "status")
