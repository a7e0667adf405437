"""`gunmane lcc` (strategy comparison in yen), `gunmane plan` (budget-feasible repair plan) and
`gunmane deterioration fit` (the Markov hazard model they rest on)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    command,
    lang,
    needs_out,
    scope,
    setup_django,
    t,
    write_file,
    write_json,
)

STRATEGY_KEYS = ("preventive", "early_corrective", "reactive")


@contextlib.contextmanager
def _native_stdout_to_stderr() -> Iterator[None]:
    """HiGHS' C++ core can print to file descriptor 1; keep stdout for the JSON document alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _yen(text: str) -> float:
    from gunmane.io.values.amounts import parse_yen

    try:
        return parse_yen(text)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None


def _defaults(args: argparse.Namespace) -> Any:
    """The LCC tables: shipped, or the user's --params folder (a folder without the two tables is a usage error,
    exit 2; a table with a wrong value is invalid input, exit 1, reported by gunmane.cli.errors)."""
    from gunmane.io.shipped.lcc import LccParamsError, load_lcc_parameters

    if args.params:
        for name in ("actions.csv", "parameters.csv"):
            if not (Path(args.params) / name).is_file():
                raise UsageError(t(f"--params {args.params}: {name} のファイルがありません（actions.csv と parameters.csv を"
                                   "置いたフォルダを指定してください）。", f"--params {args.params}: no {name} there."))
    try:
        d = load_lcc_parameters(Path(args.params) if args.params else None)
    except csv.Error as exc:  # a field over the limit, a stray quote: the tables are CSV files in that folder
        raise LccParamsError(f"{args.params}: 費用表の CSV を読み取れません（{exc}）。") from exc
    return d.with_overrides(discount_rate=getattr(args, "discount_rate", None),
                            horizon_years=getattr(args, "horizon", None))


def _scope(spec: str) -> Any:
    setup_django()
    return scope(spec)


def _synthetic(where: Any) -> bool:
    from gunmane.web.analysis import lifecycle

    return bool(lifecycle.scope_ledger(where).ledger.facilities["is_synthetic"].any())


def _write(args: argparse.Namespace, payload: bytes | dict[str, Any]) -> None:
    """The workbook into --out, or the JSON document on stdout or into --out."""
    if isinstance(payload, bytes):
        write_file(needs_out(args.format, args.out), payload, t(f"書き出しました: {args.out}", f"written: {args.out}"))
    else:
        write_json(payload, args.out)


def _sector_types(args: argparse.Namespace, d: Any) -> list[str]:
    """--facility-type: "road" (the road structures' table, the default), one sector type, or all of them."""
    code = args.facility_type
    if code in (None, "road"):
        return ["road"]
    if code == "all":
        return ["road", *d.sector_types]
    check_facility_type(code)
    if code in d.params.facility_types:
        return ["road"]
    if code not in d.sector_types:
        from gunmane.io.shipped import vocab

        names = {x.code: x.name for x in vocab.facility_types()}
        have = "、".join(f"{c}（{names.get(c, c)}）" for c in (*d.params.facility_types, *d.sector_types))
        raise UsageError(t(f"--facility-type {code}（{names.get(code, code)}）の対策費用の表がありません。"
                           f"費用の表があるのは {have} です。", f"no cost table for {code}"))
    return [code]


def _run_json(code: str, run: Any, choice: Any) -> dict[str, Any]:
    """What each run was computed with: the type, its scale, the hazards and their source."""
    from gunmane.io.shipped import vocab

    names = {x.code: x.name for x in vocab.facility_types()}
    if code == "road":
        return {"facility_types": list(run), "names": [names.get(c, c) for c in run], "scale": "I-IV",
                "hazard_path": choice.path, "hazard_source": choice.model.source, "hazard_notes": list(choice.reasons)}
    return {"facility_types": [code], "names": [names.get(code, code)], "scale": run.scale.id,
            "scale_name": run.scale.name, "grades": [g.label for g in run.scale.grades],
            "trigger": run.scale.label(run.scale.trigger) if run.scale.trigger else None,
            "hazard_path": choice.path, "hazard_source": choice.model.source, "hazard_notes": list(choice.reasons)}


def _cmd_lcc_sectors(args: argparse.Namespace, where: Any, d: Any) -> int:
    """`gunmane lcc --facility-type X|all`: one strategy comparison per facility type, each on its own scale."""
    from gunmane.engine.lcc import LccError
    from gunmane.io.reports.lcc_xlsx import LccRun, sector_lcc_xlsx
    from gunmane.io.values.scales import scale
    from gunmane.web.analysis import lifecycle

    if args.format == "xlsx":
        needs_out(args.format, args.out)
    runs: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    sheets: list[LccRun] = []
    for code in _sector_types(args, d):
        try:
            if code == "road":
                result, choice = lifecycle.lcc_for_scope(where, defaults=d, monte_carlo=not args.no_monte_carlo)
                head = _run_json(code, d.params.facility_types, choice)
                sheet = LccRun(tuple(d.params.facility_types), scale("I-IV"), result, choice.model.source,
                               tuple(choice.reasons))
            else:
                result, run = lifecycle.sector_lcc_for_scope(where, code, defaults=d,
                                                             monte_carlo=not args.no_monte_carlo)
                head = _run_json(code, run, run.choice)
                sheet = LccRun((code,), run.scale, result, run.choice.model.source, tuple(run.choice.reasons))
        except LccError as exc:
            if args.facility_type != "all":
                write_json({"status": "invalid", "error": exc.as_json(lang())})
                return EXIT_INVALID
            skipped.append({"facility_type": code, "error": exc.as_json(lang())})
            continue
        runs.append({**head, **result.as_json()})
        sheets.append(sheet)
    synthetic = _synthetic(where)
    if args.format == "xlsx":
        _write(args, sector_lcc_xlsx(sheets, title=where.name, synthetic=synthetic,
                                     skipped=[(x["facility_type"], x["error"]["message"]) for x in skipped]))
        return EXIT_OK
    _write(args, {"scope": where.name, "synthetic": synthetic, "facility_type": args.facility_type,
                  "runs": runs, "skipped": skipped})
    return EXIT_OK


def cmd_lcc(args: argparse.Namespace) -> int:
    """Compare preventive, early corrective and reactive maintenance in yen for the scope's facilities."""
    from gunmane.engine.lcc import LccError

    where = _scope(args.scope)
    d = _defaults(args)
    if args.facility_type is not None:
        return _cmd_lcc_sectors(args, where, d)
    from gunmane.io.reports.lcc_xlsx import lcc_xlsx
    from gunmane.web.analysis import lifecycle

    try:
        result, choice = lifecycle.lcc_for_scope(where, defaults=d, monte_carlo=not args.no_monte_carlo)
    except LccError as exc:
        write_json({"status": "invalid", "error": exc.as_json(lang())})
        return EXIT_INVALID
    synthetic = _synthetic(where)
    if args.format == "xlsx":
        _write(args, lcc_xlsx(result, title=where.name, synthetic=synthetic))
    else:
        _write(args, {"scope": where.name, "synthetic": synthetic, "hazard_path": choice.path,
                      "hazard_notes": list(choice.reasons), **result.as_json()})
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    """A 10-year (or --years) repair plan under an annual budget, or levelled."""
    from gunmane.engine.lcc import LccError

    if args.mode == "budget" and args.budget is None:
        raise UsageError(t("--budget（年間の予算、円）を指定してください（平準化は --mode level）。",
                           "--budget is required unless --mode level"))
    if not 1 <= args.years <= 30:
        raise UsageError(t("--years は 1〜30 にしてください。", "--years must be 1..30"))
    budget = _yen(args.budget) if args.budget is not None else None
    where = _scope(args.scope)
    d = _defaults(args)
    if args.facility_type is not None:
        return _cmd_plan_sectors(args, where, d, budget)
    from gunmane.io.reports.lcc_xlsx import plan_xlsx
    from gunmane.web.analysis import lifecycle

    try:
        with _native_stdout_to_stderr():
            result, choice = lifecycle.plan_for_scope(where, budget_yen=budget, years=args.years, mode=args.mode,
                                                      strategy=args.strategy, defaults=d)
    except LccError as exc:
        write_json({"status": "invalid", "error": exc.as_json(lang())})
        return EXIT_INVALID
    synthetic = _synthetic(where)
    if args.format == "xlsx":
        _write(args, plan_xlsx(result, title=where.name, synthetic=synthetic))
    else:
        _write(args, {"scope": where.name, "synthetic": synthetic, "budget_yen_per_year": budget,
                      "hazard_path": choice.path, **result.as_json()})
    return EXIT_OK


def _plan_types(args: argparse.Namespace, d: Any) -> tuple[str, ...]:
    """--facility-type for a plan: all, or a comma-separated list (road = the road structures' table)."""
    if args.facility_type == "all":
        return (*d.params.facility_types, *d.sector_types, *(r.facility_type for r in d.sectors.renewals))
    codes: list[str] = []
    for code in (c.strip() for c in args.facility_type.split(",") if c.strip()):
        if code == "road":
            codes.extend(d.params.facility_types)
            continue
        check_facility_type(code)
        if code not in (*d.params.facility_types, *d.sector_types) and d.sectors.renewal(code) is None:
            raise UsageError(t(f"--facility-type {code} の対策費用の表がありません。", f"no cost table for {code}"))
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def _cmd_plan_sectors(args: argparse.Namespace, where: Any, d: Any, budget: float | None) -> int:
    """`gunmane plan --facility-type a,b|all`: one plan for several sectors under one budget."""
    from gunmane.engine.lcc import LccError
    from gunmane.web.analysis import lifecycle

    if args.format == "xlsx":
        needs_out(args.format, args.out)
    types = _plan_types(args, d)
    try:
        with _native_stdout_to_stderr():
            result, lines = lifecycle.mixed_plan_for_scope(where, types, budget_yen=budget, years=args.years,
                                                           mode=args.mode, strategy=args.strategy, defaults=d)
    except LccError as exc:
        write_json({"status": "invalid", "error": exc.as_json(lang())})
        return EXIT_INVALID
    if args.format == "xlsx":
        from gunmane.io.reports.lcc_xlsx import mixed_plan_xlsx

        _write(args, mixed_plan_xlsx(result, lines, title=where.name, synthetic=_synthetic(where), budget_yen=budget))
        return EXIT_OK
    out = result.as_json()
    spent = {int(r["fiscal_year"]): float(r["plan"]) for r in out["budget_curve"]}
    renewal = [line.as_json() for line in lines]
    need = {fy: sum(y["cost_yen"] for line in renewal for y in line["per_year"] if y["fiscal_year"] == fy)
            for fy in spent}
    _write(args, {"scope": where.name, "synthetic": _synthetic(where), "facility_types": list(types),
                  "budget_yen_per_year": budget, **out, "renewal_lines": renewal,
                  "total_by_year": [{"fiscal_year": fy, "plan_yen": spent[fy], "renewal_yen": need[fy],
                                     "total_yen": spent[fy] + need[fy]} for fy in sorted(spent)]})
    return EXIT_OK


def check_facility_type(code: str) -> None:
    from gunmane.io.shipped import vocab

    types = {x.code: x.name for x in vocab.facility_types()}
    if code != "all" and code not in types:
        listed = "、".join(f"{c}（{n}）" for c, n in types.items())
        raise UsageError(t(f"--facility-type「{code}」はありません。指定できるのは all または {listed} です。",
                           f"unknown --facility-type {code!r}"))


def _fit_scale(args: argparse.Namespace) -> Any:
    """The scale the fit is on: --scale (an id of gunmane/data/scales, or mci-5), else the --facility-type's own
    scale when fitting from the ledger (a grade is the index on its type's scale); None = the --states given."""
    from gunmane.io.ledger.pairs import MCI_FIVE

    if args.scale:
        if args.scale == MCI_FIVE:
            return MCI_FIVE
        # only here: a Ⅰ–Ⅳ pairs fit starts without the scales (#15 §6)
        from gunmane.io.values.scales import scale, scales

        try:
            chosen = scale(args.scale)
        except KeyError:
            known = "、".join(f"{s.id}（{s.name}）" for s in scales().values() if s.graded)
            raise UsageError(t(f"--scale「{args.scale}」はありません。指定できるのは {known}、または {MCI_FIVE}"
                               "（MCI の5状態）です。", f"unknown --scale {args.scale!r}")) from None
        if not chosen.graded:
            raise UsageError(t(f"--scale {args.scale}（{chosen.name}）には判定区分がありません。経過年数で見る施設は "
                               "gunmane survival fit で推定してください。", f"scale {args.scale} has no grades"))
        return chosen
    if args.ledger and args.facility_type != "all":
        from gunmane.io.values.scales import scale_for_facility_type

        check_facility_type(args.facility_type)
        own = scale_for_facility_type(args.facility_type)
        if not own.graded:
            raise UsageError(t(f"{args.facility_type} の尺度（{own.name}）には判定区分がありません。"
                               "gunmane survival fit で推定してください。", "the facility type has no grades"))
        return None if own.id == "I-IV" else own
    return None


def _scale_json(scale: Any) -> dict[str, Any]:
    from gunmane.engine.deterioration import MCI_FIVE_BINS

    if isinstance(scale, str):
        return {"id": scale, "name": "MCI の5状態（直轄国道の舗装の劣化ハザードの研究の区分）",
                "grades": [label for label, _ in MCI_FIVE_BINS]}
    return {"id": scale.id, "name": scale.name, "grades": [g.label for g in scale.grades],
            "trigger": scale.label(scale.trigger) if scale.trigger else None}


def cmd_deterioration(args: argparse.Namespace) -> int:
    """Fit the Markov hazard model from a pairs file or from the ledger's inspection histories."""
    from gunmane.engine.deterioration import (
        DeteriorationError,
        StateSpace,
        compare_pooling,
        fit,
        fit_pooled,
        pairs_from_histories,
    )
    from gunmane.io.ledger.pairs import PairsFileError, read_pairs

    labels = tuple(x.strip() for x in args.states.split(",") if x.strip())
    states = StateSpace.grades(merge_iv=True) if args.merge_iv else StateSpace(labels)
    covariates = tuple(c.strip() for c in (args.covariates or "").split(",") if c.strip())
    scale = _fit_scale(args)
    if scale is not None and not args.merge_iv:
        states = StateSpace.mci_five() if isinstance(scale, str) else StateSpace.from_scale(scale)
    try:
        if args.pairs:
            pairs = read_pairs(Path(args.pairs), states=states, covariates=covariates or None,
                               scale=scale if args.scale else None).pairs
        else:
            where = _scope(args.ledger)
            from gunmane.web.registry import frames

            codes = tuple(where.members) or (where.code,)
            ledger = frames.ledger_frames(None if where.kind.value == "national" else codes)
            inspections = ledger.inspections
            check_facility_type(args.facility_type)
            if args.facility_type != "all":  # the same filter as the 劣化予測 page (bridges by default)
                fac = ledger.facilities
                keep = set(fac.loc[fac["facility_type"] == args.facility_type, "facility"])
                inspections = inspections[inspections["facility"].isin(keep)]
            pairs = pairs_from_histories(inspections, ledger.measures, facilities=ledger.facilities,
                                         covariates=covariates,
                                         member_column="lg_code" if args.pool_by else None)
        result = fit(pairs, states=states, covariates=covariates)
        out = result.as_json()
        if not args.pairs:
            out["facility_type"] = args.facility_type
        if scale is not None and (args.scale or getattr(scale, "id", "") != "I-IV"):
            out["scale"] = _scale_json(scale)
        if args.pool_by:
            out["pooling"] = {"pooled": fit_pooled(pairs, states=states).as_json(),
                              "comparison": compare_pooling(pairs, member_column="member", states=states).as_json()}
    except PairsFileError as exc:
        write_json({"status": "invalid", "errors": [i.as_dict(lang()) for i in exc.issues]})
        return EXIT_INVALID
    except DeteriorationError as exc:
        write_json({"status": "invalid", "error": exc.as_json(lang())})
        return EXIT_INVALID
    write_json(out)
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `lcc` and `plan`."""
    s = command(sub, "lcc", help=t("ライフサイクルコスト：予防保全・早期の事後保全・事後保全の比較",
                                   "life-cycle cost of maintenance strategies"))
    s.add_argument("scope", help=t("都道府県コード・団体コード・group:群の名称", "prefecture, municipality or group:NAME"))
    s.add_argument("--format", choices=["json", "xlsx"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--params", metavar="DIR", help=t("費用表（actions.csv, parameters.csv）のディレクトリ",
                                                     "directory with actions.csv and parameters.csv"))
    s.add_argument("--discount-rate", type=float, metavar="R", help=t("割引率（例 0.04）", "discount rate"))
    s.add_argument("--horizon", type=int, metavar="YEARS", help=t("計算期間（年、50〜100 が目安）", "horizon in years"))
    s.add_argument("--no-monte-carlo", action="store_true", help=t("幅（5〜95%%）の計算を省く", "skip the Monte Carlo band"))
    s.add_argument("--facility-type", metavar="CODE",
                   help=t("施設の種類（pavement＝舗装、sewer_pipe＝管渠、play_equipment＝遊具 など。各分野の尺度で計算。"
                          "all＝費用の表があるすべての種類。省略時は橋梁など道路構造物）",
                          "facility type (each on its own scale); all = every type with a cost table"))
    s.set_defaults(func=cmd_lcc)

    s = command(sub, "plan", help=t("予算制約のもとでの対策計画（10年）", "budget-constrained repair plan"))
    s.add_argument("scope", help=t("団体コード・group:群の名称・都道府県コード", "municipality, group:NAME or prefecture"))
    s.add_argument("--budget", metavar="YEN_PER_YEAR", help=t("年間の予算（円。1億・5000万 も可）", "annual budget in yen"))
    s.add_argument("--years", type=int, default=10)
    s.add_argument("--mode", choices=["budget", "level"], default="budget",
                   help=t("budget＝予算上限、level＝平準化（Ⅲ・Ⅳ を期限内に、最大の年を最小に）", "budget cap or levelling"))
    s.add_argument("--strategy", choices=STRATEGY_KEYS, default="early_corrective",
                   help=t("対策の対象：preventive＝Ⅱ以上、early_corrective＝Ⅲ以上、reactive＝Ⅳ", "which grades to plan for"))
    s.add_argument("--format", choices=["json", "xlsx"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--params", metavar="DIR")
    s.add_argument("--facility-type", metavar="CODE[,CODE]",
                   help=t("計画する施設の種類（road＝道路構造物、pavement、sewer_pipe、play_equipment、water_pipe など、"
                          "カンマ区切りで複数、all＝すべて）。複数の分野を1つの予算で計画します",
                          "facility types planned together under one budget (comma-separated, or all)"))
    s.set_defaults(func=cmd_plan)


def register_deterioration(sub: Any) -> None:
    """Add `deterioration`."""
    s = command(sub, "deterioration", help=t("劣化予測（マルコフ劣化ハザードモデル）", "deterioration (Markov hazard model)"))
    s.add_argument("action", choices=["fit"])
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--ledger", metavar="SCOPE", help=t("台帳の点検履歴から（national・都道府県・団体コード・group:名称）",
                                                         "from the ledger's inspection histories"))
    src.add_argument("--pairs", metavar="FILE", help=t("点検ペアの CSV から", "from a CSV of inspection pairs"))
    s.add_argument("--states", default="I,II,III,IV")
    s.add_argument("--merge-iv", action="store_true", help=t("Ⅳ をⅢにまとめる", "merge IV into III"))
    s.add_argument("--scale", metavar="ID",
                   help=t("点検ペアの区分の尺度（park-AD、sewer-urg、pave-3 など。mci-5＝MCI の値を5状態に）。"
                          "台帳からは --facility-type の尺度を使います",
                          "the inspection scale the grades are written on (or mci-5 for MCI values)"))
    s.add_argument("--facility-type", default="bridge", metavar="CODE",
                   help=t("台帳から推定する施設の種類（既定 bridge＝橋梁、画面の劣化予測と同じ。all＝すべての種類）",
                          "facility type fitted from the ledger (default bridge, as on the page; all = every type)"))
    s.add_argument("--covariates", metavar="a,b")
    s.add_argument("--pool-by", choices=["municipality"])
    s.add_argument("--format", choices=["json"], default="json")
    s.set_defaults(func=cmd_deterioration)
