"""The US National Bridge Inventory (NBI) condition panel mapped to 健全性 I–IV — validation data.

NBI condition ratings (items 58 deck, 59 superstructure, 60 substructure) run 9 (excellent) … 0
(failed), 'N' = not applicable.  Mapping used by gunmane (documented in docs/deterioration.md):

    NBI 9–7 → I (good),  6–5 → II (fair),  4 → III (poor),  3–0 → IV (serious or worse)

An observation history is cut into segments wherever the rating went up (repair, rehabilitation,
replacement or inspector variance — the source project's intervention columns flag these) or the
rating is 'N'/blank; consecutive observations inside a segment form the pairs.  The same segments
feed both gunmane and R's msm in the cross-check, so both see exactly the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gunmane.engine.deterioration.data import EXCLUSION_REASONS, PairSet

if TYPE_CHECKING:  # imported in the functions that make frames (#15 §6: a pairs-file fit does without pandas)
    import pandas as pd

__all__ = ["NBI_GRADE_MAP", "NbiPanel", "nbi_grade", "nbi_panel"]

# NBI rating → 健全性 (1 = I … 4 = IV)
NBI_GRADE_MAP = {9: 1, 8: 1, 7: 1, 6: 2, 5: 2, 4: 3, 3: 4, 2: 4, 1: 4, 0: 4}


def nbi_grade(rating: pd.Series) -> pd.Series:
    """NBI 0–9 ratings (str or int; 'N' or blank → NaN) → grades 1–4 (float, NaN when not rated)."""
    import pandas as pd

    raw = pd.to_numeric(rating, errors="coerce")
    return raw.map(NBI_GRADE_MAP).astype(float)


@dataclass(frozen=True)
class NbiPanel:
    """observations: subject (segment id), structure_number, year, raw rating, grade (1–4), years
    (time since the segment's first observation) — one row per kept bridge-year, in order.
    pairs: consecutive observations of each segment (facility_id = segment id)."""

    observations: pd.DataFrame
    pairs: PairSet
    component: str


def nbi_panel(panel: pd.DataFrame, component: str = "deck") -> NbiPanel:
    """Segments and pairs of one NBI component (deck / superstructure / substructure) from the long panel
    (structure_number, year, <component>, <component>_intervention)."""
    import pandas as pd

    flag_col = f"{component}_intervention"
    df = panel[["structure_number", "year", component]
               + ([flag_col] if flag_col in panel.columns else [])
               + (["age"] if "age" in panel.columns else [])].copy()
    df["year"] = pd.to_numeric(df["year"]).astype(np.int64)
    df["age10"] = pd.to_numeric(df["age"], errors="coerce") / 10.0 if "age" in df.columns else np.nan
    df = df.sort_values(["structure_number", "year"], kind="stable").reset_index(drop=True)
    df["raw"] = pd.to_numeric(df[component], errors="coerce")
    df["grade"] = nbi_grade(df[component])
    flag = df[flag_col].fillna("").astype(str).str.strip().ne("") if flag_col in df.columns \
        else pd.Series(False, index=df.index)
    same = df["structure_number"].eq(df["structure_number"].shift())
    prev_raw = df["raw"].shift()
    rated = df["grade"].notna()
    prev_rated = rated.shift(fill_value=False)
    # why a new segment starts at this row (relative to the previous row of the same bridge)
    cut_flag = same & rated & prev_rated & flag
    cut_up = same & rated & prev_rated & ~flag & (df["raw"] > prev_raw)
    cut_na = same & rated & ~prev_rated
    new_segment = ~same | cut_flag | cut_up | cut_na
    df["subject"] = df["structure_number"].astype(str) + "#" + new_segment.cumsum().astype(str)
    excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
    excluded["measure_between"] = int(cut_flag.sum())  # intervention flagged (Repair/Rehab/Replace/Insp. Variance)
    excluded["improved"] = int(cut_up.sum())  # rating went up without a flag
    excluded["missing_grade"] = int((~rated).sum())  # 'N' / blank ratings
    obs = df[rated].copy()
    size = obs.groupby("subject")["year"].transform("size")
    obs = obs[size > 1]
    obs["years"] = obs["year"] - obs.groupby("subject")["year"].transform("min")
    obs["grade"] = obs["grade"].astype(np.int64)
    obs = obs[["subject", "structure_number", "year", "years", "raw", "grade", "age10"]].reset_index(drop=True)
    nxt = obs["subject"].eq(obs["subject"].shift(-1)).to_numpy()
    i = np.flatnonzero(nxt)
    pairs = pd.DataFrame({
        "facility_id": obs["subject"].to_numpy()[i],
        "before": obs["grade"].to_numpy()[i],
        "after": obs["grade"].to_numpy()[i + 1],
        "interval_years": (obs["year"].to_numpy()[i + 1] - obs["year"].to_numpy()[i]).astype(float),
        "structure_number": obs["structure_number"].to_numpy()[i],
        "year": obs["year"].to_numpy()[i],
        "age10": obs["age10"].to_numpy()[i],  # bridge age / 10 at the earlier observation (covariate)
    })
    worse_ok = (pairs["after"] >= pairs["before"]).all()
    assert worse_ok, "segments never contain an improvement"
    source = f"FHWA National Bridge Inventory, Nebraska sample 1992–2018, item {component} (NBI 9–7→I, 6–5→II, 4→III, ≤3→IV)"
    return NbiPanel(obs, PairSet(pairs, excluded, (), source=source), component)
