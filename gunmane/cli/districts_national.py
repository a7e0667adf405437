"""`gunmane districts national`: the whole country's 「どこと組むか」 on Dask (issue #14 §4).

    gunmane districts national [--workers N | --scheduler tcp://HOST:PORT] [--sweep 10:50:5]
        [--prefectures 29,24] [--time-limit S] [--q Q | --q-from FIT.json] [--bundle-limit L]
        [--office-only] --format json|xlsx --out FILE [--save]

The points are gathered here from the database — a municipality's bridges with coordinates in the ledger, or
else its 道路メンテナンス年報 bridge count at its office (flagged 役所位置で近似) — and handed to gunmane.scale as
plain data. `districts.py` hands ``gunmane districts national …`` to this parser (``attach``, with its own
``parse_sweep`` and q reader), so the ledger/points usage of `gunmane districts` is unchanged.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import Any

from gunmane.cli.common import EXIT_OK, UsageError, err, needs_out, setup_django, t, write_file, write_json


def _prefecture_codes(spec: str | None) -> list[str] | None:
    if not spec:
        return None
    codes = [c.strip().zfill(2) for c in spec.split(",") if c.strip()]
    bad = [c for c in codes if not (c.isdigit() and 1 <= int(c) <= 47)]
    if bad or not codes:
        raise UsageError(t(f"--prefectures {spec}: 都道府県コード（01〜47）をカンマ区切りで指定してください（例 29,24）。",
                           f"--prefectures {spec}: prefecture codes 01–47, comma separated (e.g. 29,24)."))
    return codes


def gather_inputs(codes: list[str] | None, *, office_only: bool) -> list[Any]:
    """Per prefecture, its municipalities' points: ledger bridges with coordinates, else the office
    approximation (the latest bridge count of the reference data, at the office), else none."""
    setup_django()
    from django.db.models import Q

    from gunmane.scale.national import MunicipalityInput, PrefectureInput
    from gunmane.web.registry.models import Facility, Municipality, MunicipalYearStats, Prefecture

    prefs = Prefecture.objects.all() if codes is None else Prefecture.objects.filter(code__in=codes)
    kinds = [k for k in Municipality.Kind.values if k not in ("prefecture", "other")]
    ledger: dict[str, list[tuple[str, float, float, int]]] = {}
    if not office_only:
        rows = (Facility.objects.filter(facility_type__code="bridge", lat__isnull=False, lon__isnull=False,
                                        manager__kind__in=kinds)
                .filter(Q(manager__prefecture__code__in=codes) if codes else Q())
                .order_by("manager__lg_code", "facility_id")
                .values_list("manager__lg_code", "facility_id", "lat", "lon"))
        for lg, fid, lat, lon in rows:
            if lat is not None and lon is not None:
                ledger.setdefault(lg, []).append((str(fid), float(lat), float(lon), 1))
    bridges: dict[str, int] = {}
    for lg, n in (MunicipalYearStats.objects.filter(bridges_inspected__isnull=False)
                  .order_by("municipality__lg_code", "fiscal_year")
                  .values_list("municipality__lg_code", "bridges_inspected")):
        if n is not None:
            bridges[lg] = int(n)  # the latest fiscal year wins
    out = []
    for pref in prefs.order_by("code"):
        munis = []
        for m in Municipality.objects.filter(prefecture=pref, kind__in=kinds).order_by("lg_code"):
            if m.lg_code in ledger:
                munis.append(MunicipalityInput(m.lg_code, m.name, "ledger", tuple(ledger[m.lg_code])))
            elif bridges.get(m.lg_code) and m.office_lat is not None and m.office_lon is not None:
                munis.append(MunicipalityInput(m.lg_code, m.name, "office",
                                               (("役所", float(m.office_lat), float(m.office_lon), bridges[m.lg_code]),)))
            else:
                munis.append(MunicipalityInput(m.lg_code, m.name, "none", ()))
        out.append(PrefectureInput(pref.code, pref.name, tuple(munis)))
    return out


def cmd_national(args: argparse.Namespace, *, parse_sweep: Callable[[str], list[float]],
                 q_of: Callable[[argparse.Namespace], tuple[float, str]]) -> int:
    from gunmane.io.districting import national_xlsx
    from gunmane.scale import national

    if args.format == "xlsx":
        needs_out(args.format, args.out)
    if args.workers is not None and args.workers < 1:
        raise UsageError(t("--workers は1以上の整数にしてください。", "--workers must be ≥ 1."))
    if args.scheduler and not args.scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise UsageError(t(f"--scheduler {args.scheduler}: tcp://ホスト:ポート の形で指定してください。",
                           f"--scheduler {args.scheduler}: give tcp://HOST:PORT."))
    if args.bundle_limit < 1:
        raise UsageError(t("--bundle-limit は1以上の整数にしてください。", "--bundle-limit must be ≥ 1."))
    if not args.time_limit > 0:
        raise UsageError(t("--time-limit は0より大きい秒数にしてください。", "--time-limit must be > 0."))
    sweep = parse_sweep(args.sweep)
    if args.q is None and not args.q_from:
        q, q_source = national.DEFAULT_Q, national.Q_SOURCE
    else:
        q, q_source = q_of(args)
    inputs = gather_inputs(_prefecture_codes(args.prefectures), office_only=args.office_only)
    n_tasks = len(national.tasks(inputs, sweep))
    where = args.scheduler or t(f"この計算機の {args.workers or 2} プロセス", f"{args.workers or 2} local processes")
    err(t(f"{len(inputs)} 都道府県 × {len(sweep)} 距離（{n_tasks} 件の計算）を {where} で実行します"
          f"（1件最長 {args.time_limit:g} 秒）…",
          f"Running {n_tasks} tasks ({len(inputs)} prefectures × {len(sweep)} distances) on {where}…"))
    with national.client(args.workers, args.scheduler) as c:
        doc = national.run(inputs, sweep=sweep, q=q, bundle_limit=args.bundle_limit, time_limit_s=args.time_limit,
                           dask_client=c, q_source=q_source)
    import datetime as dt
    import shlex
    import sys

    doc["provenance"] = {"command": "gunmane " + " ".join(shlex.quote(a) for a in (sys.argv[1:] or ["districts",
                                                                                                    "national"])),
                         "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                         "office_only": bool(args.office_only), "q_source": q_source}
    err(t(f"{doc['tasks']} 件を {doc['seconds']:.1f} 秒で計算しました（ワーカー {doc['workers']}）。",
          f"{doc['tasks']} tasks in {doc['seconds']:.1f} s ({doc['workers']} workers)."))
    if args.save:
        from gunmane.web.analysis.models import NationalDistricting

        NationalDistricting.objects.create(result=doc, office_only=bool(args.office_only))
        err(t("結果を保存しました（見える化の「全国の束ね効果」に表示されます）。", "Saved the result."))
    written = t(f"全国の地区割りを書き出しました: {args.out}", f"Wrote the national districting: {args.out}")
    if args.format == "xlsx":
        write_file(args.out, national_xlsx(doc), written)
    elif args.out or not args.save:
        write_json(doc, args.out, written=written)
    return EXIT_OK


def build_parser(parse_sweep: Callable[[str], list[float]],
                 q_of: Callable[[argparse.Namespace], tuple[float, str]]) -> argparse.ArgumentParser:
    """The parser of `gunmane districts national`; ``parse_sweep`` and ``q_of`` are `gunmane districts`' own
    (handed in by districts.py, so that this module does not import it back)."""
    p = argparse.ArgumentParser(prog="gunmane districts national", description=t(
        "全国：都道府県ごとに、市区町村が単独で発注する場合と最適な地区割りの期待契約数を比べる（Dask で並列計算）",
        "the whole country: separate vs districted expected contracts per prefecture, on Dask"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help=t("この計算機で使うワーカープロセス数（既定 2）",
                                                                  "local worker processes (default 2)"))
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help=t("既存の Dask スケジューラに接続して計算",
                                                                       "use an existing Dask scheduler"))
    p.add_argument("--sweep", default="10:50:5", metavar="START:STOP:STEP",
                   help=t("最大距離 D の範囲（km、既定 10:50:5）", "distances (km), default 10:50:5"))
    p.add_argument("--prefectures", metavar="CODES", help=t("都道府県コード（カンマ区切り、既定はすべて）",
                                                            "prefecture codes (default all)"))
    p.add_argument("--time-limit", type=float, default=4.0, metavar="SEC",
                   help=t("都道府県×距離ごとの計算時間の上限（秒、既定 4）", "time limit per task (s, default 4)"))
    q = p.add_mutually_exclusive_group()
    q.add_argument("--q", type=float, metavar="Q", help=t("橋ごとの年間補修確率（既定 0.0123: 宮城県の研究の値）",
                                                          "repair probability a year (default 0.0123)"))
    q.add_argument("--q-from", metavar="FIT.json", help=t("gunmane deterioration fit --format json の結果から読む",
                                                          "read q from gunmane deterioration fit"))
    p.add_argument("--bundle-limit", type=int, default=5, metavar="L",
                   help=t("一つの契約にまとめる補修の上限（件、既定 5: 宮城県の研究の設定）", "repairs per contract (default 5)"))
    p.add_argument("--office-only", action="store_true",
                   help=t("台帳を使わず、すべて役所位置の近似で計算（公開用）", "office approximation only (public)"))
    p.add_argument("--format", choices=["json", "xlsx"], default="json")
    p.add_argument("--out", "--output", dest="out", metavar="FILE")
    p.add_argument("--save", action="store_true", help=t("結果をデータベースに保存して見える化に表示",
                                                         "save the result for the web page"))
    p.set_defaults(func=functools.partial(cmd_national, parse_sweep=parse_sweep, q_of=q_of))
    return p


def attach(districts_parser: argparse.ArgumentParser, parse_sweep: Callable[[str], list[float]],
           q_of: Callable[[argparse.Namespace], tuple[float, str]]) -> None:
    """Make ``gunmane districts national …`` parse with this module's parser (everything else as before)."""
    national_parser = build_parser(parse_sweep, q_of)
    base = type(districts_parser)

    class _Districts(base):  # type: ignore[valid-type, misc]
        def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
            if args and args[0] == "national":
                return national_parser.parse_known_args(args[1:], namespace)
            return super().parse_known_args(args, namespace)

    districts_parser.__class__ = _Districts
    districts_parser.epilog = t("全国の計算: gunmane districts national --help", "National: gunmane districts national --help")
