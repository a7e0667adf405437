"""`gunmane survival fit`: the Weibull service-life model from a file of install and renewal years."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gunmane.cli.common import EXIT_INVALID, EXIT_OK, command, lang, t, write_json

# Years of renewals forecast for the assets in service: the long view of a water utility's renewal needs (厚生労働省
# 「水道事業におけるアセットマネジメント（資産管理）に関する手引き」2009 looks 30–40 years ahead; 総務省's 経営戦略
# asks for at least 10). Override with --horizon.
DEFAULT_HORIZON = 30


def register(sub: Any) -> None:
    """Add `survival`."""
    s = command(sub, "survival", help=t("供用年数の予測（設置・更新年度からのワイブル分布）",
                                        "service life (Weibull model from install and renewal years)"))
    s.add_argument("action", choices=["fit"])
    s.add_argument("--assets", dest="file", metavar="FILE", required=True,
                   help=t("施設ID・設置年度・更新年度（または撤去年度）の CSV・XLSX", "CSV/XLSX of asset id, install and renewal years"))
    s.add_argument("--observed-until", type=int, metavar="YEAR",
                   help=t("観測終了年度（ファイルに列がない行の既定。省略時は今年度）",
                          "last fiscal year of the records (default: this fiscal year)"))
    s.add_argument("--records-since", type=int, metavar="YEAR",
                   help=t("記録開始年度（設置より後に記録が始まった場合。ファイルに列がない行の既定）",
                          "first fiscal year of the records, when they begin after installation (left truncation)"))
    s.add_argument("--horizon", type=int, default=DEFAULT_HORIZON, metavar="YEARS",
                   help=t(f"更新件数を予測する年数（既定 {DEFAULT_HORIZON}）", "years of renewals forecast"))
    s.add_argument("--format", choices=["json"], default="json")
    s.set_defaults(func=cmd_survival)


def cmd_survival(args: argparse.Namespace) -> int:
    """Fit the model and print its report; the forecast counts the renewals expected in each year after the end of
    observation for the assets in service then (renewed assets renewed again within the horizon included)."""
    from gunmane.engine.survival import SurvivalError, fit
    from gunmane.io.survival import AssetsFileError, read_assets

    try:
        assets = read_assets(Path(args.file), observed_until=args.observed_until,
                             records_since=args.records_since)
        result = fit(assets.lives)
    except AssetsFileError as exc:
        write_json({"status": "invalid", "errors": [i.as_dict(lang()) for i in exc.issues]})
        return EXIT_INVALID
    except SurvivalError as exc:
        write_json({"status": "invalid", "error": exc.as_json(lang())})
        return EXIT_INVALID
    out = result.as_json()
    out["observed_until"] = assets.observed_until
    out["records_since"] = args.records_since
    out["warnings"] = [i.as_dict(lang()) for i in assets.warnings]
    out["forecast"] = _forecast(result, assets.observed_until, max(1, args.horizon))
    write_json(out)
    return EXIT_OK


def _forecast(result: Any, until: int, horizon: int) -> dict[str, Any]:
    lives = result.lives
    ages = lives.exit[~lives.event]  # age at the end of observation of each asset still in service
    with_renewal = result.expected_renewals(ages, horizon)
    first = result.expected_renewals(ages, horizon, renew=False)
    return {"in_service": int(ages.size), "first_year": until + 1,
            "years": list(range(until + 1, until + 1 + horizon)),
            "renewals": [round(float(v), 3) for v in with_renewal],
            "first_renewals": [round(float(v), 3) for v in first],
            "note": "観測終了時に供用中の施設の、各年度に見込まれる更新件数（期待値）。renewals は更新した施設の再更新を含む。"}
