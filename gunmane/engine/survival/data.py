"""Service lives (供用年数) from install and renewal years, with censoring, truncation and exclusions counted.

One record is one service life of one asset: installed in fiscal year ``install_year``, renewed (更新) or removed
(撤去) in ``renewal_year`` — or still in service (``None``/NaN), then right-censored at ``observed_until`` (the
last fiscal year the records cover). ``observed_from`` is the first fiscal year of the records when they do not
go back to the install year (a ledger started in 2000 cannot show the pipes of 1960 that were renewed in 1990:
the pipes of 1960 it does show are the ones that survived to 2000). Such a life enters the likelihood at its
age in ``observed_from`` (left truncation); without it every life is observed from its install year.

Ages are differences of fiscal years (a pipe of FY1980 renewed in FY2020 served 40 years), the resolution of a
ledger and the unit of 法定耐用年数. Float years are accepted too (simulations, ledgers with dates).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gunmane.engine.survival.errors import InvalidLives

__all__ = ["EXCLUSION_REASONS", "LifeRecord", "Lives", "ServiceLives", "service_lives"]

FloatArray = NDArray[np.float64]

# Why a record was left out; every key is always present in ``excluded``.
EXCLUSION_REASONS: dict[str, str] = {
    "missing_install_year": "設置年度が空欄または「不明」の施設（供用年数が分からない）",
    "missing_renewal_year": "更新・撤去したが年度が「不明」の施設（供用年数が分からない）",
    "installed_after_observation": "設置年度が観測終了年度より後の施設",
    "renewal_before_install": "更新・撤去年度が設置年度より前の施設（記録の誤り）",
    "renewed_in_install_year": "設置した年度に更新・撤去された施設（供用年数0年）",
    "renewed_before_records": "記録開始より前に更新・撤去された施設（記録開始後に残っていた施設だけが観測される前提に合わない）",
    "no_exposure": "観測できた期間が0年の施設（観測終了の年度に設置、または記録開始の年度で観測が終わる）",
}


@dataclass(frozen=True)
class LifeRecord:
    """One service life: asset id, install year, renewal (or removal) year or None, the last year observed, and
    the first year of the records (None: observed since installation)."""

    asset_id: str
    install_year: float | None
    renewal_year: float | None
    observed_until: float
    observed_from: float | None = None


@dataclass(frozen=True)
class ServiceLives:
    """Records as arrays (NaN = unknown install year / still in service / observed since installation)."""

    asset_id: NDArray[Any]
    install_year: FloatArray
    renewal_year: FloatArray
    observed_until: FloatArray
    observed_from: FloatArray
    source: str = ""
    renewal_unknown: NDArray[np.bool_] | None = None  # renewed or removed, but the year is 「不明」

    def __post_init__(self) -> None:
        n = len(self.asset_id)
        names = ("install_year", "renewal_year", "observed_until", "observed_from")
        for name in names + (("renewal_unknown",) if self.renewal_unknown is not None else ()):
            if len(getattr(self, name)) != n:
                raise InvalidLives("length_mismatch", f"施設IDと{_JA[name]}の件数が違います。",
                                   f"{name} does not have one value per asset.", column=name)
        if np.isnan(self.observed_until).any():
            raise InvalidLives("missing_observed_until", "観測終了年度が空欄の施設があります。",
                               "observed_until is missing for some assets.", column="observed_until")

    @classmethod
    def from_records(cls, records: Iterable[LifeRecord], source: str = "") -> ServiceLives:
        rows = list(records)

        def col(name: str) -> FloatArray:
            return np.array([np.nan if getattr(r, name) is None else float(getattr(r, name)) for r in rows],
                            dtype=np.float64)

        return cls(np.array([r.asset_id for r in rows], dtype=object), col("install_year"), col("renewal_year"),
                   col("observed_until"), col("observed_from"), source)

    @classmethod
    def from_arrays(cls, install_year: Sequence[float] | FloatArray, renewal_year: Sequence[float] | FloatArray,
                    observed_until: float | Sequence[float] | FloatArray, *,
                    observed_from: float | Sequence[float] | FloatArray | None = None,
                    asset_id: Sequence[str] | None = None, renewal_unknown: Sequence[bool] | None = None,
                    source: str = "") -> ServiceLives:
        """Arrays (NaN = unknown / in service); scalars of observed_until / observed_from apply to every asset;
        ``renewal_unknown`` marks the assets renewed in a year nobody recorded (left out, counted)."""
        inst = np.asarray(install_year, dtype=np.float64)
        n = inst.size
        ids = np.asarray(asset_id if asset_id is not None else [str(i + 1) for i in range(n)], dtype=object)
        until = np.broadcast_to(np.asarray(observed_until, dtype=np.float64), (n,)).copy()
        since = np.full(n, np.nan) if observed_from is None else \
            np.broadcast_to(np.asarray(observed_from, dtype=np.float64), (n,)).copy()
        unknown = None if renewal_unknown is None else np.asarray(renewal_unknown, dtype=bool)
        return cls(ids, inst, np.asarray(renewal_year, dtype=np.float64), until, since, source, unknown)

    def __len__(self) -> int:
        return len(self.asset_id)


_JA = {"install_year": "設置年度", "renewal_year": "更新年度", "observed_until": "観測終了年度",
       "observed_from": "記録開始年度", "renewal_unknown": "更新年度「不明」の印"}


@dataclass(frozen=True)
class Lives:
    """What the likelihood uses: per life the age at entry (0, or the age when the records began), the age at
    exit (renewal, or the end of observation) and whether the exit is a renewal; exclusions counted."""

    entry: FloatArray
    exit: FloatArray
    event: NDArray[np.bool_]
    asset_id: NDArray[Any]
    excluded: Mapping[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def n(self) -> int:
        return int(self.exit.size)

    @property
    def n_events(self) -> int:
        return int(self.event.sum())

    @property
    def n_truncated(self) -> int:
        return int((self.entry > 0).sum())


def service_lives(data: ServiceLives) -> Lives:
    """Ages at entry and exit with the rules of the module docstring; records that cannot enter are counted per
    reason (EXCLUSION_REASONS). A renewal after ``observed_until`` is censored there (in service at that date)."""
    inst, ren, until, since = data.install_year, data.renewal_year, data.observed_until, data.observed_from
    excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
    keep = np.ones(len(data), dtype=bool)

    def drop(reason: str, mask: NDArray[np.bool_]) -> None:
        hit = mask & keep
        excluded[reason] += int(hit.sum())
        keep[hit] = False

    with np.errstate(invalid="ignore"):
        drop("missing_install_year", np.isnan(inst))
        if data.renewal_unknown is not None:
            drop("missing_renewal_year", data.renewal_unknown)
        drop("installed_after_observation", inst > until)
        drop("renewal_before_install", ren < inst)
        drop("renewed_in_install_year", ren == inst)
        event = ~np.isnan(ren) & (ren <= until)
        end = np.where(event, ren, until)
        start = np.where(np.isnan(since), inst, np.maximum(since, inst))
        drop("renewed_before_records", event & (ren < start))
        drop("no_exposure", end <= start)
    return Lives(entry=(start - inst)[keep], exit=(end - inst)[keep], event=event[keep],
                 asset_id=data.asset_id[keep], excluded=excluded, source=data.source)
