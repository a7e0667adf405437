"""`gunmane costing`, `gunmane effects`, `gunmane lots`: 積算・効果試算・ロット設計 on the command line.

Registered by :func:`gunmane.cli.build_parser`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    command,
    err,
    lang,
    needs_out,
    setup_django,
    t,
    write_file,
    write_json,
)


# -- costing ------------------------------------------------------------------------------------------------
def _edition(name: str | None) -> Any:
    from gunmane.engine.costing import InvalidEdition
    from gunmane.io.shipped.costing import load_costing_edition

    try:
        return load_costing_edition(name)
    except InvalidEdition as exc:
        raise UsageError(exc.message(lang())) from exc


def cmd_costing(args: argparse.Namespace) -> int:
    from gunmane.engine.costing import CostingError, service_price, works_price
    from gunmane.io.shipped.costing import costing_editions

    if args.action == "editions":
        rows = []
        for name in costing_editions():
            rows.append(_edition(name).as_json())
        if args.format == "json":
            write_json(rows)
        else:
            for r in rows:
                print(f"{r['id']}\t{r['label_ja']}")
        return EXIT_OK
    edition = _edition(args.edition)
    if args.service:
        if args.direct_labour is None:
            raise UsageError(t("--service には --direct-labour（直接人件費・円）を指定してください。",
                               "--service needs --direct-labour (yen)."))
        try:
            sp = service_price(edition, args.service, args.direct_labour, args.direct_expense or 0.0)
        except CostingError as exc:
            raise UsageError(exc.message(lang())) from exc
        out: dict[str, Any] = sp.as_json()
        lines = [f"{t('業務区分', 'service')}: {sp.service}", f"{t('積算基準の版', 'edition')}: {edition.id}（{edition.label_ja}）",
                 f"{t('業務価格', 'price')}: {round(sp.price_yen):,} 円"]
    else:
        if args.work_type is None or args.direct_cost is None:
            raise UsageError(t("--work-type と --direct-cost（直接工事費・円）を指定してください。",
                               "Give --work-type and --direct-cost (yen)."))
        try:
            wp = works_price(edition, args.work_type, args.direct_cost, advance_payment_pct=args.advance_payment)
        except CostingError as exc:
            raise UsageError(exc.message(lang())) from exc
        out = wp.as_json()
        lines = [
            f"{t('工種区分', 'work type')}: {wp.work_type}",
            f"{t('積算基準の版', 'edition')}: {edition.id}（{edition.label_ja}）",
            f"{t('直接工事費', 'direct cost')}: {round(wp.direct_cost_yen):,} 円",
            f"{t('共通仮設費率', 'common temporary rate')}: {wp.common_temporary_rate:.2f}% → "
            f"{t('純工事費', 'net cost')} {round(wp.net_cost_yen):,} 円",
            f"{t('現場管理費率', 'site management rate')}: {wp.site_management_rate:.2f}% → "
            f"{t('工事原価', 'prime cost')} {round(wp.prime_cost_yen):,} 円",
            f"{t('一般管理費等率', 'general admin rate')}: {wp.general_admin_rate:.2f}% → "
            f"{t('工事価格', 'price')} {round(wp.price_yen):,} 円",
        ]
    if args.format == "json":
        print(json.dumps(out, ensure_ascii=False))
    else:
        print("\n".join(lines))
    return EXIT_OK


# -- effects --------------------------------------------------------------------------------------------------
def _load_group(sf: Any, group_name: str | None) -> Any:
    """The group's input from the database (the same loader the web pages use, so both give the same
    numbers); the scenario may name only the group's accepted members (ScenarioFileError otherwise)."""
    setup_django()
    from gunmane.web.groups.effects import group_for_scenario, load_group

    return load_group(sf, group_for_scenario(sf, group_name))


def _invalid(error: dict[str, Any]) -> int:
    write_json({"status": "invalid", "error": error})
    err(f"gunmane: {error['message']}")
    return EXIT_INVALID


def cmd_effects(args: argparse.Namespace) -> int:
    from gunmane.engine.costing import CostingError
    from gunmane.engine.effects import EffectsError, evaluate
    from gunmane.io.scenario import ScenarioFileError, engine_scenarios, read_scenario
    from gunmane.io.shipped.costing import load_costing_edition
    from gunmane.io.shipped.parameters import effects_parameters

    if args.format == "xlsx":
        needs_out(args.format, args.out)
    if not Path(args.scenario).is_file():
        raise UsageError(t(f"シナリオファイルが見つかりません: {args.scenario}", f"Scenario file not found: {args.scenario}"))
    try:
        sf = read_scenario(args.scenario)
        scenarios = engine_scenarios(sf)
        edition = load_costing_edition(sf.costing_edition)
        params = effects_parameters().with_overrides(sf.parameters)
        group = _load_group(sf, args.group)
        result = evaluate(group, scenarios, edition, params=params)
        sens = None
        if args.sensitivity or args.samples:
            from gunmane.engine.effects import sensitivity

            err(t("感度分析を計算しています…", "Computing the sensitivity…"))
            sens = sensitivity(group, scenarios, edition, params=params, samples=args.samples or 0)
    except ScenarioFileError as exc:
        return _invalid(exc.as_json(lang()))
    except (EffectsError, CostingError) as exc:
        return _invalid(exc.as_json(lang()))
    written = t(f"効果試算を書き出しました: {args.out}", f"Wrote the effect estimate: {args.out}")
    if args.format == "xlsx":
        from gunmane.io.reports.effects_xlsx import effects_xlsx

        write_file(args.out, lambda fh: effects_xlsx(result, fh, sens), written)
        return EXIT_OK
    doc = {"status": "ok", "scenario_file": str(args.scenario), **result.as_json()}
    if sens is not None:
        doc["sensitivity"] = sens.as_json()
    write_json(doc, args.out, written=written)
    return EXIT_OK


# -- lots ---------------------------------------------------------------------------------------------------------
def cmd_lots(args: argparse.Namespace) -> int:
    from gunmane.engine.costing import CostingError
    from gunmane.engine.effects import EffectsError
    from gunmane.engine.lots import design_lots
    from gunmane.io.scenario import ScenarioFileError, lot_settings, lots_geojson, read_scenario
    from gunmane.io.shipped.costing import load_costing_edition
    from gunmane.io.shipped.parameters import effects_parameters

    if not Path(args.scenario).is_file():
        raise UsageError(t(f"シナリオファイルが見つかりません: {args.scenario}", f"Scenario file not found: {args.scenario}"))
    try:
        sf = read_scenario(args.scenario)
        settings = lot_settings(sf)
        if args.time_limit is not None:
            settings = replace(settings, time_limit_s=args.time_limit)
        edition = load_costing_edition(sf.costing_edition)
        params = effects_parameters().with_overrides(sf.parameters)
        group = _load_group(sf, args.group)
        err(t(f"ロットを設計しています（最長 {settings.time_limit_s:g} 秒）…",
              f"Designing lots (up to {settings.time_limit_s:g} s)…"))
        design = design_lots(group, edition, params=params, settings=settings)
    except ScenarioFileError as exc:
        return _invalid(exc.as_json(lang()))
    except (EffectsError, CostingError) as exc:
        return _invalid(exc.as_json(lang()))
    if design.best is None:  # no partition: say why on the terminal too (the JSON carries infeasible_reasons)
        err(t(f"ロットの分け方が見つかりません（{design.as_json()['status_ja']}）。",
              f"No lot partition found ({design.status})."))
        for r in design.infeasible_reasons:
            err(f"  ・{r.message_ja}{r.suggestion_ja}")
    doc = lots_geojson(design) if args.format == "geojson" else {"status": "ok", **design.as_json()}
    write_json(doc, args.out, written=t(f"ロット設計を書き出しました: {args.out}", f"Wrote the lot design: {args.out}"))
    return EXIT_OK


# -- parsers --------------------------------------------------------------------------------------------------
def register(sub: Any) -> None:
    """Add `costing`, `effects` and `lots`."""
    s = command(sub, "costing", help=t("積算基準による工事価格・業務価格", "price a job under the estimation rules"))
    s.add_argument("action", choices=["price", "editions"])
    s.add_argument("--work-type", metavar=t("工種区分", "WORK_TYPE"), help=t("例: 道路維持工事", "e.g. 道路維持工事"))
    s.add_argument("--direct-cost", type=float, metavar="YEN", help=t("直接工事費（円）", "direct cost (yen)"))
    s.add_argument("--service", metavar=t("業務区分", "SERVICE"), help=t("業務（設計業務・点検業務）の業務価格", "price a service"))
    s.add_argument("--direct-labour", type=float, metavar="YEN", help=t("直接人件費（円）", "direct labour (yen)"))
    s.add_argument("--direct-expense", type=float, metavar="YEN", help=t("直接経費（円）", "direct expenses (yen)"))
    s.add_argument("--advance-payment", type=float, metavar="PCT",
                   help=t("前払金支出割合（%%）: 一般管理費等率を補正", "advance-payment share (%%)"))
    s.add_argument("--edition", metavar=t("版", "EDITION"),
                   help=t("積算基準の版（FY2022 など）または版のフォルダ（既定: 同梱の最新版）",
                          "edition id or folder (default: latest shipped)"))
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(func=cmd_costing)

    s = command(sub, "effects", help=t("効果試算（基準と束ねたシナリオの比較）", "effect estimation (baseline vs bundling scenarios)"))
    s.add_argument("scenario", metavar="SCENARIO.toml", help=t("シナリオファイル（docs/effects.md）", "scenario file"))
    s.add_argument("--format", choices=["json", "xlsx"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--sensitivity", action="store_true",
                   help=t("感度分析（主なパラメータを ±25%% ずつ変えたトルネード図のデータ）", "one-at-a-time sensitivity (±25 %%)"))
    s.add_argument("--samples", type=int, metavar="N", help=t("モンテカルロの回数（純効果の 5〜95%% の区間）", "Monte Carlo samples"))
    s.add_argument("--group", metavar=t("群の名称", "GROUP"),
                   help=t("台帳を使うシナリオの群（既定: シナリオの name と同じ名称の群）。構成団体（承諾済み）だけを指定できます",
                          "the group of a scenario that reads the ledger (default: the group named like the scenario)"))
    s.set_defaults(func=cmd_effects)

    s = command(sub, "lots", help=t("ロット設計（OR-Tools CP-SAT）", "lot design (OR-Tools CP-SAT)"))
    s.add_argument("scenario", metavar="SCENARIO.toml", help=t("シナリオファイル（[lots] に条件）", "scenario file ([lots] table)"))
    s.add_argument("--format", choices=["json", "geojson"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--time-limit", type=float, metavar="SEC", help=t("計算時間の上限（秒）", "time limit (s)"))
    s.add_argument("--group", metavar=t("群の名称", "GROUP"),
                   help=t("台帳を使うシナリオの群（既定: シナリオの name と同じ名称の群）", "the group of the scenario"))
    s.set_defaults(func=cmd_lots)
