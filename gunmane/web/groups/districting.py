"""地域分割 (issue #14) from the ledger, shared by the group page and `gunmane districts --ledger`.

The facilities of some municipalities (with coordinates) as the districting engine's FacilityPoints, each
with its Facility row and its current grade; q from a value, a fit of the same facilities' inspection pairs,
or the JSON of `gunmane deterioration fit`; and per-facility q from each facility's current grade
(gunmane.engine.deterioration.repair_probability_by_grade). Pure reads; nothing is written here except the
group's saved districting (save_districting), which the lot design reads (gunmane.web.groups.effects)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gunmane.engine.deterioration import (
    DeteriorationError,
    StateSpace,
    fit,
    pairs_from_histories,
    repair_probability_by_grade,
)
from gunmane.engine.deterioration.model import REPAIR_TRIGGER
from gunmane.engine.districting.types import FacilityPoint, Result
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, Municipality

GRADE_JA = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


class QSourceError(ValueError):
    """A q source that cannot be used (Japanese message for the page and the command line)."""


@dataclass(frozen=True)
class LedgerPoints:
    """The facilities of a set of municipalities for districting."""

    points: tuple[FacilityPoint, ...]  # with coordinates
    without: tuple[str, ...]  # ids of those without 緯度・経度 (left out, counted)
    synthetic: bool  # any synthetic (demo) facility among them
    grades: Mapping[str, int]  # point id → the current (latest) grade 1…4, where the ledger has one
    pks: Mapping[str, int]  # point id → Facility primary key


@dataclass(frozen=True)
class RepairQ:
    """The repair probability a year (the instance's q) and, when known, q per current grade (Ⅰ…Ⅳ)."""

    q: float
    source: str  # Japanese: where q came from
    by_grade: tuple[float, ...] | None = None  # q_g for grade g = 1, 2, … (index g − 1)
    trigger: str = ""


def scope_codes(where: Any) -> tuple[str, ...] | None:
    """The 団体コード whose facilities a scope holds (a prefecture's own facilities too); None = national."""
    if where.kind.value == "national":
        return None
    codes = set(where.members) | ({where.code} if where.kind.value == "municipality" else set())
    if where.kind.value == "prefecture":
        codes |= set(Municipality.objects.filter(prefecture__code=where.code, kind="prefecture")
                     .values_list("lg_code", flat=True))
    return tuple(sorted(codes))


def ledger_points(codes: Sequence[str] | None, facility_type: str = "bridge") -> LedgerPoints:
    """The facilities of ``codes`` (None: all) of one type ("all": every type), ordered by 団体コード and 施設ID.
    Ids are the ledger's 施設ID (「団体コード:施設ID」 where two municipalities share one), as the CLI writes."""
    from gunmane.io.districting import unique_ids

    qs = Facility.objects.all() if codes is None else Facility.objects.filter(manager__lg_code__in=list(codes))
    if facility_type != "all":
        qs = qs.filter(facility_type__code=facility_type)
    rows = list(qs.order_by("manager__lg_code", "facility_id")
                .values_list("manager__lg_code", "facility_id", "lat", "lon", "is_synthetic", "latest_grade", "pk"))
    ids = unique_ids([(lg, fid) for lg, fid, *_ in rows])
    points, without, grades, pks, synthetic = [], [], {}, {}, False
    for fid, (lg, _f, lat, lon, syn, grade, pk) in zip(ids, rows, strict=True):
        synthetic = synthetic or bool(syn)
        pks[fid] = pk
        if grade:
            grades[fid] = int(grade)
        if lat is None or lon is None:
            without.append(fid)
        else:
            points.append(FacilityPoint(fid, lg, float(lat), float(lon)))
    return LedgerPoints(tuple(points), tuple(without), synthetic, grades, pks)


def with_grade_q(lp: LedgerPoints, rq: RepairQ) -> tuple[tuple[FacilityPoint, ...], int]:
    """The points with their own q from their current grade (q_g of ``rq``); points without a grade keep the
    instance's q. Returns the points and how many had no grade."""
    if rq.by_grade is None:
        raise QSourceError("健全性ごとの補修確率がありません（劣化予測の推定結果が必要です）。")
    out, missing = [], 0
    for p in lp.points:
        g = lp.grades.get(p.id)
        if g is None:
            missing += 1
            out.append(p)
        else:
            out.append(replace(p, q=float(rq.by_grade[min(g, len(rq.by_grade)) - 1])))
    return tuple(out), missing


def _per_grade(theta: Any, trigger: int) -> tuple[float, ...]:
    return tuple(float(x) for x in repair_probability_by_grade(np.asarray(theta, dtype=float), trigger))


def q_from_fit_json(doc: Any, name: str) -> RepairQ:
    """q and q per grade from the JSON of ``gunmane deterioration fit`` (``repair_probability`` and
    ``hazards``); QSourceError in Japanese when it is not such a file."""
    rp = doc.get("repair_probability") if isinstance(doc, dict) else None
    per_year = rp.get("per_year") if isinstance(rp, dict) else rp
    if isinstance(per_year, bool) or not isinstance(per_year, (int, float)) or not 0 < per_year <= 1 \
            or not math.isfinite(per_year):
        raise QSourceError(f"{name}: 補修確率（repair_probability の per_year、0より大きく1以下）がありません。"
                           "劣化予測の推定結果を保存した JSON ファイルを指定してください。")
    trigger_label = str(rp.get("trigger") or "") if isinstance(rp, dict) else ""
    source = f"劣化予測の推定結果 {name} の年間補修確率" + (
        f"（健全性{trigger_label}で補修）" if trigger_label else "")
    hazards = doc.get("hazards")
    states = doc.get("states")
    by_grade = None
    if isinstance(hazards, dict) and hazards and all(isinstance(v, (int, float)) and v > 0 for v in hazards.values()):
        labels = list(states) if isinstance(states, list) else [*hazards, "end"]
        trigger = labels.index(trigger_label) if trigger_label in labels else REPAIR_TRIGGER
        theta = [float(v) for v in hazards.values()]
        if 1 <= trigger <= len(theta):
            by_grade = _per_grade(theta, trigger)
    return RepairQ(float(per_year), source, by_grade, trigger_label)


def q_from_fit_text(text: str, name: str) -> RepairQ:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QSourceError(f"{name}: JSON として読み取れません（{exc.lineno}行目: {exc.msg}）。"
                           "劣化予測の推定結果を保存した JSON ファイルを指定してください。") from exc
    return q_from_fit_json(doc, name)


def q_from_ledger_fit(codes: Sequence[str], facility_type: str, label: str) -> RepairQ:
    """Fit the Markov hazard model to the inspection pairs of ``codes``' facilities of the type (as
    `gunmane deterioration fit --ledger` does) and read q and q per grade from it (cached per data generation)."""
    key = frames.fingerprint()

    def build() -> RepairQ | str:
        led = frames.ledger_frames(tuple(sorted(codes)), key)
        fac, ins = led.facilities, led.inspections
        if facility_type != "all":
            keep = set(fac.loc[fac["facility_type"] == facility_type, "facility"])
            ins = ins[ins["facility"].isin(keep)]
        try:
            result = fit(pairs_from_histories(ins, led.measures, facilities=fac), states=StateSpace.grades())
        except DeteriorationError as exc:
            return str(getattr(exc, "message_ja", None) or exc)
        rp = result.repair_probability()
        k = min(REPAIR_TRIGGER, len(result.hazards))
        return RepairQ(float(rp["per_year"]),
                       f"{label}の点検の組 {result.n_pairs:,} 組から推定した劣化予測（マルコフ劣化ハザードモデル）の"
                       f"年間補修確率（健全性{GRADE_JA.get(k + 1, rp['trigger'])}で補修し、補修後はⅠに戻る）",
                       _per_grade(result.theta, k), str(rp["trigger"]))

    value = frames.cached("districting_fit", key, (tuple(sorted(codes)), facility_type), build)
    if isinstance(value, str):
        raise QSourceError(f"{label}の点検記録から劣化予測を推定できません：{value}")
    return value


def grade_q_text(rq: RepairQ, missing: int, total: int) -> str:
    """The assumption sentence of per-facility q (Japanese)."""
    assert rq.by_grade is not None
    parts = "、".join(f"{GRADE_JA.get(g, g)} {q:.4g}" for g, q in enumerate(rq.by_grade, start=1))
    text = (f"施設ごとの q は今の健全性から1年以内に補修が必要になる確率（{parts}。補修の目安の健全性以上は1）"
            "、地区の期待契約数はポアソン二項分布で計算しています。")
    if missing:
        text += f"健全性の記録がない {missing:,} 施設（{total:,} 施設中）は q = {rq.q:.4g} としました。"
    return text


def facility_districts(result: Result, pks: Mapping[str, int]) -> dict[str, int]:
    """Facility primary key (as text) → district id of a result (what the lot design reads)."""
    return {str(pks[fid]): r.id for r in result.regions for fid in r.facility_ids if fid in pks}
