"""The whole country's 「どこと組むか」: for every prefecture, expected contracts a year with each municipality
ordering alone vs the best districts at each D, and whom each municipality is grouped with (issue #14 §4).

Inputs are plain data: per prefecture, its municipalities, each with points (id, lat, lon, weight) and the basis
of those points — ``ledger`` (its own facilities with coordinates, weight 1) or ``office`` (the 道路メンテナンス
年報 bridge count placed at the municipal office as one weighted point: an approximation, flagged as such).
One task per (prefecture, D) runs the engine's ``solve`` with a time limit; the assembly takes, for each D, the
best solution found at any D' ≤ D (a districting feasible for D' is feasible for D), so the districted figure
never rises with D.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from gunmane.engine.districting import solve as solving
from gunmane.engine.districting.contracts import expected_contracts_weighted
from gunmane.engine.districting.types import FacilityPoint, Instance

Basis = Literal["ledger", "office", "none"]

BASIS_JA = {"ledger": "台帳の施設位置", "office": "役所位置で近似", "none": "橋梁数の資料なし"}

#: L: the repairs one contract bundles — the Tohoku University study's setting (quantitative-methods.md, f(N, L))
DEFAULT_BUNDLE_LIMIT = 5
BUNDLE_LIMIT_SOURCE = "東北大学による宮城県の橋梁の束ね・地区割りの研究の設定"
#: q: the Miyagi study's renewal figure (quantitative-methods.md B5: q = π·r ≈ 0.0123 = 1/81.1 years), RC bridges
DEFAULT_Q = 0.0123
Q_SOURCE = ("東北大学による宮城県のRC橋梁の研究で、マルコフ劣化モデルから求めた年間の補修需要確率 0.0123"
            "（補修後に新しい状態へ戻る定常状態での値）を全国の橋に当てはめた仮定値。自団体の点検結果から推定した"
            "補修確率を与えると、より確かな結果になります")
DEFAULT_SWEEP = (10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0)
DEFAULT_TIME_LIMIT_S = 4.0


@dataclass(frozen=True)
class MunicipalityInput:
    lg_code: str
    name: str
    basis: Basis
    points: tuple[tuple[str, float, float, int], ...]  # (id, lat, lon, weight); empty when basis is "none"

    @property
    def facilities(self) -> int:
        return sum(p[3] for p in self.points)


@dataclass(frozen=True)
class PrefectureInput:
    code: str
    name: str
    municipalities: tuple[MunicipalityInput, ...]


def tasks(prefectures: Sequence[PrefectureInput], sweep: Sequence[float]) -> list[tuple[str, float]]:
    """The task list: every (prefecture code, D) with at least one point."""
    return [(p.code, float(d)) for p in prefectures if any(m.points for m in p.municipalities) for d in sweep]


def solve_task(code: str, points: tuple[tuple[str, str, float, float, int], ...], d_km: float, q: float,
               bundle_limit: int, time_limit_s: float) -> dict[str, Any]:
    """One (prefecture, D): a pure function of plain data (runs on a Dask worker). ``points``: (lg_code, id, lat,
    lon, weight). Returns the status, objective, bound, gap and the districts as lists of point ids."""
    inst = Instance(points=tuple(FacilityPoint(f"{lg}:{pid}", lg, lat, lon, weight=w)
                                 for lg, pid, lat, lon, w in points),
                    max_distance_km=d_km, bundle_limit=bundle_limit, q=q)
    res = solving.solve(inst, time_limit_s=time_limit_s)
    return {"code": code, "d": d_km, "status": res.status, "method": res.method, "objective": res.objective,
            "bound": res.bound, "gap": res.gap, "seconds": res.seconds, "separate": res.baselines.separate,
            "regions": [list(r.facility_ids) for r in res.regions]}


def _plain_points(pref: PrefectureInput) -> tuple[tuple[str, str, float, float, int], ...]:
    return tuple((m.lg_code, pid, lat, lon, w) for m in pref.municipalities for pid, lat, lon, w in m.points
                 if w > 0)


@contextmanager
def client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` (tcp://HOST:PORT) when given, else a LocalCluster of
    ``workers`` processes (one thread each; default 2)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as c:
            yield c
        return
    with LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc, \
            Client(lc) as c:
        yield c


def run(prefectures: Sequence[PrefectureInput], *, sweep: Sequence[float] = DEFAULT_SWEEP, q: float = DEFAULT_Q,
        bundle_limit: int = DEFAULT_BUNDLE_LIMIT, time_limit_s: float = DEFAULT_TIME_LIMIT_S, dask_client: Any,
        q_source: str = Q_SOURCE) -> dict[str, Any]:
    """Submit every (prefecture, D) to ``dask_client``, gather, and assemble (``assemble``)."""
    t0 = time.monotonic()
    by_code = {p.code: p for p in prefectures}
    plain = {p.code: _plain_points(p) for p in prefectures}
    # the largest prefectures first, so that the last tasks are short ones
    todo = sorted(tasks(prefectures, sweep), key=lambda t: (-len(plain[t[0]]), t[0], t[1]))
    futures = [dask_client.submit(solve_task, code, plain[code], d, q, bundle_limit, time_limit_s, pure=False)
               for code, d in todo]
    outcomes = dask_client.gather(futures)
    workers = len(dask_client.scheduler_info().get("workers", {}))
    doc = assemble([by_code[c] for c in sorted(by_code)], outcomes, sweep=sweep, q=q, bundle_limit=bundle_limit)
    doc.update(seconds=time.monotonic() - t0, workers=workers, time_limit_s=time_limit_s, tasks=len(todo))
    basis = {b: sum(m.basis == b for p in prefectures for m in p.municipalities) for b in ("ledger", "office", "none")}
    doc["assumptions"] = assumptions(q_source, bundle_limit, time_limit_s, basis)
    return doc


def _key(d: float) -> str:
    return f"{d:g}"


def assemble(prefectures: Sequence[PrefectureInput], outcomes: Sequence[dict[str, Any]], *, sweep: Sequence[float],
             q: float, bundle_limit: int) -> dict[str, Any]:
    """The national document (docs/districting-cli.md 「全国」): per prefecture and per municipality."""
    by_task = {(o["code"], float(o["d"])): o for o in outcomes}
    ds = sorted(float(d) for d in sweep)
    prefs, munis = [], []
    for pref in prefectures:
        lg_of = {f"{m.lg_code}:{pid}": m.lg_code for m in pref.municipalities for pid, *_ in m.points}
        weight = {f"{m.lg_code}:{pid}": w for m in pref.municipalities for pid, _a, _b, w in m.points}
        alone = {m.lg_code: expected_contracts_weighted([q], [m.facilities], bundle_limit) if m.facilities else 0.0
                 for m in pref.municipalities}
        separate = math.fsum(alone.values())
        districted: dict[str, float | None] = {}
        reduction: dict[str, float | None] = {}
        status: dict[str, dict[str, Any]] = {}
        neighbours: dict[str, dict[str, list[str]]] = {m.lg_code: {} for m in pref.municipalities}
        share: dict[str, dict[str, float]] = {m.lg_code: {} for m in pref.municipalities}
        size: dict[str, dict[str, int]] = {m.lg_code: {} for m in pref.municipalities}
        best: dict[str, Any] | None = None
        for d in ds:
            o = by_task.get((pref.code, d))
            if o is not None and o["objective"] is not None and (best is None or o["objective"] < best["objective"]):
                best = o
            if o is not None:
                status[_key(d)] = {"status": o["status"], "gap": o["gap"], "seconds": o["seconds"],
                                   "method": o["method"], "from_d": _key(best["d"]) if best else None}
            if best is None:
                districted[_key(d)] = reduction[_key(d)] = None
                continue
            districted[_key(d)] = best["objective"]
            reduction[_key(d)] = (separate - best["objective"]) / separate * 100 if separate > 0 else 0.0
            for ids in best["regions"]:
                lgs = sorted({lg_of[i] for i in ids})
                n = sum(weight[i] for i in ids)
                f = expected_contracts_weighted([q], [n], bundle_limit)
                for lg in lgs:
                    neighbours[lg][_key(d)] = [x for x in lgs if x != lg]
                    share[lg][_key(d)] = f
                    size[lg][_key(d)] = n
        counts = {b: sum(m.basis == b for m in pref.municipalities) for b in ("ledger", "office", "none")}
        prefs.append({"code": pref.code, "name": pref.name, "separate": separate, "districted": districted,
                      "reduction": reduction, "basis": counts,
                      "facilities": sum(m.facilities for m in pref.municipalities),
                      "municipalities": len(pref.municipalities), "tasks": status})
        for m in pref.municipalities:
            munis.append({"lg_code": m.lg_code, "name": m.name, "prefecture": pref.code,
                          "separate": alone[m.lg_code] if m.facilities else None,
                          "neighbours": neighbours[m.lg_code], "district_contracts": share[m.lg_code],
                          "district_facilities": size[m.lg_code],
                          "facilities": m.facilities, "basis": m.basis})
    return {"prefectures": prefs, "municipalities": munis, "q": q, "bundle_limit": bundle_limit,
            "sweep": [_key(d) for d in ds]}


def assumptions(q_source: str, bundle_limit: int, time_limit_s: float, basis: dict[str, int]) -> list[str]:
    """The sentences (Japanese) every national result carries; ``basis``: municipalities per data basis."""
    ledger, office, none = basis.get("ledger", 0), basis.get("office", 0), basis.get("none", 0)
    return [
        f"補修需要確率: {q_source}。",
        f"1契約でまとめる補修は最大 {bundle_limit} 件（{BUNDLE_LIMIT_SOURCE if bundle_limit == DEFAULT_BUNDLE_LIMIT else '指定値'}）。",
        f"施設の位置: 台帳の施設位置を使った市区町村 {ledger}、役所位置で近似した市区町村 {office}"
        f"（道路メンテナンス年報の令和2〜6年度の橋梁数を役所の位置に置いた一地点。その橋はまとめて一つの地区に入ります）、"
        f"橋梁数の資料がない市区町村 {none}（計算に含めません）。",
        "距離は地球を半径 6,371 km の球とした大円距離。地区の範囲は同じ都道府県の市区町村に限ります（都道府県をまたぐ地区は計算しません）。",
        f"計算は都道府県×距離ごとに最長 {time_limit_s:g} 秒。厳密解法を使えない重み付き地点では構築＋局所探索で解き、"
        "下界とのギャップを示します。小さい距離で見つけた地区割りは大きい距離でも使えるため、各距離では"
        "それ以下の距離で得た最良の地区割りを採ります。",
        "各市区町村が単独で発注する場合の契約数は距離によらない値です。",
    ]
