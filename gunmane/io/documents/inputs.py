"""What a generated group document is made from: plain, typed data assembled by the web/CLI layer from
the database (group, members, カルテ figures, effect scenario, lots). The writers in this package turn
it into .docx (python-docx) and PDF (reportlab) without touching the database.

One truth: every figure a document states about money, contracts, staff-hours, shares and the period comes
from :class:`EffectSummary` — the chosen scenario's result as the effects engine computed it (the same result
the 効果試算 page, its Excel and ``gunmane effects`` show) — and the schedule, whose years follow the scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["CostShare", "DocumentInput", "EffectSummary", "FacilityRow", "LotInfo", "MechanismInfo", "MemberEffect",
           "MemberInfo", "ScheduleItem"]


@dataclass(frozen=True)
class MemberInfo:
    """A member of the group with the figures its カルテ shows (None = unknown, printed as 「不明」)."""

    lg_code: str
    name: str
    kind_ja: str                       # 市 / 町 / 村 / 都道府県 …
    role_ja: str                       # 幹事 / 構成団体 / 都道府県（支援） / オブザーバー
    population: int | None = None
    bridges: int | None = None         # bridges in the ledger (or inspected, from the reference data)
    bridges_iii_iv: int | None = None
    share_50y: float | None = None     # share of bridges 50+ years old (0–1)
    civil_engineers: int | None = None
    civil_expenditure_yen: int | None = None
    delegated_tasks: tuple[str, ...] = ()      # tasks this member hands to the group / lead / prefecture
    kept_judgements: tuple[str, ...] = ()      # judgements the owner (本来管理者) keeps
    plans: tuple[str, ...] = ()                # 公共施設等総合管理計画 / 個別施設計画 (titles or URLs)


@dataclass(frozen=True)
class MechanismInfo:
    """The legal mechanism under the Local Autonomy Act (or a plain agreement)."""

    key: str             # agreement / council / joint_organ / delegation / substitute / partnership / association / union
    name_ja: str         # 協定・覚書, 協議会, 機関等の共同設置, 事務の委託, 事務の代替執行, 連携協約, 一部事務組合, 広域連合
    article_ja: str      # 地方自治法第252条の2の2 …, or "" for a plain agreement
    authority_ja: str    # who keeps the authority under it
    needs_resolution: bool


@dataclass(frozen=True)
class MemberEffect:
    """One member's figures in the baseline and in the chosen scenario (its price is its share of the cost)."""

    lg_code: str
    name: str
    baseline_price_yen: float
    scenario_price_yen: float
    baseline_contracts: float = 0.0
    scenario_contracts: float = 0.0
    baseline_staff_hours: float = 0.0
    scenario_staff_hours: float = 0.0


@dataclass(frozen=True)
class EffectSummary:
    """Baseline vs. the chosen scenario from the effect estimation (効果試算), over its fiscal years."""

    scenario_name: str
    start_fiscal_year: int
    horizon_years: int
    baseline_contracts: float
    scenario_contracts: float
    baseline_price_yen: float
    scenario_price_yen: float
    baseline_staff_hours: float
    scenario_staff_hours: float
    per_member: tuple[MemberEffect, ...] = ()
    assumptions: tuple[str, ...] = ()
    source: str = ""
    scenario_index: int = 0

    @property
    def end_fiscal_year(self) -> int:
        return self.start_fiscal_year + self.horizon_years - 1

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.start_fiscal_year, self.end_fiscal_year + 1))

    @property
    def period_ja(self) -> str:
        """The period the totals cover: 「2027〜2031年度の5年間の合計」."""
        if self.horizon_years == 1:
            return f"{self.start_fiscal_year}年度の1年間の合計"
        return f"{self.start_fiscal_year}〜{self.end_fiscal_year}年度の{self.horizon_years}年間の合計"


@dataclass(frozen=True)
class CostShare:
    """How the members share the cost of what they order together (the rule the effects engine applied)."""

    rule: str                          # facility_count / length_area / equal_facility / population / agreed / …
    name_ja: str                       # 施設数割 …
    explanation_ja: str                # one sentence (gunmane/data/effects/share_rules.csv)
    equal_part: float | None = None    # 均等割の割合 (0–1) of the 均等割 rules
    agreed: tuple[tuple[str, float], ...] = ()   # (member name, agreed %) of 協定で定める割合

    @property
    def label_ja(self) -> str:
        """「均等割＋施設割（均等割 50%）」, 「協定で定める割合（宇陀市 40%・曽爾村 20% …）」."""
        if self.equal_part is not None:
            return f"{self.name_ja}（均等割 {self.equal_part:.0%}）"
        if self.agreed:
            return f"{self.name_ja}（{'・'.join(f'{n} {p:g}%' for n, p in self.agreed)}）"
        return self.name_ja


@dataclass(frozen=True)
class ScheduleItem:
    """A row of the schedule. ``in_period``: the year belongs to the period of the work (the scenario's years);
    the year before it (policy, agreement, budget) does not."""

    fiscal_year: int
    item: str
    in_period: bool = True


@dataclass(frozen=True)
class FacilityRow:
    lg_code: str
    manager_name: str
    facility_id: str
    name: str
    facility_type_ja: str
    route: str = ""
    built_year: int | None = None
    length_m: float | None = None
    grade: str = ""        # the grade on the facility type's own scale (Ⅰ–Ⅳ, A–D, a–d, 緊急度Ⅱ …) or "" (未点検)
    lat: float | None = None
    lon: float | None = None
    sector_ja: str = ""    # 分野 (道路・公園・河川・下水道 …): a 多分野 lot names its facilities per sector


@dataclass(frozen=True)
class LotInfo:
    """A designed lot (one contract): its facilities, tasks and performance requirements."""

    lot_id: str
    name: str
    facilities: tuple[FacilityRow, ...]
    tasks: tuple[str, ...]                                   # 点検, 診断, 補修設計, 巡回, 清掃, 除草 …
    service_levels: tuple[tuple[str, str], ...] = ()         # (task, required level) for performance-based items
    per_task_cap_yen: int | None = None                      # tasks above the cap are ordered separately
    reporting: tuple[str, ...] = ()                          # reports and monitoring
    term_years: int = 1
    estimated_price_yen: float | None = None


@dataclass(frozen=True)
class DocumentInput:
    """Everything the 実施方針, 協定書 and 仕様書 are built from."""

    group_name: str
    prepared_on: date
    members: tuple[MemberInfo, ...]
    collaboration_types_ja: tuple[str, ...]
    sectors_ja: tuple[str, ...]
    work_kinds_ja: tuple[str, ...]
    mechanism: MechanismInfo
    target_area_ja: str
    issues: tuple[str, ...]
    schedule: tuple[ScheduleItem, ...]
    cost_share: CostShare
    bundles: tuple[tuple[str, str], ...] = ()        # (束, what the group does) e.g. ("自治体の束", "…")
    levers: tuple[str, ...] = ()                     # 複数年契約, プロセスの束, データの共有, 性能規定 …
    effects: EffectSummary | None = None             # None: not yet computed (the documents say so)
    effects_note: str = ""                           # why there is no effect although a scenario exists
    lots: tuple[LotInfo, ...] = ()
    data_policy_ja: str = "各団体の施設データの所有権は各団体に帰属し、群の構成団体は群の業務に必要な範囲で共有する。"
    synthetic: bool = False                          # the figures include synthetic (demo) facilities
    version: int = 1
    author_ja: str = ""                              # 作成者: the person and organisation (「山田 太郎（宇陀市）」)
    notes: tuple[str, ...] = field(default=())

    @property
    def period(self) -> tuple[ScheduleItem, ...]:
        """The schedule's years of the work itself, in order."""
        return tuple(sorted((s for s in self.schedule if s.in_period), key=lambda s: s.fiscal_year))

    @property
    def period_start(self) -> int | None:
        return self.period[0].fiscal_year if self.period else None

    @property
    def period_end(self) -> int | None:
        return self.period[-1].fiscal_year if self.period else None

    @property
    def period_years(self) -> int:
        return len(self.period)
