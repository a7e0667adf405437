"""A complete I–IV hazard model for life-cycle costing, from whatever the data can identify.

Comparing "act at III" with "act at IV" needs the hazard out of III.  Municipal histories rarely
contain a III→IV transition (III is repaired before the next inspection), so the full I–IV fit is
often not identifiable.  In that order this module uses:

1. the maximum-likelihood fit on I–IV when every hazard is identified;
2. the fit with IV merged into III (the Miyagi study's model) for θ_I and θ_II, plus the θ_III
   parameter (an assumption the user should set);
3. the published Miyagi estimates for θ_I and θ_II (quantitative-methods B3) plus θ_III, when the
   histories cannot identify even those.

The chosen path and the reason the better ones failed are carried in ``source`` and ``assumptions``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gunmane.engine.deterioration import (
    DeteriorationError,
    FitResult,
    MarkovHazardModel,
    PairSet,
    StateSpace,
    fit,
)
from gunmane.engine.parameters import Parameter

__all__ = ["MIN_TRANSITIONS", "HazardChoice", "HazardDefaults", "complete_hazards", "scale_hazards"]

#: fewest observed transitions out of a grade for its hazard to be taken from the data (assumption)
MIN_TRANSITIONS = 20


@dataclass(frozen=True)
class HazardDefaults:
    """Fallback hazards (per year) with their sources."""

    theta_i: Parameter
    theta_ii: Parameter
    theta_iii: Parameter


@dataclass(frozen=True)
class HazardChoice:
    model: MarkovHazardModel
    path: str                      # "fit_full" | "fit_merged_plus_default" | "published_plus_default"
    fit: FitResult | None
    reasons: tuple[str, ...]       # why better paths were not taken (Japanese)


def complete_hazards(pairs: PairSet | pd.DataFrame | None, defaults: HazardDefaults, *,
                     scope_label: str = "", min_transitions: int = MIN_TRANSITIONS) -> HazardChoice:
    """The best available I–IV model for ``pairs`` (see the module docstring for the order).

    A hazard is taken from the data only when at least ``min_transitions`` pairs left that grade: an
    estimate from three III→IV transitions is identifiable but far too uncertain to price a 100-year
    strategy on (the authors of the model ask for thousands of pairs, quantitative-methods B2).
    """
    reasons: list[str] = []
    theta_iii = defaults.theta_iii
    where = f"（{scope_label}）" if scope_label else ""
    if pairs is not None:
        try:
            full = fit(pairs, states=StateSpace.grades())
            out_of = [int(full.transitions[i, i + 1:].sum()) for i in range(3)]
            if min(out_of) < min_transitions:
                worst = int(np.argmin(out_of))
                raise DeteriorationError(
                    "too_few_transitions",
                    f"健全性{['Ⅰ', 'Ⅱ', 'Ⅲ'][worst]}から先へ進んだペアが {out_of[worst]} 件しかなく"
                    f"（{min_transitions} 件未満）、ハザードを信頼して使えません。",
                    f"only {out_of[worst]} transitions out of grade {worst + 1}")
            model = MarkovHazardModel(
                StateSpace.grades(), full.hazards,
                source=f"点検履歴からの最尤推定{where}：{full.n_pairs:,} ペア（Ⅰ〜Ⅳ）",
                assumptions=full.assumptions)
            return HazardChoice(model, "fit_full", full, ())
        except DeteriorationError as exc:
            reasons.append(f"Ⅰ〜Ⅳ の推定ができません：{exc.message_ja}")
        try:
            merged = fit(pairs, states=StateSpace.grades(merge_iv=True))
            out_of = [int(merged.transitions[i, i + 1:].sum()) for i in range(2)]
            if min(out_of) < min_transitions:
                worst = int(np.argmin(out_of))
                raise DeteriorationError(
                    "too_few_transitions",
                    f"健全性{['Ⅰ', 'Ⅱ'][worst]}から先へ進んだペアが {out_of[worst]} 件しかありません"
                    f"（{min_transitions} 件未満）。", f"only {out_of[worst]} transitions out of grade {worst + 1}")
            hazards = (*merged.hazards, theta_iii.value)
            model = MarkovHazardModel(
                StateSpace.grades(), hazards,
                source=(f"点検履歴からの最尤推定{where}（Ⅳ をⅢに統合、{merged.n_pairs:,} ペア）で Ⅰ→Ⅱ・Ⅱ→Ⅲ のハザード、"
                        f"Ⅲ→Ⅳ は {theta_iii.value:g}/年（{theta_iii.source}）"),
                assumptions=(*merged.assumptions,
                             f"Ⅲ→Ⅳ のハザード {theta_iii.value:g}/年（{theta_iii.source}）。"))
            return HazardChoice(model, "fit_merged_plus_default", merged, tuple(reasons))
        except DeteriorationError as exc:
            reasons.append(f"Ⅳ をⅢに統合した推定もできません：{exc.message_ja}")
    else:
        reasons.append("点検履歴がありません。")
    hazards = (defaults.theta_i.value, defaults.theta_ii.value, theta_iii.value)
    model = MarkovHazardModel(
        StateSpace.grades(), hazards,
        source=(f"公表値 Ⅰ→Ⅱ {defaults.theta_i.value:g}/年、Ⅱ→Ⅲ {defaults.theta_ii.value:g}/年（{defaults.theta_i.source}）、"
                f"Ⅲ→Ⅳ {theta_iii.value:g}/年（{theta_iii.source}）"),
        assumptions=("劣化は1段階ずつ進み、各健全性での滞在時間は指数分布（一定のハザード）に従う（多段階指数ハザードモデル）。",
                     "この団体・群の点検履歴からは推定できないため、公表された推定値を使っています：" + " ".join(reasons)))
    return HazardChoice(model, "published_plus_default", None, tuple(reasons))


def scale_hazards(pairs: PairSet | pd.DataFrame | None, states: StateSpace, defaults: tuple[Parameter, ...], *,
                  scope_label: str = "", min_transitions: int = MIN_TRANSITIONS) -> HazardChoice:
    """The hazard model on a sector's own scale (``states`` from the scale, good → bad).

    The fit on the scope's inspection pairs when at least ``min_transitions`` pairs left every grade but the
    worst; otherwise the shipped defaults of the scale (one θ per grade, each with its source: a published
    estimate, one derived from it, or an assumption the user should set)."""
    if len(defaults) != states.n - 1:
        raise DeteriorationError("no_defaults", f"区分 {'・'.join(states.labels)} の劣化ハザードの既定値がありません"
                                 f"（{states.n - 1} 個必要、{len(defaults)} 個）。", "no default hazards for this scale")
    where = f"（{scope_label}）" if scope_label else ""
    reasons: list[str] = []
    if pairs is not None:
        try:
            result = fit(pairs, states=states)
            out_of = [int(result.transitions[i, i + 1:].sum()) for i in range(states.n - 1)]
            worst = int(np.argmin(out_of))
            if out_of[worst] >= min_transitions:
                model = MarkovHazardModel(states, result.hazards,
                                          source=f"点検履歴からの最尤推定{where}：{result.n_pairs:,} ペア",
                                          assumptions=result.assumptions)
                return HazardChoice(model, "fit_full", result, ())
            reasons.append(f"区分 {states.labels[worst]} から先へ進んだペアが {out_of[worst]} 件しかありません"
                           f"（{min_transitions} 件未満）。")
        except DeteriorationError as exc:
            reasons.append(f"点検履歴から推定できません：{exc.message_ja}")
    else:
        reasons.append("点検履歴がありません。")
    parts = "、".join(f"{states.labels[i]}→{states.labels[i + 1]} {p.value:g}/年" for i, p in enumerate(defaults))
    sources = " ".join(dict.fromkeys(f"{p.source}" for p in defaults))
    model = MarkovHazardModel(
        states, tuple(p.value for p in defaults), source=f"既定値 {parts}（{sources}）",
        assumptions=("劣化は1段階ずつ進み、各区分での滞在時間は指数分布（一定のハザード）に従う（多段階指数ハザードモデル）。",
                     "この団体・群の点検履歴からは推定できないため、既定値を使っています：" + " ".join(reasons)))
    return HazardChoice(model, "defaults", None, tuple(reasons))
