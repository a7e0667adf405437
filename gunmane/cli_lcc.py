"""`gunmane lcc` (strategy comparison in yen) and `gunmane plan` (budget-feasible repair plan)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    from gunmane.cli import UsageError
    from gunmane.io.values.amounts import parse_yen

    try:
        return parse_yen(text)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None


def _defaults(args: argparse.Namespace) -> Any:
    """The LCC tables: shipped, or the user's --params folder (a folder without the two tables is a usage error,
    exit 2; a table with a wrong value is invalid input, exit 1, reported by gunmane.cli_errors)."""
    import csv

    from gunmane.cli import UsageError, t
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
    from gunmane.cli import UsageError, setup_django

    setup_django()
    from gunmane.web.analysis import services

    try:
        return services.resolve_scope(spec)
    except services.ScopeNotFound as exc:
        raise UsageError(str(exc)) from exc


def _write(args: argparse.Namespace, payload: bytes | dict[str, Any]) -> None:
    from gunmane.cli import UsageError, err, t

    if isinstance(payload, bytes):
        if not args.out:
            raise UsageError(t("--format xlsx には --out FILE が必要です。", "--format xlsx needs --out FILE"))
        Path(args.out).write_bytes(payload)
        err(t(f"書き出しました: {args.out}", f"written: {args.out}"))
        return
    text = json.dumps(payload, ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def _synthetic(scope: Any) -> bool:
    from gunmane.web.analysis import lifecycle

    return bool(lifecycle.scope_ledger(scope).ledger.facilities["is_synthetic"].any())


def cmd_lcc(args: argparse.Namespace) -> int:
    """Compare preventive, early corrective and reactive maintenance in yen for the scope's facilities."""
    from gunmane.cli import EXIT_INVALID, EXIT_OK, lang
    from gunmane.engine.lcc import LccError

    scope = _scope(args.scope)
    d = _defaults(args)
    from gunmane.io.reports.lcc_xlsx import lcc_xlsx
    from gunmane.web.analysis import lifecycle

    try:
        result, choice = lifecycle.lcc_for_scope(scope, defaults=d, monte_carlo=not args.no_monte_carlo)
    except LccError as exc:
        print(json.dumps({"status": "invalid", "error": exc.as_json(lang())}, ensure_ascii=False, indent=1))
        return EXIT_INVALID
    synthetic = _synthetic(scope)
    if args.format == "xlsx":
        _write(args, lcc_xlsx(result, title=scope.name, synthetic=synthetic))
    else:
        out = {"scope": scope.name, "synthetic": synthetic, "hazard_path": choice.path,
               "hazard_notes": list(choice.reasons), **result.as_json()}
        _write(args, out)
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    """A 10-year (or --years) repair plan under an annual budget, or levelled."""
    from gunmane.cli import EXIT_INVALID, EXIT_OK, UsageError, lang, t
    from gunmane.engine.lcc import LccError

    if args.mode == "budget" and args.budget is None:
        raise UsageError(t("--budget（年間の予算、円）を指定してください（平準化は --mode level）。",
                           "--budget is required unless --mode level"))
    if not 1 <= args.years <= 30:
        raise UsageError(t("--years は 1〜30 にしてください。", "--years must be 1..30"))
    budget = _yen(args.budget) if args.budget is not None else None
    scope = _scope(args.scope)
    d = _defaults(args)
    from gunmane.io.reports.lcc_xlsx import plan_xlsx
    from gunmane.web.analysis import lifecycle

    try:
        with _native_stdout_to_stderr():
            result, choice = lifecycle.plan_for_scope(scope, budget_yen=budget, years=args.years, mode=args.mode,
                                                      strategy=args.strategy, defaults=d)
    except LccError as exc:
        print(json.dumps({"status": "invalid", "error": exc.as_json(lang())}, ensure_ascii=False, indent=1))
        return EXIT_INVALID
    synthetic = _synthetic(scope)
    if args.format == "xlsx":
        _write(args, plan_xlsx(result, title=scope.name, synthetic=synthetic))
    else:
        _write(args, {"scope": scope.name, "synthetic": synthetic, "budget_yen_per_year": budget,
                      "hazard_path": choice.path, **result.as_json()})
    return EXIT_OK


def register(sub: Any, imports: Any) -> None:
    from gunmane.cli import t

    s = sub.add_parser("lcc", help=t("ライフサイクルコスト：予防保全・早期の事後保全・事後保全の比較",
                                     "life-cycle cost of maintenance strategies"))
    s.add_argument("scope", help=t("都道府県コード・団体コード・group:群の名称", "prefecture, municipality or group:NAME"))
    s.add_argument("--format", choices=["json", "xlsx"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--params", metavar="DIR", help=t("費用表（actions.csv, parameters.csv）のディレクトリ",
                                                     "directory with actions.csv and parameters.csv"))
    s.add_argument("--discount-rate", type=float, metavar="R", help=t("割引率（例 0.04）", "discount rate"))
    s.add_argument("--horizon", type=int, metavar="YEARS", help=t("計算期間（年、50〜100 が目安）", "horizon in years"))
    s.add_argument("--no-monte-carlo", action="store_true", help=t("幅（5〜95%）の計算を省く", "skip the Monte Carlo band"))
    s.set_defaults(func=cmd_lcc)

    s = sub.add_parser("plan", help=t("予算制約のもとでの対策計画（10年）", "budget-constrained repair plan"))
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
    s.set_defaults(func=cmd_plan)
