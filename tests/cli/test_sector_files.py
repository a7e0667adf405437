"""The files people download show every sector on its own terms (#16): the カルテ PDF's table per inspection scale
with the Excel's figures, the 効果試算 workbook's 分野別 sheet with the JSON's lines per sector, and the sector and
mixed LCC / plan workbooks (each type on its own scale, unit costs with their sources, the budget across sectors),
from the CLI and from the web pages' Excel buttons. One demo load for all of it (the CI budget is tight)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from gunmane.cli import main
from gunmane.io.reports.effects_xlsx import SECTOR_HEADERS, SECTOR_SHEET
from gunmane.io.reports.lcc_xlsx import mixed_plan_xlsx
from gunmane.io.shipped import vocab
from gunmane.web.demo import MULTISECTOR_DEMO
from gunmane.web.groups.models import EffectScenario
from tests import pdf_checks
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "nara-multisector.toml"
GROUP = "group:奈良モデル地域（宇陀市・曽爾村・御杖村・東吉野村）"


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _rows(ws: Worksheet) -> list[tuple[Any, ...]]:
    return [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


def _karte_scale_sheets(path: Path) -> dict[str, tuple[str, list[tuple[str, int]], str]]:
    """Series id → (title, [(grade, facilities)], note) of the カルテ workbook's per-scale sheets."""
    out = {}
    for ws in load_workbook(path).worksheets:
        rows = _rows(ws)
        meta = {r[0]: r[1] for r in rows if r[0] in ("系列ID", "注")}
        if not str(meta.get("系列ID", "")).startswith("grades-"):
            continue
        title = next(r[0] for r in rows if r[0] and not str(r[0]).startswith("【"))
        head = next(i for i, r in enumerate(rows) if r[1] == "施設数")
        out[str(meta["系列ID"])] = (str(title), [(str(r[0]), int(r[1])) for r in rows[head + 1:]], str(meta["注"]))
    return out


def _check_karte(tmp_path: Path) -> None:
    pdf, xlsx = tmp_path / "karte.pdf", tmp_path / "karte.xlsx"
    assert main(["karte", GROUP, "--format", "pdf", "--out", str(pdf)]) == 0
    assert main(["karte", GROUP, "--format", "xlsx", "--out", str(xlsx)]) == 0
    sheets = _karte_scale_sheets(xlsx)
    assert {"grades-park-AD", "grades-sewer-urg", "grades-I-IV"} <= set(sheets)
    text = pdf_checks.text(pdf.read_bytes())
    assert "分野ごとの判定区分（各分野の尺度）" in text and "共通の緊急度区分（分野横断の比較用）" in text
    # the 定義 are never left out: when the 前提 of a scope of several sectors fill page 2 they go on to page 3
    assert len(pdf_checks.reader(pdf.read_bytes()).pages) in (2, 3) and "指標の定義" in text
    lines = [line.strip() for line in text.splitlines()]
    for sid, (title, counts, note) in sheets.items():
        start = _title_end(lines, title, lines.index("分野ごとの判定区分（各分野の尺度）"))  # its title, then the cells
        cells = dict(re.fullmatch(r"(.+) ([\d,]+)", line).groups() for line in lines[start + 1:start + len(counts) + 2])  # type: ignore[union-attr]
        assert [(g, int(cells[g].replace(",", ""))) for g, _ in counts] == counts, sid
        due = next(k for k in cells if k.startswith("措置の目安"))
        assert f"の施設は {int(cells[due].replace(',', '')):,} 件です" in note, sid  # the Excel's note states it
    park = dict(sheets["grades-park-AD"][1])
    assert list(park)[:4] == ["健全度A", "健全度B", "健全度C", "健全度D"] and sum(park.values()) > 0


def _title_end(lines: list[str], title: str, after: int) -> int:
    """The last line of ``title`` in the PDF's text (a long row title wraps onto a second line)."""
    for i in range(after, len(lines)):
        if lines[i] and title.startswith(lines[i]):
            joined, j = lines[i], i
            while len(joined) < len(title) and j + 1 < len(lines):
                j += 1
                joined += lines[j]
            if joined == title:
                return j
    raise ValueError(f"{title} is not in the PDF")


def _check_effects(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    res = _json(capsys, ["effects", str(EXAMPLE), "--format", "json"])
    out = tmp_path / "effects.xlsx"
    assert main(["effects", str(EXAMPLE), "--format", "xlsx", "--out", str(out)]) == 0
    rows = _rows(load_workbook(out)[SECTOR_SHEET])
    head = next(i for i, r in enumerate(rows) if r[0] == "シナリオ")
    assert list(rows[head][2:2 + len(SECTOR_HEADERS)]) == [h for h, _ in SECTOR_HEADERS]
    names = {s.code: s.name for s in vocab.sectors()}
    sheet = {(r[0], r[1]): r for r in rows[head + 1:]}
    runs = [res["baseline"], *res["scenarios"]]
    assert len(sheet) == sum(len(run["sectors"]) + 1 for run in runs)  # every line and each scenario's total
    base = res["baseline"]["sectors"]
    for run in runs:
        for code, line in run["sectors"].items():
            row = sheet[(run["name"], "分野に分けない職員時間" if code == "shared" else names[code])]
            assert row[7] == pytest.approx(line["staff_hours"], abs=0.05)
            if code == "shared":
                continue
            assert row[2] == line["facilities"] and row[3] == pytest.approx(line["contracts"], abs=0.05)
            for col, key in ((4, "direct_cost_yen"), (5, "price_yen"), (6, "overhead_yen")):
                assert row[col] == round(line[key] / 1000), (run["name"], code, key)  # 千円, as the other sheets
            assert row[10] == "・".join(line["work_types"]) and row[11] == "・".join(line["priced_by"])
            if run is not res["baseline"]:
                assert row[8] == round((line["price_yen"] - base[code]["price_yen"]) / 1000)
        total = sheet[(run["name"], "合計")]
        assert total[5] == round(run["totals"]["price_yen"] / 1000)
        assert total[7] == pytest.approx(run["totals"]["staff_hours"], abs=0.05)


def _check_lcc(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    js = _json(capsys, ["lcc", "292125", "--facility-type", "all", "--no-monte-carlo"])
    out = tmp_path / "lcc.xlsx"
    assert main(["lcc", "292125", "--facility-type", "all", "--no-monte-carlo", "--format", "xlsx",
                 "--out", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["概要", *["・".join(r["names"]) for r in js["runs"]]]
    for run in js["runs"]:
        rows = _rows(wb["・".join(run["names"])])
        head = next(i for i, r in enumerate(rows) if r[0] == "戦略")
        for s, row in zip(run["strategies"], rows[head + 1:], strict=False):
            assert row[0] == s["name"] and row[2] == pytest.approx(s["npv_yen"]) and row[3] == pytest.approx(s["total_yen"])
        grades = [h.removesuffix("の施設・年（期待値）") for h in rows[head][6:] if h]
        costs = [r for r in rows if r[0] in run["names"] and isinstance(r[3], int | float)]
        actions = run["parameters"]["actions"]
        assert [(r[3], r[5], r[7], r[8] == "仮定値") for r in costs] == [
            (a["per_m2_yen"], a["fixed_yen"], a["source"], a["assumption"]) for a in actions]
        if run["scale"] == "park-AD":  # the park's own grades, never the road's Ⅰ〜Ⅳ
            assert grades == ["健全度A", "健全度B", "健全度C", "健全度D"]
            assert [r[1] for r in costs] == ["健全度B", "健全度C", "健全度D"] and {r[4] for r in costs} == {"円/基"}
        if run["scale"] == "sewer-urg":
            assert grades[-1] == "緊急度Ⅰ" and {r[4] for r in costs} == {"円/m"}
        if run["scale"] == "I-IV":
            assert grades == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    skipped = {x["facility_type"] for x in js["skipped"]}
    overview = _rows(wb["概要"])
    assert {r[0] for r in overview} >= {"・".join(r["names"]) for r in js["runs"]}
    assert all(any(r[0] == vocab.facility_type(c).name for r in overview) for c in skipped)


def _check_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> dict[str, Any]:
    argv = ["plan", "292125", "--facility-type", "all", "--budget", "3億"]
    js = _json(capsys, argv)
    out = tmp_path / "plan.xlsx"
    assert main([*argv, "--format", "xlsx", "--out", str(out)]) == 0
    wb = load_workbook(out)
    rows = _rows(wb["予算（分野計）"])
    head = next(i for i, r in enumerate(rows) if r[0] == "年度")
    cols = list(rows[head])
    years = {r[0]: dict(zip(cols, r, strict=True)) for r in rows[head + 1:] if isinstance(r[0], int)}
    assert sorted(years) == [y["fiscal_year"] for y in js["total_by_year"]]
    by_type = pd.DataFrame(js["plan"]).dropna(subset=["fiscal_year"]).groupby(["fiscal_year", "facility_type"])["cost_yen"].sum()
    for y in js["total_by_year"]:
        got = years[y["fiscal_year"]]
        assert got["計画の対策費 計(円)"] == pytest.approx(y["plan_yen"])
        assert got["合計（分野計, 円）"] == pytest.approx(y["total_yen"]) and got["年間予算(円)"] == 3e8
        parts = {k: v for k, v in got.items() if k.endswith("の対策費(円)")}
        assert sum(parts.values()) == pytest.approx(y["plan_yen"])
        for code in ("bridge", "play_equipment", "pavement"):
            want = by_type.get((y["fiscal_year"], code), 0.0)
            assert parts[f"{vocab.facility_type(code).name}の対策費(円)"] == pytest.approx(want)
    plan = _rows(wb["対策計画"])
    head = next(i for i, r in enumerate(plan) if r[0] == "施設")
    assert len(plan) - head - 1 == len(js["plan"])
    shown = {(r[2], r[3]) for r in plan[head + 1:]}
    assert ("遊具", "健全度D") in shown and not any(t == "遊具" and g.startswith("Ⅳ") for t, g in shown)
    sources = _rows(wb["単価・出典"])
    assert any(r[0] == "遊具" and r[1] == "健全度D" and r[4] == "円/基" for r in sources)
    assert any(r[0] == "管渠" and r[1] == "緊急度Ⅰ" and r[4] == "円/m" and "124千円" in r[7] for r in sources)
    return js


def _check_renewal_columns() -> None:
    """A plan with a type without grades (水道管路): its renewal need per year, in the budget across sectors."""
    from gunmane.engine.planning.renewal import renewal_line
    from gunmane.engine.survival import WeibullModel
    from gunmane.io.shipped.lcc import load_lcc_parameters
    from gunmane.web.analysis import lifecycle, services

    r = load_lcc_parameters().sectors.renewal("water_pipe")
    assert r is not None
    result, _ = lifecycle.mixed_plan_for_scope(services.resolve_scope("292125"), ("pavement",), budget_yen=1e8)
    line = renewal_line(pd.DataFrame({"age": [35.0, 48.0, None], "length_m": [1200.0, 800.0, 300.0]}),
                        WeibullModel(float(r.shape.value), float(r.scale_years.value)), r.unit_cost,
                        start_year=result.start_year, years=result.years, facility_type="water_pipe",
                        model_source="ワイブル分布（テスト）")
    wb = load_workbook(io.BytesIO(mixed_plan_xlsx(result, [line], title="宇陀市", synthetic=True, budget_yen=1e8)))
    rows = _rows(wb["予算（分野計）"])
    head = next(i for i, row in enumerate(rows) if row[0] == "年度")
    cols = list(rows[head])
    need = dict(zip(line.table["fiscal_year"], line.table["cost_yen"], strict=True))
    for row in rows[head + 1:]:
        if isinstance(row[0], int):
            got = dict(zip(cols, row, strict=True))
            assert need[row[0]] > 0 and got["水道管路の更新の必要額(円)"] == pytest.approx(need[row[0]])
            assert got["合計（分野計, 円）"] == pytest.approx(got["計画の対策費 計(円)"] + need[row[0]])
    text = " ".join(str(v) for row in _rows(wb["単価・出典"]) for v in row if v is not None)
    assert "水道管路（判定区分なし：更新の必要額）" in text and r.unit_cost.source in text


def _check_web(group: Any) -> None:
    uda = login_client("uda")
    es = EffectScenario.objects.get(group=group, name=MULTISECTOR_DEMO)  # the 効果試算 page's Excel: its 分野別
    effects = uda.get(reverse("groups:effects_result", args=[group.pk, es.pk]) + "?format=xlsx")
    assert effects.status_code == 200
    rows = _rows(load_workbook(io.BytesIO(effects.content))[SECTOR_SHEET])
    assert {r[1] for r in rows} >= {"道路", "公園", "河川", "下水道", "合計"}
    lcc = uda.get(reverse("analysis:lcc", args=["292125"]) + "?facility_type=play_equipment&format=xlsx")
    assert lcc.status_code == 200 and lcc["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(lcc.content))
    assert wb.sheetnames == ["概要", "遊具"]
    assert any(r[0] == "遊具" and r[1] == "健全度D" and r[4] == "円/基" for r in _rows(wb["遊具"]))
    plan = uda.get(reverse("analysis:plan", args=["292125"])
                   + "?facility_type=all&budget=3億&years=10&mode=budget&strategy=early_corrective&format=xlsx")
    assert plan.status_code == 200 and "予算（分野計）" in load_workbook(io.BytesIO(plan.content)).sheetnames
    # the page itself names each grade and remark on its type's scale, as the workbook does (not 「III」「D」)
    page = uda.get(reverse("analysis:plan", args=["292125"])
                   + "?facility_type=all&budget=3億&years=10&mode=budget&strategy=early_corrective").content.decode()
    assert "<td>遊具</td><td>健全度C</td>" in page and "<td>橋梁</td><td>Ⅲ</td>" in page
    assert "<td>III</td>" not in page and "<td>D：" not in page and "<td>IV：" not in page
    road = uda.get(reverse("analysis:lcc", args=["292125"]) + "?format=xlsx")  # road structures: as before
    assert load_workbook(io.BytesIO(road.content)).sheetnames[0] == "比較"


def test_every_sector_in_the_downloaded_files(demo, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _check_karte(tmp_path)
    _check_effects(capsys, tmp_path)
    _check_lcc(capsys, tmp_path)
    _check_plan(capsys, tmp_path)
    _check_renewal_columns()
    _check_web(demo)
