"""Levers as documented transformations of the contract set (束ねる手段).

The baseline orders work by the key (owner = each member, sector, work kind, fiscal year): each
municipality alone, per sector, per work kind, per year. Each lever rewrites key columns of the work rows:

| lever | transformation |
| --- | --- |
| 広域・一つの契約 (horizontal one_contract) | owner of the participating municipalities' rows → the group (ordered by the lead) |
| 広域・共同発注 (horizontal separate_contracts) | owners unchanged; rows get a joint-order id: the lead prepares the estimate, notice and tender once for all (``staff.joint_stage_factor``) |
| 垂直 (vertical) | the prefecture orders on behalf: owner → the prefecture (one_contract) or joint order led by the prefecture (separate_contracts) |
| 多分野 (multi_sector) | sector key → one key for the merged sectors (the dominant work type prices the works) |
| 契約年数 (years = n) | year key → blocks of n years (multi-year contract; caps scale with the years) |
| プロセス (process) | inspection, design and works of facilities → one kind; new Ⅲ found by the inspection are repaired within the same contract; lead time ``lead.days_process`` |
| データ (data) | estimate hours × ``staff.data_estimate_factor``; shared-ledger upkeep ``coord.data_h_per_member_year`` |
| 性能規定 (performance_spec) | routine tasks → lump-sum lots of at most ``cap.performance_lot_yen`` a year; supervision becomes monitoring |

A lever that cannot apply says why (e.g. 多分野 on a one-sector group) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gunmane.engine.effects.inputs import GroupInput, Lever, LeverKind

__all__ = ["LeverOutcome", "apply_levers", "baseline_keys"]

FACILITY_KINDS = ("inspection", "design", "works")
SECTOR_JA = {"road": "道路", "river": "河川", "sabo": "砂防", "coast": "海岸", "park": "公園", "sewer": "下水道",
             "water": "上水道", "port": "港湾"}


def _ja(sectors: list[str]) -> str:
    return "・".join(SECTOR_JA.get(s, s) for s in sectors)


@dataclass(frozen=True)
class LeverOutcome:
    kind: str
    label_ja: str
    applied: bool
    message_ja: str
    message_en: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label_ja": self.label_ja, "applied": self.applied, "message": self.message_ja}


@dataclass
class ScenarioState:
    """Flags the levers set beside the key columns."""

    data: bool = False
    collaboration: bool = False
    participants: set[str] | None = None  # members taking part in 広域 / 垂直 (they bear coordination work)
    joint_leads: dict[str, str] | None = None  # joint id → lead code
    owner_leads: dict[str, str] | None = None  # group owner id → lead code
    process: bool = False


def baseline_keys(rows: pd.DataFrame) -> pd.DataFrame:
    k = rows.copy()
    k["owner"] = k["member"]
    k["skey"] = k["sector"]
    k["kkey"] = k["kind"]
    k["ykey"] = k["year"]
    k["joint"] = ""
    k["perf"] = False
    k["bywt"] = False
    return k


def _no(lever: Lever, ja: str, en: str) -> LeverOutcome:
    return LeverOutcome(lever.kind.value, lever.label_ja, False, f"{lever.label_ja}: 適用できません — {ja}", en)


def _ok(lever: Lever, ja: str, en: str) -> LeverOutcome:
    return LeverOutcome(lever.kind.value, lever.label_ja, True, f"{lever.label_ja}: {ja}", en)


def _name(members: dict[str, Any], code: str) -> str:
    """A member's name for the texts the user reads (its code only when the name is unknown)."""
    m = members.get(code)
    return str(getattr(m, "name", "") or code)


def apply_levers(k: pd.DataFrame, group: GroupInput, levers: tuple[Lever, ...]) -> tuple[pd.DataFrame, ScenarioState, list[LeverOutcome]]:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    st = ScenarioState(joint_leads={}, owner_leads={}, participants=set())
    assert st.joint_leads is not None and st.owner_leads is not None and st.participants is not None
    out: list[LeverOutcome] = []
    members = {m.lg_code: m for m in group.members}
    prefs = [m.lg_code for m in group.members if m.is_prefecture]
    for lever in levers:
        kind = lever.kind
        if kind == LeverKind.HORIZONTAL:
            part = [c for c in (lever.members or [m.lg_code for m in group.members if not m.is_prefecture])
                    if c in members]
            if len(part) < 2:
                out.append(_no(lever, "広域連携には市町村が2団体以上必要です（この群の市町村は"
                               f"{len(part)}団体）。", "needs two or more municipalities"))
                continue
            lead = group.lead_code if group.lead_code in part else part[0]
            sel = k["member"].isin(part) & ~k["owner"].str.startswith("V:")
            if lever.mode == "one_contract":
                k.loc[sel, "owner"] = "H:group"
                st.owner_leads["H:group"] = lead
                msg = f"{len(part)}団体の同じ分野・作業・年度の発注を一つの契約にまとめました（代表団体 {_name(members, lead)}）。"
            else:
                k.loc[sel, "joint"] = "H"
                st.joint_leads["H"] = lead
                msg = f"{len(part)}団体が共同で発注し（積算・公告・入札は代表団体 {_name(members, lead)}）、契約は団体ごとに結びます。"
            st.collaboration = True
            st.participants.update(part)
            out.append(_ok(lever, msg, "applied"))
        elif kind == LeverKind.VERTICAL:
            if not prefs:
                out.append(_no(lever, "垂直連携には都道府県が構成団体に必要です（kind = \"prefecture\"）。",
                               "needs a prefecture member"))
                continue
            pref = prefs[0]
            if lever.mode == "one_contract":
                k["owner"] = "V:" + pref
                st.owner_leads["V:" + pref] = pref
                msg = f"{_name(members, pref)}が構成団体に代わって一つの契約で発注します（事務の委託・代替執行など）。"
            else:
                k["joint"] = "V"
                st.joint_leads["V"] = pref
                msg = f"{_name(members, pref)}が積算・公告・入札を担い、同じ受注者と団体ごとに契約します。"
            st.collaboration = True
            st.participants.update(members)
            out.append(_ok(lever, msg, "applied"))
        elif kind == LeverKind.MULTI_SECTOR:
            present = sorted(set(k["skey"]))
            merge = [s for s in present if not lever.sectors or s in lever.sectors]
            if len(merge) < 2:
                out.append(_no(lever, f"束ねる分野が1つしかありません（対象の分野: {_ja(present) or 'なし'}）。",
                               "only one sector"))
                continue
            merged = k["skey"].isin(merge)
            k.loc[merged, "skey"] = "+".join(merge)
            if lever.pricing == "by_work_type":
                k.loc[merged, "bywt"] = True
                how = "工事は工種区分ごとにその諸経費率で積算し合算"
            else:
                how = "工事は金額の大きい工種区分で積算"
            out.append(_ok(lever, f"{_ja(merge)} を同じ契約にまとめました（{how}）。", "applied"))
        elif kind == LeverKind.YEARS:
            if lever.years < 2 or group.horizon_years < 2:
                out.append(_no(lever, "2年以上の契約期間と2年度以上の試算期間が必要です。", "needs ≥ 2 years"))
                continue
            s = group.start_fiscal_year
            k["ykey"] = s + ((k["year"] - s) // lever.years) * lever.years
            out.append(_ok(lever, f"{lever.years}年ごとの複数年契約にしました（債務負担行為が必要）。", "applied"))
        elif kind == LeverKind.PROCESS:
            fac = k["kind"].isin(FACILITY_KINDS)
            repairs = k["kind"].isin(("design", "works"))
            if not fac.any() or not repairs.any():
                out.append(_no(lever, "点検・設計・工事を束ねる施設の作業（Ⅲ・Ⅳの施設や新たなⅢの見込み）がありません。",
                               "no facility repair work"))
                continue
            k.loc[fac, "kkey"] = "process"
            st.process = True
            out.append(_ok(lever, "点検・診断・設計・工事を一つの契約にし、点検で見つかったⅢはその契約の中で修繕します。",
                           "applied"))
        elif kind == LeverKind.DATA:
            if len(group.members) < 2:
                out.append(_no(lever, "データを束ねる（共有台帳）には2団体以上が必要です。", "needs two members"))
                continue
            st.data = True
            out.append(_ok(lever, "共有台帳で発注準備（積算）の時間を減らし、台帳の維持の時間を加えました。", "applied"))
        elif kind == LeverKind.PERFORMANCE_SPEC:
            routine = k["kind"] == "routine"
            if not routine.any():
                out.append(_no(lever, "日常維持（道路延長・公園面積）の作業がないため、性能規定の包括契約にできません。",
                               "no routine maintenance"))
                continue
            k.loc[routine, "perf"] = True
            out.append(_ok(lever, "日常維持を要求水準による総価の包括契約にしました（上限を超える工事は別途発注）。", "applied"))
    return k, st, out
