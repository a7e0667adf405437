"""What a generated group document is made from: plain, typed data assembled by the web/CLI layer from
the database (group, members, カルテ figures, effect scenario, lots). The writers in this package turn
it into .docx (python-docx) and PDF (reportlab) without touching the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["DocumentInput", "EffectSummary", "FacilityRow", "LotInfo", "MechanismInfo", "MemberInfo",
           "ScheduleItem"]


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
    cost_share: float | None = None            # share of the group's cost (0–1) by the chosen rule
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
class EffectSummary:
    """Baseline vs. the chosen scenario from the effect estimation (効果試算)."""

    scenario_name: str
    baseline_contracts: float
    scenario_contracts: float
    baseline_price_yen: float
    scenario_price_yen: float
    baseline_staff_hours: float
    scenario_staff_hours: float
    per_member: tuple[tuple[str, float, float], ...] = ()   # (member name, baseline yen, scenario yen)
    assumptions: tuple[str, ...] = ()
    source: str = ""
    period_ja: str = ""      # the period the totals cover, e.g. 「2027〜2031年度の5年間（合計）」; "" = not stated


@dataclass(frozen=True)
class ScheduleItem:
    fiscal_year: int
    item: str


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
    grade: str = ""        # Ⅰ–Ⅳ or "" (未点検)
    lat: float | None = None
    lon: float | None = None


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
    cost_share_rule_ja: str
    bundles: tuple[tuple[str, str], ...] = ()        # (束, what the group does) e.g. ("自治体の束", "…")
    levers: tuple[str, ...] = ()                     # 複数年契約, プロセスの束, データの共有, 性能規定 …
    effects: EffectSummary | None = None             # None: not yet computed (the documents say so)
    lots: tuple[LotInfo, ...] = ()
    data_policy_ja: str = "各団体の施設データの所有権は各団体に帰属し、群の構成団体は群の業務に必要な範囲で共有する。"
    term_years: int = 3
    synthetic: bool = False                          # the figures include synthetic (demo) facilities
    version: int = 1
    notes: tuple[str, ...] = field(default=())
