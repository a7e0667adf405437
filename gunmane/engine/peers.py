"""類似団体 (peer municipalities): same kind of local government and same population band.

The grouping follows the spirit of 総務省's 類似団体別市町村財政指数表 (kind × population), simplified to the
kinds the reference data distinguishes: 中核市 and 施行時特例市 are not marked there, so they fall in 市
(the label says so). Pure computation over ReferenceFrames; no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gunmane.engine.indicator_types import PeerGroup, ReferenceFrames

# (key, label) — lower bound inclusive, upper bound exclusive; population of the fiscal year in question.
POPULATION_BANDS: tuple[tuple[int, str, str], ...] = (
    (0, "<5000", "人口5千人未満"),
    (5_000, "5000-10000", "人口5千～1万人"),
    (10_000, "10000-30000", "人口1万～3万人"),
    (30_000, "30000-50000", "人口3万～5万人"),
    (50_000, "50000-100000", "人口5万～10万人"),
    (100_000, "100000-200000", "人口10万～20万人"),
    (200_000, "200000-500000", "人口20万～50万人"),
    (500_000, "500000+", "人口50万人以上"),
)
UNKNOWN_BAND = ("unknown", "人口不明")

# Peer kind of each reference-data kind. core_city (中核市) is folded into city: the shipped reference data
# does not mark it, so keeping it separate would split cities inconsistently.
PEER_KIND: dict[str, str] = {
    "village": "village", "town": "town", "city": "city", "core_city": "city",
    "designated_city": "designated_city", "special_ward": "special_ward",
}
KIND_LABEL: dict[str, str] = {
    "village": "村",
    "town": "町",
    "city": "市（中核市・施行時特例市を区別しない）",
    "designated_city": "政令市",
    "special_ward": "特別区",
}
MUNICIPAL_KINDS = frozenset(PEER_KIND)


def municipal_codes(ref: ReferenceFrames) -> pd.Index:
    """lg_codes of the 1,741 municipalities (prefecture governments excluded), in reference order."""
    m = ref.municipalities
    return m.index[m["kind"].isin(MUNICIPAL_KINDS).to_numpy()]


def population_for_year(ref: ReferenceFrames, fiscal_year: int, codes: pd.Index) -> pd.Series:
    """Population of the fiscal year (stats), falling back to the municipalities frame (FY2024) when absent."""
    s = ref.stats
    year = s.loc[s["fiscal_year"] == fiscal_year, ["lg_code", "population"]].drop_duplicates("lg_code")
    pop = year.set_index("lg_code")["population"].reindex(codes).astype("float64")
    if "population" in ref.municipalities:
        fallback = ref.municipalities["population"].reindex(codes).astype("float64")
        pop = pop.fillna(fallback)
    return pop


def peer_keys(ref: ReferenceFrames, fiscal_year: int) -> pd.DataFrame:
    """peer_key and peer_label per municipality (index lg_code), vectorised — used by municipal_table."""
    codes = municipal_codes(ref)
    kind = ref.municipalities.loc[codes, "kind"].map(PEER_KIND).astype(str)
    pop = population_for_year(ref, fiscal_year, codes).to_numpy()
    bounds = np.array([b[0] for b in POPULATION_BANDS[1:]], dtype="float64")
    band_idx = np.searchsorted(bounds, pop, side="right")  # pop < 5000 → 0; 5000 → 1 …
    band_keys = np.array([b[1] for b in POPULATION_BANDS] + [UNKNOWN_BAND[0]], dtype=object)
    band_labels = np.array([b[2] for b in POPULATION_BANDS] + [UNKNOWN_BAND[1]], dtype=object)
    band_idx = np.where(np.isnan(pop), len(POPULATION_BANDS), band_idx)
    kinds = kind.to_numpy(dtype=object)
    key = kinds + ":" + band_keys[band_idx]
    label = pd.Series(kinds).map(KIND_LABEL).to_numpy(dtype=object) + "・" + band_labels[band_idx]
    return pd.DataFrame({"peer_key": key, "peer_label": label}, index=codes)


def peer_groups(ref: ReferenceFrames, fiscal_year: int) -> dict[str, PeerGroup]:
    """lg_code → its 類似団体 (same kind and population band of `fiscal_year`); members include itself."""
    keys = peer_keys(ref, fiscal_year)
    groups: dict[str, PeerGroup] = {}
    for key, frame in keys.groupby("peer_key", sort=False):
        groups[str(key)] = PeerGroup(str(key), str(frame["peer_label"].iat[0]), tuple(frame.index.astype(str)))
    return {code: groups[k] for code, k in zip(keys.index, keys["peer_key"], strict=True)}
