"""見える化 / 現状把握 indicators (visualisation / current-state assessment) — pure computation.

Reference indicators (population, 土木費, bridges from 道路メンテナンス年報 …) exist for all 1,741
municipalities; ledger indicators (ageing, condition, backlog) where a municipality has loaded its 施設台帳.
Every indicator is declared as data in INDICATORS and documented in docs/indicators.md.

    ref = gunmane.io.shipped.refdata.reference_frames()   # the io layer builds the frames from the shipped tables
    table = municipal_table(ref, ledger, fiscal_year=2024, as_of=date(2025, 3, 31))
    k = karte(municipality_scope(ref, "292125"), ref, ledger, fiscal_year=2024, as_of=..., table=table)
"""

from gunmane.engine.indicators.api import (
    MIN_COMPARABLE,
    assumptions,
    group_scope,
    karte,
    municipal_table,
    municipality_scope,
    national_scope,
    prefecture_scope,
    restrict_ledger,
)
from gunmane.engine.indicators.definitions import (
    FIVE_YEAR_CYCLE_TYPES,
    INDICATOR_BY_ID,
    INDICATORS,
    LEDGER_IDS,
    NATIONAL_BACKLOG_5Y_SHARE,
    REFERENCE_IDS,
)
from gunmane.engine.indicators.frames import empty_ledger
from gunmane.engine.peers import peer_groups

__all__ = [
    "FIVE_YEAR_CYCLE_TYPES",
    "INDICATORS",
    "INDICATOR_BY_ID",
    "MIN_COMPARABLE",
    "LEDGER_IDS",
    "NATIONAL_BACKLOG_5Y_SHARE",
    "REFERENCE_IDS",
    "assumptions",
    "empty_ledger",
    "group_scope",
    "karte",
    "municipal_table",
    "restrict_ledger",
    "municipality_scope",
    "national_scope",
    "peer_groups",
    "prefecture_scope",
]
