"""The demo group's 多分野 scenario (road, park, river, sewer under one comprehensive contract) from ledger to
documents: the CLI's effects with per-sector lines that add up to the totals and per-sector 積算, lots that name
each lot's facilities per sector, the web result page, and the documents listing each sector's facilities under
the member that manages (and pays for) them. One demo load for all of it (the CI budget is tight)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from django.urls import reverse

from gunmane.cli import main
from gunmane.engine.effects.sectors import SHARED
from gunmane.io.documents.agreement import agreement_doc
from gunmane.io.documents.spec import spec_doc
from gunmane.io.scenario import read_scenario
from gunmane.web.demo import MULTISECTOR_DEMO
from gunmane.web.groups.documents import document_input
from gunmane.web.groups.models import EffectScenario
from tests.conftest import login_client
from tests.words import html_text, internal_words

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "nara-multisector.toml"
SECTORS = {"road", "park", "river", "sewer"}
OWN_WORK_TYPE = {"river": "河川維持工事", "sewer": "下水道工事(2)"}


def _check_lines(scenario: dict) -> None:  # type: ignore[type-arg]
    lines, totals = scenario["sectors"], scenario["totals"]
    assert set(lines) == SECTORS | {SHARED}
    for key in ("price_yen", "direct_cost_yen", "overhead_yen"):
        assert sum(v[key] for v in lines.values()) == pytest.approx(totals[key], abs=len(lines)), key
    assert sum(v["contracts"] for v in lines.values()) == pytest.approx(totals["contracts"], abs=0.01)
    assert sum(v["staff_hours"] for v in lines.values()) == pytest.approx(totals["staff_hours"], abs=0.5)
    assert all(lines[s]["facilities"] > 0 and lines[s]["direct_cost_yen"] > 0 for s in SECTORS)


def _document_text(doc) -> str:  # type: ignore[no-untyped-def]
    out = []
    for b in doc.blocks:
        for attr in ("text", "caption"):
            out.append(str(getattr(b, attr, "") or ""))
        for row in getattr(b, "rows", ()) or ():
            out.append(" ".join(str(c) for c in row))
    return "\n".join(out)


def test_multisector_from_ledger_to_documents(demo, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group = demo
    # --- the demo loads the 多分野 scenario beside the 広域 one; the documents keep the 広域 one --------------
    es = EffectScenario.objects.get(group=group, name=MULTISECTOR_DEMO)
    assert EffectScenario.objects.filter(group=group).order_by("-updated_at").first() != es
    stored, example = read_scenario("web.toml", text=es.toml), read_scenario(EXAMPLE)
    assert stored.by_sector and example.by_sector and set(stored.sectors) == set(example.sectors) == SECTORS
    assert [(s.name, s.levers) for s in stored.scenarios] == [(s.name, s.levers) for s in example.scenarios]
    assert stored.cost_share == example.cost_share

    # --- CLI effects on the example file: per-sector lines add up; each sector priced by its own work type ---
    assert main(["effects", str(EXAMPLE), "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    base = res["baseline"]
    _check_lines(base)
    for s, wt in OWN_WORK_TYPE.items():
        assert base["sectors"][s]["work_types"] == [wt] and base["sectors"][s]["priced_by"] == [wt]
    by_type, dominant = res["scenarios"][0], res["scenarios"][1]
    for sc in res["scenarios"]:
        _check_lines(sc)
    assert all(lv["applied"] for lv in by_type["levers"]) and "工種区分ごと" in by_type["levers"][0]["message"]
    # one bundle priced two ways: by work type each sector keeps its rates, under the 主たる工種 all take the bridge's
    assert by_type["sectors"]["river"]["priced_by"] == ["河川維持工事"]
    assert dominant["sectors"]["river"]["priced_by"] == dominant["sectors"]["sewer"]["priced_by"] == ["橋梁保全工事"]
    assert by_type["totals"]["contracts"] == dominant["totals"]["contracts"] < base["totals"]["contracts"]
    assert by_type["totals"]["price_yen"] != dominant["totals"]["price_yen"]
    assert res["assumptions"] and res["parameters"]
    # the 広域 scenario file has no per-sector lines (its JSON stays as it was)
    assert main(["effects", str(EXAMPLE.with_name("nara-model.toml")), "--format", "json"]) == 0
    assert "sectors" not in json.loads(capsys.readouterr().out)["baseline"]

    # --- CLI lots: lots hold several sectors' facilities and name them per sector --------------------------
    fast = tmp_path / "ms.toml"
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["lots"]["time_limit_s"] = 5
    import tomli_w

    fast.write_text(tomli_w.dumps(doc), encoding="utf-8")
    assert main(["lots", str(fast), "--format", "json"]) == 0
    lots = json.loads(capsys.readouterr().out)["best"]["lots"]
    assert any(len(lot["sectors"]) >= 3 for lot in lots)
    for lot in lots:
        assert sum(v["facilities"] for v in lot["sectors"].values()) == lot["facilities"]
        assert sum(len(v["facility_ids"]) for v in lot["sectors"].values()) == lot["facilities"]
    assert set().union(*(lot["sectors"] for lot in lots)) == SECTORS

    # --- the web result page: per-sector lines beside the baseline, in Japanese names ----------------------
    c = login_client()
    page = c.get(reverse("groups:effects_result", args=[group.pk, es.pk]) + "?scenario=0")
    assert page.status_code == 200
    rows = page.context["sector_rows"]
    names = [r["name"] for r in rows]
    assert {"道路", "公園", "河川", "下水道", "分野に分けない職員時間", "合計（群全体）"} <= set(names)
    sc = page.context["result"].scenarios[0]
    assert sum(r["s"].price_yen for r in rows if not r.get("total")) == pytest.approx(sc.totals.price_yen, rel=1e-9)
    html = page.content.decode()
    section = html_text(html[html.index('id="sectors"'):html.index("</section>", html.index('id="sectors"'))])
    assert "分野ごと（多分野（分野ごとの積算））" in html_text(html) and "河川維持工事" in section
    assert not internal_words(section), internal_words(section)

    # --- documents: saving the 多分野 scenario makes it the documents' scenario -----------------------------
    es.save()
    inp = document_input(group)
    lot = next(x for x in inp.lots if x.lot_id == "M1")
    sectors = {f.sector_ja for f in lot.facilities}
    assert sectors == {"道路", "公園", "河川", "下水道"}
    # each facility under the member that manages it; the supporting prefecture has none
    assert {f.manager_name for f in lot.facilities} <= {"宇陀市", "曽爾村", "御杖村", "東吉野村"}
    river = [f for f in lot.facilities if f.sector_ja == "河川"]
    spec = _document_text(spec_doc(inp, "M1"))
    assert "対象施設（河川）" in spec and f"{len(river):,}施設" in spec
    for member in {f.manager_name for f in river}:
        n = sum(1 for f in river if f.manager_name == member)
        assert f"{member}（{n:,}施設）" in spec
    agreement = _document_text(agreement_doc(inp))
    assert "分野ごとの対象施設" in agreement and "下水道" in agreement
