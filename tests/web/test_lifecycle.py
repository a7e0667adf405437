"""劣化予測・LCC・対策計画: pages, permissions for every view, downloads, and the CLI gives the same numbers."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.web.demo import DEMO_GROUP
from gunmane.web.groups.models import Group
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
VIEWS = ("analysis:deterioration", "analysis:lcc", "analysis:plan")
GROUP = f"group:{DEMO_GROUP}"


client = login_client


def group_spec() -> str:
    return f"group-{Group.objects.get(name=DEMO_GROUP).pk}"


def test_permissions_for_every_view(demo) -> None:  # type: ignore[no-untyped-def]
    spec = group_spec()
    for name in VIEWS:
        assert Client().get(reverse(name, args=["292125"])).status_code == 302  # login first
        uda, soni, nara = client("uda"), client("soni"), client("nara")
        osaka = client("osaka", "pw-osaka-123")
        assert uda.get(reverse(name, args=["292125"])).status_code == 200           # own ledger
        assert soni.get(reverse(name, args=["292125"])).status_code == 403          # a neighbour's ledger
        assert nara.get(reverse(name, args=["292125"])).status_code == 200          # the prefecture's municipality
        assert nara.get(reverse(name, args=["29"])).status_code == 200              # the prefecture's own staff
        assert uda.get(reverse(name, args=["29"])).status_code == 403               # a municipality is not the prefecture
        assert soni.get(reverse(name, args=[spec])).status_code == 200              # group members share the views
        assert osaka.get(reverse(name, args=[spec])).status_code == 403             # not a member
        assert osaka.get(reverse(name, args=["292125"])).status_code == 403
        assert uda.get(reverse(name, args=["national"])).status_code == 403         # administrators only
        assert uda.get(reverse(name, args=["group-99999"])).status_code == 404
        assert uda.get(reverse(name, args=["nonsense"])).status_code == 404
        assert client("uda-viewer", "pw-viewer-123").get(reverse(name, args=["292125"])).status_code == 200


def test_deterioration_page_for_the_group(demo) -> None:  # type: ignore[no-untyped-def]
    response = client("uda").get(reverse("analysis:deterioration", args=[group_spec()]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "合成データ" in page and "推定したハザード" in page and "新設からの劣化曲線" in page
    assert 'id="members"' in page and "交差検証" in page  # pooled vs separate for a group (or why not)
    merged_page = client("uda").get(reverse("analysis:deterioration", args=[group_spec()]) + "?merge_iv=1")
    comparison = merged_page.context["comparison"]
    assert comparison is not None and comparison.best in ("pooled", "separate", "hierarchical")
    assert "よりよいのは" in merged_page.content.decode()
    assert 'id="lifecycle-charts" type="application/json"' in page
    # issue 12: 「Ⅲ に平均 402 年」 rests on one transition out of Ⅲ: the caution stands next to the figure,
    # with remedies that work (merge, the pooled fit on this page, the import page of the user's own ledger)
    rows = {r["grade"]: r for r in response.context["rows"]}
    assert rows["Ⅲ"]["caution"] and "1 組しかない" in rows["Ⅲ"]["caution"] and "倍" in rows["Ⅲ"]["caution"]
    assert rows["Ⅰ"]["caution"] is None
    assert response.context["from_new"][-1]["caution"]                     # Ⅳ from new (494.9 年)
    caution_at = page.index("Ⅲの平均滞在年数 402 年")
    assert caution_at < page.index("新設から各健全性に達するまでの期待年数")  # next to the figure, not at the bottom
    links = dict((label, url) for label, url in response.context["remedies"])
    assert set(links.values()) >= {"?merge_iv=1", "#members", reverse("registry:import_create", args=["292125"])}
    assert client("uda").get(reverse("registry:import_create", args=["292125"])).status_code == 200
    assert merged_page.context["rows"][-1]["caution"] is None              # merged: no caution left
    assert "excluded" not in page and "θ_III" not in page
    repair = response.context["repair"]                                   # from the model, as in the CLI JSON
    assert repair["per_year_count"] == pytest.approx(repair["per_year"] * repair["bridges"])
    assert "年平均の期待件数" in page and repair["pct"] in page
    charts = response.context["charts"]
    reach = next(c for c in charts if c["id"] == "reach")
    band_low = reach["datasets"][0]["data"]
    central = reach["datasets"][2]["data"]
    band_high = reach["datasets"][1]["data"]
    assert all(lo <= c <= hi for lo, c, hi in zip(band_low[1:], central[1:], band_high[1:], strict=True))
    forecast = next(c for c in charts if c["id"] == "forecast")
    totals = [sum(ds["data"][t] for ds in forecast["datasets"]) for t in (0, 30)]
    assert totals[0] == pytest.approx(totals[1], rel=1e-3)  # no repairs: the count is conserved
    # IV merged: the same page with three grades; the JSON is the CLI contract
    merged = client("uda").get(reverse("analysis:deterioration", args=[group_spec()]) + "?merge_iv=1&format=json")
    assert merged.json()["states"] == ["I", "II", "III+IV"]


def test_deterioration_page_explains_when_nothing_can_be_fitted(demo) -> None:  # type: ignore[no-untyped-def]
    response = client("nara").get(reverse("analysis:deterioration", args=["292010"]))  # 奈良市: no ledger yet
    assert response.status_code == 200
    assert "推定できません" in response.content.decode()
    lcc = client("nara").get(reverse("analysis:lcc", args=["292010"]))
    assert lcc.status_code == 200 and "対策費用が設定された種別" in lcc.content.decode()


def test_lcc_page_and_downloads_match_the_cli(demo, capsys) -> None:  # type: ignore[no-untyped-def]
    c = client("uda")
    url = reverse("analysis:lcc", args=[group_spec()])
    page = c.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "予防保全" in text and "早期の事後保全" in text and "事後保全（対症療法）" in text
    assert "仮定値" in text and "448,000" in text and "技術指針" in text
    web = c.get(url + "?format=json").json()
    assert main(["lcc", GROUP, "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [s["npv_yen"] for s in web["strategies"]] == pytest.approx([s["npv_yen"] for s in cli["strategies"]])
    assert cli["synthetic"] is True and cli["n_facilities"] == web["n_facilities"] > 900
    assert {s["strategy"] for s in cli["strategies"]} == {"preventive", "early_corrective", "reactive"}
    assert len(cli["strategies"][0]["annual"]) == cli["horizon_years"] == 100
    # a user's discount rate changes the NPV, and a bad one is reported, not a crash
    low = c.get(url + "?discount_rate=0.01&format=json").json()
    assert low["discount_rate"] == 0.01 and low["strategies"][0]["npv_yen"] > web["strategies"][0]["npv_yen"]
    bad = c.get(url + "?discount_rate=abc")
    assert bad.status_code == 200 and "数値ではありません" in bad.content.decode()
    xlsx = c.get(url + "?format=xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["比較", "年別費用", "累計", "健全性の推移", "前提・出典"]
    assert wb["比較"]["A1"].value.startswith("【合成データ】")
    assert len(wb["累計"]._charts) == 1


def test_plan_page_budget_table_and_excel(demo, capsys) -> None:  # type: ignore[no-untyped-def]
    c = client("uda")
    url = reverse("analysis:plan", args=["292125"])
    empty = c.get(url)
    assert empty.status_code == 200 and "計画をつくる" in empty.content.decode()
    assert "年間の予算を入力" in c.get(url + "?budget=&mode=budget").content.decode()
    assert "金額ではありません" in c.get(url + "?budget=たくさん").content.decode()
    response = c.get(url + "?budget=5000万&years=10&mode=budget&strategy=early_corrective")
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.budget["plan"] <= 5e7 + 1).all()
    assert result.totals.loc["plan", "objective_yen"] <= result.totals.loc["worst_first", "objective_yen"]
    text = response.content.decode()
    assert 'id="plan-table"' in text and "号橋" in text
    # names, not codes, and the solver's state in Japanese
    assert "<td>宇陀市</td>" in text and "<td>292125</td>" not in text
    assert "Status" not in text and "Optimal" not in text and "最適な計画が見つかりました" in text
    assert 'id="iv-first"' in text and 'id="iii-goal-table"' in text
    web = c.get(url + "?budget=5000万&years=10&format=json").json()
    assert main(["plan", "292125", "--budget", "50000000", "--years", "10", "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["budget_yen_per_year"] == 5e7
    assert [r["plan"] for r in cli["budget_curve"]] == pytest.approx([r["plan"] for r in web["budget_curve"]])
    xlsx = c.get(url + "?budget=5000万&years=10&format=xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["対策計画", "予算", "比較", "Ⅳ・Ⅲ の期限", "前提・出典"]
    assert wb["予算"]._charts
    first = [c.value for c in wb["対策計画"][5]]  # notice, title, blank, header, first row
    assert first[1] == "宇陀市" and first[2] == "橋梁" and first[3] in ("Ⅲ", "Ⅳ")
    cells = [str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert not [v for v in cells if v in ("True", "False") or "below_trigger" in v or "Status" in v]
    level = c.get(url + "?mode=level&years=10")
    assert level.status_code == 200 and level.context["result"].mode == "level"


def test_cli_usage_errors_and_xlsx(demo, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "292125", "--budget", "abc"]) == 2
    assert "金額ではありません" in capsys.readouterr().err
    assert main(["plan", "292125"]) == 2
    assert main(["lcc", "999999"]) == 2
    out = tmp_path / "plan.xlsx"
    assert main(["plan", GROUP, "--budget", "1億", "--format", "xlsx", "--out", str(out)]) == 0
    assert load_workbook(out)["対策計画"].max_row > 50
    # issue 12: with 1億円 a year the group's bridge judged Ⅳ (樫谷5号橋) no longer waits until 2030
    assert main(["plan", GROUP, "--budget", "1億", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    iv = [r for r in plan["plan"] if r["grade"] == "IV"]
    assert iv and all(r["fiscal_year"] == plan["start_fiscal_year"] for r in iv)
    assert any(r["name"].startswith("樫谷5号橋") for r in iv)
    assert plan["iv_first_year_shortfall_yen"] == 0.0
    assert {f["name"] for f in plan["iv_first_year"]["facilities"]} == {r["name"] for r in iv}
    goal = plan["iii_goal"]
    assert goal["treated_within_goal"] + len(goal["late"]) == goal["facilities"] > 0
    assert [r["fiscal_year"] for r in goal["per_year"]] == [r["fiscal_year"] for r in plan["budget_curve"]]
    # a first-year budget below the Ⅳ costs: still scheduled, the shortfall stated
    assert main(["plan", GROUP, "--budget", "500万", "--format", "json"]) == 0
    poor = json.loads(capsys.readouterr().out)
    assert all(r["fiscal_year"] == poor["start_fiscal_year"] for r in poor["plan"] if r["grade"] == "IV")
    assert poor["iv_first_year_shortfall_yen"] == pytest.approx(poor["iv_first_year"]["cost_yen"] - 5e6)
    assert main(["lcc", "292125", "--format", "xlsx"]) == 2  # xlsx needs --out
    assert main(["lcc", "292125", "--params", str(tmp_path)]) == 2
    assert "ファイルがありません" in capsys.readouterr().err


def test_fit_from_an_uploaded_pairs_file(users, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The NBI-style pairs file in Japanese headers, CP932: fitted on the page, nothing stored."""
    import numpy as np

    from gunmane.engine.deterioration import transition_matrix

    rng = np.random.default_rng(7)
    n = 1500
    before = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    z = rng.uniform(3, 7, n).round(2)
    p = transition_matrix(np.array([0.08, 0.04, 0.1]), z)
    after = (rng.random(n)[:, None] > np.cumsum(p[np.arange(n), before - 1], axis=1)).sum(axis=1) + 1
    grades = "ⅠⅡⅢⅣ"
    lines = ["施設ID,前回の健全性,今回の健全性,経過年数"] + [
        f"B{i},{grades[b - 1]},{grades[a - 1]},{zz}" for i, (b, a, zz) in enumerate(zip(before, after, z, strict=True))]
    path = tmp_path / "ペア.csv"
    path.write_bytes("\r\n".join(lines).encode("cp932"))
    c = client("uda")
    url = reverse("analysis:deterioration_pairs")
    assert c.get(url).status_code == 200
    with path.open("rb") as fh:
        response = c.post(url, {"file": fh})
    assert response.status_code == 200
    fit = response.context["fit"]
    assert fit.n_pairs == n and fit.hazards[0] == pytest.approx(0.08, rel=0.2)
    assert "推定したハザード" in response.content.decode()
    bad = tmp_path / "bad.csv"
    bad.write_text("施設ID,前回の健全性,今回の健全性,経過年数\nB1,Ⅴ,Ⅰ,5\n", encoding="utf-8")
    with bad.open("rb") as fh:
        response = c.post(url, {"file": fh})
    text = response.content.decode()
    assert "pair-errors" in text and "Ⅴ" in text
    assert Client().get(url).status_code == 302
