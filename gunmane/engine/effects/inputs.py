"""Typed inputs of the effects engine: the group's members, its ledger, the scenarios and their levers.

The CLI / io layer builds these from the database and the scenario file; the engine never reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gunmane.engine.effects.errors import InvalidInput

__all__ = ["STATUTORY_TYPES", "Facility", "GroupInput", "Lever", "LeverKind", "Member", "Scenario"]

# 道路法施行規則: 5-yearly close visual inspection (vocab inspection_cycle_years = 5)
STATUTORY_TYPES = frozenset({"bridge", "tunnel", "footbridge", "culvert", "sign_gantry", "shed"})


@dataclass(frozen=True)
class Facility:
    """施設: one ledger row. ``latest_grade`` 1–4 (健全性Ⅰ〜Ⅳ) or None (never inspected)."""

    id: str
    lg_code: str
    sector: str
    facility_type: str
    length_m: float | None = None
    area_m2: float | None = None
    lat: float | None = None
    lon: float | None = None
    latest_inspection_fy: int | None = None
    latest_grade: int | None = None
    is_synthetic: bool = False

    def __post_init__(self) -> None:
        if self.latest_grade is not None and self.latest_grade not in (1, 2, 3, 4):
            raise InvalidInput("invalid_grade", f"施設 {self.id}: 健全性は 1〜4（Ⅰ〜Ⅳ）です（値: {self.latest_grade}）。",
                               f"Facility {self.id}: grade must be 1–4 (got {self.latest_grade}).", field="latest_grade")


@dataclass(frozen=True)
class Member:
    """A member of the group (団体). ``kind`` "prefecture" marks the prefecture of vertical collaboration.

    ``routine_tasks`` / ``routine_direct_yen``: observed routine-maintenance orders per sector and year
    (e.g. 下田市 road: about 40 individual contracts a year) — override the values derived from road
    length and park area.

    ``population`` and ``agreed_share`` are the weights of the cost-share rules 人口割 (``population``) and
    協定で定める割合 (``agreed``); None = unknown (a rule that needs it refuses, naming the member).
    """

    lg_code: str
    name: str
    kind: str = "municipality"
    office_lat: float | None = None
    office_lon: float | None = None
    road_length_km: float = 0.0
    park_area_m2: float = 0.0
    routine_tasks: Mapping[str, int] = field(default_factory=dict)
    routine_direct_yen: Mapping[str, float] = field(default_factory=dict)
    population: float | None = None
    agreed_share: float | None = None

    @property
    def is_prefecture(self) -> bool:
        return self.kind == "prefecture"


class LeverKind(StrEnum):
    HORIZONTAL = "horizontal"  # 広域連携（水平）
    VERTICAL = "vertical"  # 広域連携（垂直）
    MULTI_SECTOR = "multi_sector"  # 多分野連携
    YEARS = "years"  # 契約年数を束ねる
    PROCESS = "process"  # プロセスを束ねる
    DATA = "data"  # データを束ねる
    PERFORMANCE_SPEC = "performance_spec"  # 性能規定


LEVER_LABELS = {
    LeverKind.HORIZONTAL: "広域連携（水平）", LeverKind.VERTICAL: "広域連携（垂直）", LeverKind.MULTI_SECTOR: "多分野連携",
    LeverKind.YEARS: "契約年数を束ねる", LeverKind.PROCESS: "プロセスを束ねる", LeverKind.DATA: "データを束ねる",
    LeverKind.PERFORMANCE_SPEC: "性能規定",
}
HORIZONTAL_MODES = ("one_contract", "separate_contracts")
MULTI_SECTOR_PRICING = ("dominant", "by_work_type")


@dataclass(frozen=True)
class Lever:
    """One lever: ``mode`` for 広域 ("one_contract" or "separate_contracts"), ``years`` for 契約年数,
    ``members`` to restrict 広域 to some members (default all), ``sectors`` to restrict 多分野; ``pricing`` for
    多分野: "dominant" (the contract's works priced by the rates of its largest work type, 主たる工種) or
    "by_work_type" (each work type's part priced by its own rates at the bundle's scale, 分野ごとの積算)."""

    kind: LeverKind
    mode: str = "one_contract"
    years: int = 0
    members: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    pricing: str = "dominant"

    def __post_init__(self) -> None:
        if self.kind in (LeverKind.HORIZONTAL, LeverKind.VERTICAL) and self.mode not in HORIZONTAL_MODES:
            raise InvalidInput("invalid_lever_mode", f"{LEVER_LABELS[self.kind]} の mode は one_contract（一つの契約）か "
                               f"separate_contracts（共同発注・契約は団体ごと）です（値: {self.mode}）。",
                               f"mode must be one of {HORIZONTAL_MODES} (got {self.mode}).", field="mode")
        if self.kind == LeverKind.MULTI_SECTOR and self.pricing not in MULTI_SECTOR_PRICING:
            raise InvalidInput("invalid_lever_pricing", "多分野連携の pricing は dominant（主たる工種の率で積算）か "
                               f"by_work_type（工種区分ごとにその率で積算）です（値: {self.pricing}）。",
                               f"pricing must be one of {MULTI_SECTOR_PRICING} (got {self.pricing}).", field="pricing")
        if self.kind == LeverKind.YEARS and self.years < 1:
            raise InvalidInput("invalid_lever_years", "契約年数を束ねる: years に 2 以上の年数を指定してください。",
                               "years lever: give years ≥ 2.", field="years")

    @property
    def label_ja(self) -> str:
        base = LEVER_LABELS[self.kind]
        if self.kind in (LeverKind.HORIZONTAL, LeverKind.VERTICAL):
            return f"{base}・{'一つの契約' if self.mode == 'one_contract' else '共同発注（契約は団体ごと）'}"
        if self.kind == LeverKind.YEARS:
            return f"{base}（{self.years}年）"
        return base


@dataclass(frozen=True)
class Scenario:
    name: str
    levers: tuple[Lever, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class GroupInput:
    """The group: members, their facilities and the horizon (fiscal years start … start + years − 1)."""

    members: tuple[Member, ...]
    facilities: tuple[Facility, ...]
    start_fiscal_year: int
    horizon_years: int = 5
    lead: str | None = None
    sectors: tuple[str, ...] = ()  # restrict to these sectors (empty = all in the ledger)
    name: str = ""
    by_sector: bool = False  # report each scenario's lines per sector (分野ごとの内訳)

    def __post_init__(self) -> None:
        if not self.members:
            raise InvalidInput("no_members", "群の構成団体がありません。", "The group has no members.", field="members")
        codes = [m.lg_code for m in self.members]
        if len(set(codes)) != len(codes):
            raise InvalidInput("duplicate_member", "構成団体の団体コードが重複しています。", "Duplicate member codes.",
                               field="members")
        if self.lead is not None and self.lead not in codes:
            raise InvalidInput("lead_not_member", f"代表団体 {self.lead} が構成団体にありません。",
                               f"Lead {self.lead} is not a member.", field="lead")
        if not 1 <= self.horizon_years <= 30:
            raise InvalidInput("invalid_horizon", "試算期間は 1〜30 年度です。", "Horizon must be 1–30 years.",
                               field="horizon_years")
        unknown = sorted({f.lg_code for f in self.facilities} - set(codes))
        if unknown:
            raise InvalidInput("facility_of_non_member", f"構成団体でない団体（{'、'.join(unknown[:5])}）の施設が含まれています。",
                               f"Facilities of non-members: {', '.join(unknown[:5])}.", field="facilities")

    @property
    def lead_code(self) -> str:
        if self.lead:
            return self.lead
        munis = [m for m in self.members if not m.is_prefecture]
        return (munis or list(self.members))[0].lg_code

    @property
    def years(self) -> range:
        return range(self.start_fiscal_year, self.start_fiscal_year + self.horizon_years)
